import { existsSync } from "node:fs";
import { constants } from "node:os";
import { isMainThread } from "node:worker_threads";
import type { EventLoop, Future, ProcessDriver, ProcessHandle, ProcessProtocols, ProcessStdio, ReadTransport, SpawnOptions, WriteTransport } from "@loop/core";
import { READABLE, REAP_FAILED, native, nativeLoadError, type NativeSelector } from "./native.js";
import { SelectorReadPipe, SelectorWritePipe } from "./pipes.js";
import type { ReactorClient, Reactor } from "./reactor.js";
import type { SelectorPoller } from "./selector-poller.js";

/** How spawn.c is told what each standard stream gets (a number >= 0: that descriptor). */
const INHERIT = -1;
const PIPE = -2;
const DEVNULL = -3;
const STDOUT = -4;

const signalsByName: Readonly<Record<string, number>> = constants.signals as unknown as Record<string, number>;
const knownSignals = new Set(Object.values(signalsByName));

/** Why the addon cannot spawn children here (its probe, made once per process), or null when it can. */
export function spawnUnsupportedReason(native: NativeSelector): string | null {
  const reason = native.spawnSupport();
  return reason === "" ? null : reason;
}

/**
 * Why `SelectorPoller` offers no `processes` in this process (the addon is not loaded, not
 * Linux 5.4 or later, a C library without `posix_spawn_file_actions_addchdir_np`), or null
 * when it does. Without them `@loop/process` uses `node:child_process`.
 * @example
 * if (processesUnavailableReason() !== null) console.warn(`spawning through node:child_process: ${processesUnavailableReason()}`);
 */
export function processesUnavailableReason(): string | null {
  if (native === null) return `the native selector is not available (${nativeLoadError?.message ?? "unknown reason"})`;
  return spawnUnsupportedReason(native);
}

/** Children started and not reaped yet, in this thread: for `SelectorProcessDriver.settled()`. */
const live = new Set<SelectorChild>();
let settledWaiters: (() => void)[] = [];

/**
 * Where a child's pidfd goes when its poller closes before the child was reaped: records
 * for it are handled at once, inside the selector's batch, with no loop to run them (the
 * child was killed by then; only the reaping is left). Registered with no reactor, so it
 * never resumes anything.
 */
const orphanage: ReactorClient = {
  _queue(target, kind, a, b, data) {
    target.handleEvent(kind, a, b, data);
  },
  _maybeResume() {},
  _deadline: Infinity,
  _wakeRequested: false,
};

/**
 * Child processes started natively by the selector's addon: `SelectorPoller.processes`,
 * which `@loop/process` picks up by itself. `posix_spawn` (a vfork-style clone: no copy of
 * Node's page tables, exec errors such as ENOENT reported at the call), the parent's pipe
 * ends carried by the selector like its sockets, and a pidfd in the epoll set that tells
 * when to reap the child with `waitid(P_PIDFD)`. Linux only (5.4 or later, glibc 2.29 or
 * later, or musl); elsewhere the poller offers no `processes` and `@loop/process` uses
 * `node:child_process`.
 *
 * Invariant: a child is in `live` from its start until it is reaped, whether its loop is
 * still open or not; its pidfd stays open (and watched) exactly as long.
 */
export class SelectorProcessDriver implements ProcessDriver {
  /** @internal */
  constructor(
    private readonly _poller: SelectorPoller,
    private readonly _reactor: Reactor,
  ) {}

  /**
   * Resolves once every child started through a `SelectorPoller` in this thread has exited
   * and been reaped, including those whose loop closed first: for test teardown.
   * @example
   * afterEach(() => SelectorProcessDriver.settled());
   */
  static settled(): Promise<void> {
    if (live.size === 0) return Promise.resolve();
    return new Promise((resolve) => settledWaiters.push(resolve));
  }

  /** How many children started through a `SelectorPoller` in this thread are not reaped yet. */
  static get running(): number {
    return live.size;
  }

  /**
   * Starts `options.program` and connects its pipes to `protocols` on `loop`, whose poller
   * must be this driver's: the `ProcessDriver` method that `createSubprocessExec` calls,
   * not one to call yourself. The future is settled before this returns: with the handle,
   * or with the error of a child that could not start (`code` ENOENT, EACCES, …).
   */
  spawn(loop: EventLoop, options: SpawnOptions, protocols: ProcessProtocols): Future<ProcessHandle> {
    const future = loop.createFuture<ProcessHandle>();
    if (loop.poller !== (this._poller as unknown)) {
      future.setException(new Error("SelectorProcessDriver.spawn: the loop's poller is not the SelectorPoller this driver belongs to"));
      return future;
    }
    const stdio = spawnStdio;
    stdio[0] = code(options.stdin);
    stdio[1] = code(options.stdout);
    stdio[2] = code(options.stderr);
    const native = this._reactor.native;
    const rc = native.spawn(options.program, [options.program, ...options.args], environment(options.env), options.cwd ?? null, stdio, options.startNewSession, spawned);
    if (rc < 0) {
      future.setException(spawnError(-rc, options));
      return future;
    }
    const pid = spawned[0] as number;
    const pidfd = spawned[1] as number;
    const watching = native.watch(pidfd, 1);
    if (watching < 0) {
      // The epoll set is full (ENOSPC: fs.epoll.max_user_watches): a child nobody would
      // reap must not run on. Killed, it is reaped at once.
      process.kill(pid, "SIGKILL");
      native.reap(pidfd, true);
      native.closeFd(pidfd);
      // Stryker disable next-line EqualityOperator,ConditionalExpression: a 6th slot reads undefined (never >= 0), closing -1 is EBADF and nothing more; Node keeps descriptors 0-2 open, so a pipe end of ours is never 0
      for (let i = 2; i < 5; i++) if ((spawned[i] as number) >= 0) native.closeFd(spawned[i] as number);
      future.setException(spawnError(-watching, options));
      return future;
    }
    const handle = new SelectorChild(this._poller, this._reactor, loop, spawned, protocols);
    future.setResult(handle);
    return future;
  }
}

// Reused by every spawn: the addon reads the first and fills the second before it returns.
const spawnStdio = new Int32Array(3);
const spawned = new Int32Array(5);

function code(choice: ProcessStdio): number {
  switch (choice) {
    case "pipe":
      return PIPE;
    case "inherit":
      return INHERIT;
    case "devnull":
      return DEVNULL;
    case "stdout":
      return STDOUT;
    default:
      return choice;
  }
}

/**
 * The child's environment as `NAME=value` strings, or null for this process's own. In the
 * main thread `process.env` is the process's environment, which the addon passes on as it
 * is; a worker's `process.env` is a copy of its own, so it is spelled out (as Node does).
 */
function environment(env: Readonly<Record<string, string>> | undefined): string[] | null {
  if (env === undefined && isMainThread) return null;
  const source = env ?? (process.env as Record<string, string | undefined>);
  const pairs: string[] = [];
  for (const name in source) {
    const value = source[name];
    // Stryker disable next-line ConditionalExpression: an env checked by @loop/process, and process.env, hold strings only; the check is for the type
    if (value !== undefined) pairs.push(`${name}=${value}`);
  }
  return pairs;
}

const REASONS: Record<string, string> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied (is it executable?)",
  EMFILE: "too many open files",
  EAGAIN: "the system cannot start another process now",
  ENOEXEC: "not an executable format (a script needs a #! line)",
};

const errnoNames = new Map<number, string>();
for (const [name, number] of Object.entries(constants.errno)) if (!errnoNames.has(number)) errnoNames.set(number, name);

/** The failure of a spawn as `@loop/process`'s Node driver words it: the OS's code, the program's name. */
function spawnError(errno: number, options: SpawnOptions): Error {
  // os.constants knows every errno by name; libuv's table (getSystemErrorName) lacks some, ENOEXEC for one.
  const code = errnoNames.get(errno) ?? `E${errno}`;
  const program = JSON.stringify(options.program);
  const cwd = options.cwd;
  // A missing working directory makes the spawn fail with ENOENT too: say which one is missing.
  const message =
    code === "ENOENT" && cwd !== undefined && !existsSync(cwd)
      ? `cannot start ${program}: its working directory ${JSON.stringify(cwd)} does not exist (ENOENT)`
      : `cannot start ${program}: ${REASONS[code] ?? `spawn failed`} (${code})`;
  return Object.assign(new Error(message), { code, errno: -errno, syscall: "spawn", path: options.program });
}

/**
 * A child started by the addon, and the target of its pidfd's records (asyncio's
 * `_UnixSubprocessTransport` with a `PidfdChildWatcher`).
 *
 * Invariants: `_pidfd >= 0` exactly until the child is reaped; `returncode` is null until
 * then. While its loop is open the child holds one `refExternal` on it, since its exit will
 * wake the loop; once the loop closed, `owner` is the orphanage and nothing reaches the
 * protocols any more.
 */
class SelectorChild implements ProcessHandle {
  readonly pid: number;
  readonly stdin: WriteTransport | null;
  readonly stdout: ReadTransport | null;
  readonly stderr: ReadTransport | null;
  /** The poller whose loop hears of the exit; the orphanage once that loop closed. */
  owner: ReactorClient;
  private readonly _poller: SelectorPoller;
  private readonly _reactor: Reactor;
  private readonly _loop: EventLoop;
  private readonly _protocols: ProcessProtocols;
  private _pidfd: number;
  private _returncode: number | null = null;

  constructor(poller: SelectorPoller, reactor: Reactor, loop: EventLoop, spawned: Int32Array, protocols: ProcessProtocols) {
    this.owner = poller;
    this._poller = poller;
    this._reactor = reactor;
    this._loop = loop;
    this._protocols = protocols;
    // Read out before any protocol runs: a connectionMade that spawned again would refill `spawned`.
    this.pid = spawned[0] as number;
    this._pidfd = spawned[1] as number;
    const stdin = spawned[2] as number;
    const stdout = spawned[3] as number;
    const stderr = spawned[4] as number;
    live.add(this);
    loop.refExternal();
    reactor.targets[this._pidfd] = this;
    this.stdin = writePipe(poller, reactor, loop, stdin, protocols.stdin);
    this.stdout = readPipe(poller, reactor, loop, stdout, protocols.stdout);
    this.stderr = readPipe(poller, reactor, loop, stderr, protocols.stderr);
  }

  get returncode(): number | null {
    return this._returncode;
  }

  sendSignal(signal: string | number): void {
    const number = signalNumber(signal);
    if (this._pidfd < 0) return;
    // Not reaped yet, so the pid is still this child's (a zombie at worst): never a reused one.
    try {
      process.kill(this.pid, number);
    } catch {
      // ESRCH cannot happen before the reaping; EPERM (a setuid child) is the child's business.
    }
  }

  close(): void {
    // Nothing once reaped: sendSignal checks.
    this.sendSignal("SIGKILL");
    this.stdin?.abort();
    this.stdout?.close();
    this.stderr?.close();
  }

  /** @internal The pidfd is readable: the child has exited (in a loop callback, or in the orphanage's batch). */
  handleEvent(kind: number): void {
    if (kind === READABLE) this._reap();
  }

  /** @internal The loop closes with the child unreaped: the orphanage reaps it when it exits. */
  discard(): void {
    // A reaped child is out of the reactor's table, so only a live one hears this.
    this.owner = orphanage;
    this._reap();
  }

  private _reap(): void {
    const pidfd = this._pidfd;
    if (pidfd < 0) return;
    const native = this._reactor.native;
    let status = native.reap(pidfd);
    if (status === null) return; // still running: a wake-up of the pidfd for nothing
    if (status >= REAP_FAILED) {
      // ECHILD: something else in this process reaped it (a waitpid(-1) of a native module);
      // asyncio reports 255 then.
      status = 255;
    }
    this._pidfd = -1;
    native.watch(pidfd, 0);
    if (this._reactor.targets[pidfd] === this) this._reactor.targets[pidfd] = undefined;
    native.closeFd(pidfd);
    live.delete(this);
    if (live.size === 0 && settledWaiters.length > 0) {
      const waiters = settledWaiters;
      settledWaiters = [];
      for (const resolve of waiters) resolve();
    }
    if (this.owner === orphanage || this._loop.isClosed()) return;
    this._returncode = status;
    this._loop.unrefExternal();
    // Node destroys a child's stdin when it exits: nothing could read it any more.
    this.stdin?.abort();
    this._protocols.processExited(status);
  }
}

function writePipe(poller: SelectorPoller, reactor: Reactor, loop: EventLoop, fd: number, protocol: ProcessProtocols["stdin"]): WriteTransport | null {
  // Stryker disable next-line EqualityOperator: Node keeps descriptors 0-2 open, so a pipe end of ours is never 0
  if (fd < 0 || !adopt(reactor, fd, protocol)) return null;
  return new SelectorWritePipe(poller, reactor, loop, fd, protocol);
}

function readPipe(poller: SelectorPoller, reactor: Reactor, loop: EventLoop, fd: number, protocol: ProcessProtocols["stdout"]): ReadTransport | null {
  // Stryker disable next-line ConditionalExpression,EqualityOperator: adopt() turns -1 down as well (closing -1 is EBADF, adoptPipe(-1) fails); Node keeps descriptors 0-2 open, so a pipe end of ours is never 0
  if (fd < 0 || !adopt(reactor, fd, protocol)) return null;
  return new SelectorReadPipe(poller, reactor, loop, fd, protocol);
}

/** Hands a pipe end to the selector; one nobody will use is closed instead. */
function adopt<P>(reactor: Reactor, fd: number, protocol: P | undefined): protocol is P {
  if (protocol === undefined) {
    reactor.native.closeFd(fd);
    return false;
  }
  // Adoption only fails for want of memory, and then the addon has closed the descriptor.
  // Stryker disable next-line EqualityOperator: adoptPipe answers the descriptor itself; Node keeps descriptors 0-2 open, so a pipe end of ours is never 0
  return reactor.native.adoptPipe(fd) >= 0;
}

function signalNumber(signal: unknown): number {
  const where = "sendSignal(signal)";
  if (typeof signal === "string") {
    const number = signalsByName[signal];
    if (number === undefined) throw new RangeError(`${where}: unknown signal ${JSON.stringify(signal)}; use a name such as "SIGTERM" or "SIGKILL", or a signal number`);
    return number;
  }
  if (typeof signal === "number") {
    if (!Number.isInteger(signal) || (signal !== 0 && !knownSignals.has(signal))) throw new RangeError(`${where}: unknown signal number ${signal}`);
    return signal;
  }
  throw new TypeError(`${where}: the signal must be a name such as "SIGTERM" or a number, got ${signal === null ? "null" : typeof signal}`);
}

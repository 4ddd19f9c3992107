import { spawn, type ChildProcess, type StdioOptions } from "node:child_process";
import { accessSync, constants as fsConstants, existsSync, statSync } from "node:fs";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import type { EventLoop, Future, ProcessDriver, ProcessHandle, ProcessProtocols, ProcessStdio, ReadTransport, SpawnOptions, WriteTransport } from "@loop/core";
import { ReadPipeTransport, WritePipeTransport } from "./node-pipes.js";
import { signalNumber, signalNumberOrZero } from "./signals.js";

/**
 * Child processes over `node:child_process`: what `@loop/process` uses when the loop's
 * poller brings no `processes` driver of its own. Node's libuv reaps each child as soon
 * as it exits (a SIGCHLD handler and `waitpid`), so no zombie outlives its exit by more
 * than one turn of Node's loop.
 */
export class NodeProcessDriver implements ProcessDriver {
  // Children started and not yet reaped, for `settled()`.
  private readonly _live = new Set<ChildProcess>();
  private _settledWaiters: (() => void)[] = [];

  /**
   * Starts `options.program` with `node:child_process` and connects its pipes to
   * `protocols` on `loop`. The future resolves with the handle once the child runs, or
   * fails with the spawn error (a missing program, a bad `cwd`): the `ProcessDriver`
   * method that `createSubprocessExec` calls, not one to call yourself.
   */
  spawn(loop: EventLoop, options: SpawnOptions, protocols: ProcessProtocols): Future<ProcessHandle> {
    const future = loop.createFuture<ProcessHandle>();
    let program = options.program;
    let args = options.args;
    let stderr = options.stderr;
    if (stderr === "stdout") {
      if (options.stdout === "pipe") {
        // Node cannot give two of the child's descriptors the same new pipe, so a shell
        // does the `2>&1` and then becomes the program (same pid, same argv). The shell
        // would report a missing program as exit status 127: check it here first, so that
        // it fails at the call like any other.
        const error = checkRunnable(options);
        if (error !== null) {
          future.setException(error);
          return future;
        }
        args = ["-c", 'exec "$0" "$@" 2>&1', program, ...args];
        program = "/bin/sh";
        stderr = "devnull";
      } else {
        // The parent's own stdout is its descriptor 1, not what "inherit" means for stderr.
        stderr = options.stdout === "inherit" ? 1 : options.stdout;
      }
    }
    const stdio: StdioOptions = [nodeStdio(options.stdin), nodeStdio(options.stdout), nodeStdio(stderr)];
    let child: ChildProcess;
    try {
      child = spawn(program, args, { stdio, cwd: options.cwd, env: options.env as NodeJS.ProcessEnv | undefined, detached: options.startNewSession, windowsHide: true });
    } catch (error) {
      future.setException(spawnError(error, options));
      return future;
    }
    if (child.pid === undefined) {
      // ENOENT, EACCES and the like come as an 'error' event on the next tick.
      loop.refExternal();
      child.once("error", (error) => {
        destroyStdio(child);
        if (loop.isClosed()) return;
        loop.callSoonThreadsafe(() => {
          loop.unrefExternal();
          if (!future.done()) future.setException(spawnError(error, options));
        });
      });
      return future;
    }
    this._live.add(child);
    const handle = new NodeChild(loop, child, protocols);
    child.once("exit", (code, signal) => {
      this._reaped(child);
      if (loop.isClosed()) return;
      const returncode = code ?? -signalNumberOrZero(signal);
      loop.callSoonThreadsafe(onExit, handle, returncode);
    });
    future.setResult(handle);
    return future;
  }

  /**
   * Resolves once every child this driver started has exited and been reaped: for test
   * teardown, and for programs that want to be sure before they exit.
   * @example
   * afterEach(() => nodeProcessDriver.settled());
   */
  settled(): Promise<void> {
    if (this._live.size === 0) return Promise.resolve();
    return new Promise((resolve) => this._settledWaiters.push(resolve));
  }

  /** How many children this driver started are not reaped yet. */
  get running(): number {
    return this._live.size;
  }

  private _reaped(child: ChildProcess): void {
    this._live.delete(child);
    if (this._live.size > 0) return;
    const waiters = this._settledWaiters;
    this._settledWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

/** The driver `@loop/process` falls back on when the poller has no `processes`. */
export const nodeProcessDriver: NodeProcessDriver = new NodeProcessDriver();

/**
 * A started Node child. Invariant: it holds one `refExternal` on its loop until its exit
 * has been delivered (`returncode` set), since the exit will wake the loop.
 */
class NodeChild implements ProcessHandle {
  readonly pid: number;
  readonly stdin: WriteTransport | null;
  readonly stdout: ReadTransport | null;
  readonly stderr: ReadTransport | null;
  private _returncode: number | null = null;
  private readonly _loop: EventLoop;
  private readonly _child: ChildProcess;
  private readonly _protocols: ProcessProtocols;

  constructor(loop: EventLoop, child: ChildProcess, protocols: ProcessProtocols) {
    this._loop = loop;
    this._child = child;
    this._protocols = protocols;
    this.pid = child.pid as number;
    loop.refExternal();
    // Errors after a successful start (a signal that could not be sent) change nothing here.
    child.on("error", () => {});
    this.stdin = child.stdin !== null && protocols.stdin !== undefined ? new WritePipeTransport(loop, child.stdin, protocols.stdin) : null;
    this.stdout = child.stdout !== null && protocols.stdout !== undefined ? new ReadPipeTransport(loop, child.stdout, protocols.stdout) : null;
    this.stderr = child.stderr !== null && protocols.stderr !== undefined ? new ReadPipeTransport(loop, child.stderr, protocols.stderr) : null;
  }

  get returncode(): number | null {
    return this._returncode;
  }

  /** @internal */
  _exited(returncode: number): void {
    if (this._returncode !== null) return;
    this._returncode = returncode;
    this._loop.unrefExternal();
    this._protocols.processExited(returncode);
  }

  sendSignal(signal: string | number): void {
    const number = signalNumber("sendSignal(signal)", signal);
    if (this._isDone()) return;
    this._child.kill(number);
  }

  close(): void {
    if (!this._isDone()) this._child.kill("SIGKILL");
    destroyStdio(this._child);
  }

  /** Exited as far as Node knows (it reaps before the loop hears of it). */
  private _isDone(): boolean {
    const child = this._child;
    return this._returncode !== null || child.exitCode !== null || child.signalCode !== null;
  }
}

function onExit(handle: NodeChild, returncode: number): void {
  handle._exited(returncode);
}

function nodeStdio(choice: ProcessStdio): "pipe" | "inherit" | "ignore" | number {
  switch (choice) {
    case "pipe":
    case "inherit":
      return choice;
    case "devnull":
      return "ignore";
    case "stdout":
      return 1;
    default:
      return choice;
  }
}

function destroyStdio(child: ChildProcess): void {
  child.stdin?.destroy();
  child.stdout?.destroy();
  child.stderr?.destroy();
}

const REASONS: Record<string, string> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied (is it executable?)",
  EMFILE: "too many open files",
  EAGAIN: "the system cannot start another process now",
};

/** Node's "spawn x ENOENT" as an error that names the program and keeps the OS's code. */
function spawnError(error: unknown, options: SpawnOptions): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return error;
  const program = JSON.stringify(options.program);
  const cwd = options.cwd;
  // A missing working directory makes the exec fail with ENOENT too: say which one is missing.
  const message =
    code === "ENOENT" && cwd !== undefined && !existsSync(cwd)
      ? `cannot start ${program}: its working directory ${JSON.stringify(cwd)} does not exist (ENOENT)`
      : `cannot start ${program}: ${REASONS[code] ?? (error as Error).message} (${code})`;
  return Object.assign(new Error(message, { cause: error }), { code, errno: (error as { errno?: unknown }).errno, syscall: "spawn", path: options.program });
}

/** What execvp would say about `program`: null when it would run, else its error. */
function checkRunnable(options: SpawnOptions): Error | null {
  const { program, cwd } = options;
  const candidates: string[] = [];
  if (program.includes("/")) {
    candidates.push(isAbsolute(program) ? program : resolve(cwd ?? ".", program));
  } else {
    const path = options.env !== undefined ? options.env.PATH : process.env.PATH;
    for (const dir of (path ?? "/usr/local/bin:/usr/bin:/bin").split(delimiter)) candidates.push(resolve(cwd ?? ".", join(dir === "" ? "." : dir, program)));
  }
  let code = "ENOENT";
  for (const candidate of candidates) {
    try {
      if (!statSync(candidate).isFile()) {
        code = "EACCES";
        continue;
      }
      accessSync(candidate, fsConstants.X_OK);
      return null;
    } catch (error) {
      if ((error as { code?: unknown }).code === "EACCES") code = "EACCES";
    }
  }
  return spawnError(Object.assign(new Error(`spawn ${program} ${code}`), { code, errno: code === "ENOENT" ? -2 : -13 }), options) as Error;
}

import type { Coroutine, EventLoop, Future, ProcessDriver, ProcessHandle, ProcessProtocols, SpawnOptions, Task } from "@loop/core";
import { FakeReadPipe, FakeWritePipe } from "./fake-process-pipes.js";

/**
 * A fake program: a coroutine run on the test's loop for each start, given the child to
 * act as. It writes with `child.stdout.write`, reads `child.stdin`, waits with `sleep`
 * (virtual time), and returns its exit status (0 when it returns nothing).
 */
export type FakeScript = (child: FakeChild) => Coroutine<number | void>;

/** What a fake child writes to: a pipe to the parent, or nowhere (everything is kept in the record). */
export interface FakeOutput {
  /** Writes bytes or UTF-8 text; never blocks (see `drain`). */
  write(data: Uint8Array | string): void;
  /** Waits while the parent leaves more than a pipe's worth (64 KiB) unread. */
  drain(): Coroutine<void>;
  /** Closes this stream early, as a program that closes its stdout. */
  close(): void;
}

/** The fake child a script acts as. */
export interface FakeChild {
  /** The fake process id, from 1000 up. */
  readonly pid: number;
  /** The program as the parent named it (a name or a path). */
  readonly program: string;
  /** The arguments after the program's name. */
  readonly args: readonly string[];
  /** The working directory the parent asked for, or undefined for the parent's. */
  readonly cwd: string | undefined;
  /** The whole environment the parent gave, or undefined for the parent's. */
  readonly env: Readonly<Record<string, string>> | undefined;
  /** The child's stdout. */
  readonly stdout: FakeOutput;
  /** The child's stderr. */
  readonly stderr: FakeOutput;
  /** The child's stdin: what the parent writes to it. */
  readonly stdin: {
    /** The bytes written since the last read, waiting for some; an empty array at the end of input. */
    read(): Coroutine<Uint8Array>;
    /** Everything up to the end of input. */
    readAll(): Coroutine<Uint8Array>;
  };
  /**
   * Handle these signals instead of dying of them (the shell's `trap`): they queue for
   * `nextSignal()`. SIGKILL cannot be trapped.
   */
  trap(...signals: string[]): void;
  /** The next trapped signal's name, waiting for one. */
  nextSignal(): Coroutine<string>;
}

/** What happened to one fake child: for a test's assertions. */
export interface FakeProcessRecord {
  /** Its fake process id. */
  readonly pid: number;
  /** The program as the parent named it. */
  readonly program: string;
  /** The arguments after the program's name. */
  readonly args: readonly string[];
  /** Everything the parent asked `spawn` for (stdio, cwd, env, session). */
  readonly options: SpawnOptions;
  /** Every signal sent to it, as names, in order. */
  readonly signals: string[];
  /** Its exit status (minus the signal's number when killed by one), null while it runs. */
  returncode: number | null;
  /** Everything it wrote to stdout and stderr, as text, wherever that went. */
  stdout: string;
  /** Everything it wrote to stderr, as text, wherever that went. */
  stderr: string;
}

/**
 * Child processes in the loop's time, for tests: a `ProcessDriver` that a virtual-time
 * poller carries (`runVirtual(main, { processes })`), so that code using
 * `@loop/process` runs unchanged against scripted programs. Each program is a coroutine
 * that writes output at virtual times, reads its stdin, reacts to signals and returns its
 * exit status. A program not defined fails to start with ENOENT, as on a real system.
 * Signals use Linux's numbers (SIGTERM is 15, so a child it kills has returncode -15).
 * @example
 * const processes = new FakeProcesses().define("git", function* (child) {
 *   yield* sleep(2_000);                       // a slow git, in virtual time
 *   child.stdout.write("main\n");
 *   return 0;
 * });
 * await runVirtual(function* () {
 *   const { stdout } = yield* runProcess("git", ["branch", "--show-current"], { captureStdout: true });
 * }, { processes });
 */
export class FakeProcesses implements ProcessDriver {
  /** Every child started, oldest first. */
  readonly started: FakeProcessRecord[] = [];
  private readonly _scripts = new Map<string, FakeScript>();
  private _nextPid = 1000;
  private readonly _live = new Set<FakeProcess>();

  constructor(scripts?: Readonly<Record<string, FakeScript>>) {
    if (scripts !== undefined) for (const [program, script] of Object.entries(scripts)) this.define(program, script);
  }

  /**
   * Defines `program` (looked up by the exact name first, then by its last path part, so
   * "sleep" also answers "/bin/sleep"). Shell commands start "/bin/sh" with `-c command`.
   */
  define(program: string, script: FakeScript): this {
    if (typeof program !== "string" || program === "") throw new TypeError("FakeProcesses.define(program, script): program must be a non-empty string");
    if (typeof script !== "function") throw new TypeError("FakeProcesses.define(program, script): script must be a generator function (child) => Coroutine<number | void>");
    this._scripts.set(program, script);
    return this;
  }

  /** How many children are still running. */
  get running(): number {
    return this._live.size;
  }

  /**
   * Starts the script defined for `options.program` as a task on `loop`, wired to
   * `protocols`; the future rejects with an ENOENT `Error` when no script is defined.
   * `@loop/process` calls it; tests do not.
   */
  spawn(loop: EventLoop, options: SpawnOptions, protocols: ProcessProtocols): Future<ProcessHandle> {
    const future = loop.createFuture<ProcessHandle>();
    const script = this._scripts.get(options.program) ?? this._scripts.get(options.program.slice(options.program.lastIndexOf("/") + 1));
    if (script === undefined) {
      loop.callSoon(() => {
        if (future.done()) return;
        const error = Object.assign(new Error(`cannot start ${JSON.stringify(options.program)}: no such file or directory (ENOENT); define it with FakeProcesses.define`), {
          code: "ENOENT",
          errno: -2,
          syscall: "spawn",
          path: options.program,
        });
        future.setException(error);
      });
      return future;
    }
    const record: FakeProcessRecord = { pid: this._nextPid++, program: options.program, args: options.args, options, signals: [], returncode: null, stdout: "", stderr: "" };
    this.started.push(record);
    const child = new FakeProcess(loop, record, protocols, script, (done) => this._live.delete(done));
    this._live.add(child);
    future.setResult(child);
    return future;
  }
}

/** Linux's signal numbers, which the fake uses whatever the host. */
const SIGNALS: Readonly<Record<string, number>> = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8, SIGKILL: 9, SIGUSR1: 10,
  SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15, SIGSTKFLT: 16, SIGCHLD: 17, SIGCONT: 18, SIGSTOP: 19,
  SIGTSTP: 20, SIGTTIN: 21, SIGTTOU: 22, SIGURG: 23, SIGXCPU: 24, SIGXFSZ: 25, SIGVTALRM: 26, SIGPROF: 27, SIGWINCH: 28,
  SIGIO: 29, SIGPWR: 30, SIGSYS: 31,
};
/** Signals whose default action is not to end the program (the fake does not stop programs either). */
const HARMLESS = new Set(["SIGCHLD", "SIGCONT", "SIGURG", "SIGWINCH", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU"]);

function signalNameOf(signal: string | number): string {
  if (typeof signal === "string") {
    if (SIGNALS[signal] === undefined) throw new RangeError(`fake process: unknown signal ${JSON.stringify(signal)}`);
    return signal;
  }
  if (signal === 0) return "0";
  for (const [name, number] of Object.entries(SIGNALS)) if (number === signal) return name;
  throw new RangeError(`fake process: unknown signal number ${signal}`);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * One fake child: its script's task, its pipes, its signals. Invariant: `record.returncode`
 * is set exactly when the script's task is done (or the loop closed under it); from then
 * on its output pipes have their end queued, its stdin is closed, and `processExited`
 * is scheduled (unless the loop is closed).
 */
class FakeProcess implements ProcessHandle {
  readonly stdin: FakeWritePipe | null = null;
  readonly stdout: FakeReadPipe | null = null;
  readonly stderr: FakeReadPipe | null = null;
  private readonly _loop: EventLoop;
  private readonly _record: FakeProcessRecord;
  private readonly _protocols: ProcessProtocols;
  private readonly _task: Task<number | void>;
  private readonly _trapped = new Set<string>();
  private readonly _pendingSignals: string[] = [];
  private _signalWaiter: Future<void> | null = null;
  private _killedBy: number | null = null;
  private readonly _onDone: (child: FakeProcess) => void;
  /** What the script sees. */
  private readonly _view: FakeChild;

  constructor(loop: EventLoop, record: FakeProcessRecord, protocols: ProcessProtocols, script: FakeScript, onDone: (child: FakeProcess) => void) {
    this._loop = loop;
    this._record = record;
    this._protocols = protocols;
    this._onDone = onDone;
    const { options } = record;
    if (options.stdin === "pipe" && protocols.stdin !== undefined) this.stdin = new FakeWritePipe(loop, protocols.stdin);
    if (options.stdout === "pipe" && protocols.stdout !== undefined) this.stdout = new FakeReadPipe(loop, protocols.stdout);
    if (options.stderr === "pipe" && protocols.stderr !== undefined) this.stderr = new FakeReadPipe(loop, protocols.stderr);
    const stderrPipe = options.stderr === "stdout" ? this.stdout : this.stderr;
    this._view = {
      pid: record.pid,
      program: record.program,
      args: record.args,
      cwd: options.cwd,
      env: options.env,
      stdout: this._output("stdout", this.stdout),
      stderr: this._output("stderr", stderrPipe),
      stdin: {
        read: () => this._readStdin(),
        readAll: () => this._readAllStdin(),
      },
      trap: (...signals) => this._trap(signals),
      nextSignal: () => this._nextSignal(),
    };
    this._task = loop.createTask(script(this._view), { name: `fake ${record.program} (pid ${record.pid})` });
    this._task.addDoneCallback(() => this._finished());
  }

  // --- what the script sees -------------------------------------------------------------

  get pid(): number {
    return this._record.pid;
  }

  private _trap(signals: string[]): void {
    for (const signal of signals) {
      const name = signalNameOf(signal);
      if (name === "SIGKILL") throw new RangeError("FakeChild.trap: SIGKILL cannot be trapped");
      this._trapped.add(name);
    }
  }

  private *_nextSignal(): Coroutine<string> {
    while (this._pendingSignals.length === 0) {
      const waiter = this._loop.createFuture<void>();
      waiter.label = `fake ${this._record.program}: waiting for a signal`;
      // Left set after the wait: a waiter that is done is never woken again (sendSignal).
      this._signalWaiter = waiter;
      yield* waiter;
    }
    return this._pendingSignals.shift() as string;
  }

  // --- ProcessHandle: what the parent sees ------------------------------------------------

  get returncode(): number | null {
    return this._record.returncode;
  }

  sendSignal(signal: string | number): void {
    const name = signalNameOf(signal);
    if (this._record.returncode !== null || this._killedBy !== null || name === "0") return;
    this._record.signals.push(name);
    if (this._trapped.has(name)) {
      this._pendingSignals.push(name);
      const waiter = this._signalWaiter;
      if (waiter !== null && !waiter.done()) waiter.setResult(undefined);
      return;
    }
    if (HARMLESS.has(name)) return;
    this._killedBy = SIGNALS[name] as number;
    this._task.cancel();
  }

  close(): void {
    if (this._record.returncode !== null) return;
    this._killedBy ??= SIGNALS.SIGKILL as number;
    if (this._loop.isClosed()) {
      this._record.returncode = -this._killedBy;
      this._onDone(this);
    } else {
      this._task.cancel();
    }
  }

  // --- internals ------------------------------------------------------------------------

  private _output(stream: "stdout" | "stderr", pipe: FakeReadPipe | null): FakeOutput {
    const record = this._record;
    return {
      write: (data) => {
        if (this._record.returncode !== null) return;
        const bytes = typeof data === "string" ? encoder.encode(data) : data;
        record[stream] += typeof data === "string" ? data : decoder.decode(data);
        pipe?.push(bytes);
      },
      drain: () => (pipe === null ? noWait() : pipe.drain()),
      close: () => pipe?.end(),
    };
  }

  private *_readStdin(): Coroutine<Uint8Array> {
    const stdin = this.stdin;
    if (stdin === null) return new Uint8Array(0);
    return yield* stdin.read();
  }

  private *_readAllStdin(): Coroutine<Uint8Array> {
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const chunk = yield* this._readStdin();
      if (chunk.byteLength === 0) break;
      chunks.push(chunk);
      size += chunk.byteLength;
    }
    const all = new Uint8Array(size);
    let at = 0;
    for (const chunk of chunks) {
      all.set(chunk, at);
      at += chunk.byteLength;
    }
    return all;
  }

  /** The script ended: by returning, by failing (status 1), or by a signal. */
  private _finished(): void {
    const task = this._task;
    let returncode: number;
    if (this._killedBy !== null) {
      returncode = -this._killedBy;
    } else if (task.cancelled()) {
      // Cancelled with the loop's other tasks (the end of run()): it dies with them.
      returncode = -(SIGNALS.SIGKILL as number);
    } else if (task.exception() !== null) {
      const error = task.exception();
      this._loop.callExceptionHandler({ message: `fake process ${this._record.program} (pid ${this.pid}) failed`, exception: error, task });
      this._view.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      returncode = 1;
    } else {
      const result = task.result();
      returncode = typeof result === "number" ? result : 0;
    }
    this._record.returncode = returncode;
    this._onDone(this);
    // The task's done callback runs from the loop, so the loop is open here.
    this.stdout?.end();
    this.stderr?.end();
    this.stdin?.childExited();
    this._loop.callSoon(() => this._protocols.processExited(returncode));
  }
}

function* noWait(): Coroutine<void> {}

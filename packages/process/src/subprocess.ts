import { Buffer } from "node:buffer";
import { gather, type BaseTransport, type Coroutine, type EventLoop, type Future, type ProcessHandle, type ProcessProtocols, type Protocol, type Task, type Transport } from "@loop/core";
import { ConnectionResetError, StreamReader, StreamReaderProtocol, StreamWriter } from "@loop/net";
import { forgetChild } from "./children.js";
import { signalNumber } from "./signals.js";

/** What `Process` was started with, kept for messages and debug reports. */
export interface ProcessOrigin {
  /** The program and its arguments (for a shell command: the command as one string). */
  readonly command: readonly string[];
  /** The task that started the child, if any. */
  readonly task: Task<unknown> | null;
  /** Where it was started (debug mode only). */
  readonly stack: string | undefined;
}

/**
 * One of the child's pipes, as its protocol: forwards to the stream protocol of the
 * reader or writer, and tells the `Process` when the pipe is gone (asyncio's
 * `SubprocessStreamProtocol.pipe_connection_lost`).
 */
class PipeProtocol implements Protocol {
  constructor(
    readonly inner: StreamReaderProtocol,
    private readonly _process: Process,
    private readonly _reader: StreamReader | null = null,
    private readonly _source = "",
  ) {}

  connectionMade(transport: BaseTransport): void {
    this.inner.connectionMade(transport);
    // A pipe has no peer name: the reader's futures are labelled with the command instead.
    if (this._reader !== null) this._reader.source = this._source;
  }

  connectionLost(error: Error | null): void {
    this.inner.connectionLost(error);
    this._process._pipeLost();
  }

  dataReceived(data: Uint8Array): void {
    this.inner.dataReceived(data);
  }

  eofReceived(): boolean {
    this.inner.eofReceived();
    return false;
  }

  pauseWriting(): void {
    this.inner.pauseWriting();
  }

  resumeWriting(): void {
    this.inner.resumeWriting();
  }
}

/**
 * A running child process (asyncio.subprocess.Process), made by `createSubprocessExec`
 * or `createSubprocessShell`. Its piped streams are `@loop/net` streams: `stdin` a
 * `StreamWriter` (with `drain()` backpressure), `stdout`/`stderr` `StreamReader`s whose
 * `limit` bounds what is buffered before the pipe is paused.
 *
 * Invariant: `returncode` is null until the driver reported the exit; `wait()` finishes
 * once the child exited *and* every pipe is closed (asyncio 3.13), so that what the child
 * wrote before exiting is all in the readers by then.
 * @example
 * const proc = yield* createSubprocessExec("ls", ["-l"], { stdout: PIPE });
 * const [out] = yield* proc.communicate();
 * console.log(proc.returncode, new TextDecoder().decode(out ?? new Uint8Array()));
 */
export class Process {
  /** The writing end of the child's stdin, when it is a pipe. */
  readonly stdin: StreamWriter | null = null;
  /** The child's stdout, when it is a pipe. */
  readonly stdout: StreamReader | null = null;
  /** The child's stderr, when it is a pipe. */
  readonly stderr: StreamReader | null = null;
  /** @internal */ readonly _origin: ProcessOrigin;
  /** @internal */ readonly _protocols: ProcessProtocols;
  private readonly _loop: EventLoop;
  private _handle: ProcessHandle | null = null;
  private _returncode: number | null = null;
  private _openPipes = 0;
  private _finished = false;
  private _finishWaiters: Future<number>[] = [];
  private _returncodeWaiters: Future<number>[] = [];
  private readonly _stdinProtocol: StreamReaderProtocol | null = null;
  private _description = "";

  /** @internal Made by `createSubprocessExec`; the driver's handle comes with `_attach`. */
  constructor(loop: EventLoop, origin: ProcessOrigin, pipes: { stdin: boolean; stdout: boolean; stderr: boolean }, limit: number) {
    this._loop = loop;
    this._origin = origin;
    const protocols: ProcessProtocols = { processExited: (returncode) => this._processExited(returncode) };
    if (pipes.stdin) {
      this._stdinProtocol = new StreamReaderProtocol(null, null, loop);
      protocols.stdin = new PipeProtocol(this._stdinProtocol, this);
      this._openPipes++;
    }
    if (pipes.stdout) {
      const reader = new StreamReader({ limit, loop });
      this.stdout = reader;
      protocols.stdout = new PipeProtocol(new StreamReaderProtocol(reader, null, loop), this, reader, `stdout of ${this._describe()}`);
      this._openPipes++;
    }
    if (pipes.stderr) {
      const reader = new StreamReader({ limit, loop });
      this.stderr = reader;
      protocols.stderr = new PipeProtocol(new StreamReaderProtocol(reader, null, loop), this, reader, `stderr of ${this._describe()}`);
      this._openPipes++;
    }
    this._protocols = protocols;
  }

  /** @internal */
  _attach(handle: ProcessHandle): void {
    this._handle = handle;
    if (handle.stdin !== null && this._stdinProtocol !== null) {
      // A write-only pipe: a StreamWriter only uses the writing half of the Transport contract.
      const pipe = handle.stdin as unknown as Transport;
      (this as { stdin: StreamWriter | null }).stdin = new StreamWriter(pipe, this._stdinProtocol, null, this._loop);
    }
  }

  /** The child's process id. */
  get pid(): number {
    return (this._handle as ProcessHandle).pid;
  }

  /**
   * The exit status once the child has exited, minus the signal's number when a signal
   * ended it (-9 for SIGKILL); null while it runs. Set as soon as the exit is known, before
   * the pipes are drained.
   */
  get returncode(): number | null {
    return this._returncode;
  }

  /**
   * Waits for the child to exit and its pipes to close, and returns `returncode`.
   * Cancelling the wait leaves the child running (asyncio). With `stdout: PIPE` and
   * nobody reading, a child that writes more than the pipe and the reader's `limit` hold
   * blocks forever: read the streams, or use `communicate()`.
   */
  wait(): Coroutine<number> {
    return this._wait();
  }

  private *_wait(): Coroutine<number> {
    if (this._finished) return this._returncode as number;
    const waiter = this._loop.createFuture<number>();
    waiter.label = `Process.wait for ${this._describe()} (pid ${this.pid})`;
    this._finishWaiters.push(waiter);
    return yield* waiter;
  }

  /**
   * Writes `input` (if given) to stdin and closes it, reads stdout and stderr to their
   * ends, all at once, then waits for the child (asyncio's `communicate`): no deadlock
   * however much goes each way. Returns `[stdout, stderr]`, null for a stream that is not
   * a pipe. A child that closes its stdin early (EPIPE) is not an error. Cancelling it
   * leaves the child running; what was read so far is lost.
   * @example
   * const proc = yield* createSubprocessExec("sort", [], { stdin: PIPE, stdout: PIPE });
   * const [sorted] = yield* proc.communicate("b\na\n");
   */
  communicate(input?: Uint8Array | string | null): Coroutine<[Uint8Array | null, Uint8Array | null]> {
    if (input !== undefined && input !== null) {
      if (typeof input !== "string" && !(input instanceof Uint8Array)) {
        throw new TypeError(`Process.communicate(input): input must be a Uint8Array or a string, got ${typeof input}`);
      }
      if (this.stdin === null) throw new TypeError("Process.communicate(input): stdin is not a pipe; start the process with { stdin: PIPE } to send input");
    }
    return this._communicate(input ?? null);
  }

  private *_communicate(input: Uint8Array | string | null): Coroutine<[Uint8Array | null, Uint8Array | null]> {
    const [, stdout, stderr] = yield* gather([this._feedStdin(input), readAll(this.stdout), readAll(this.stderr)]);
    yield* this._wait();
    return [stdout, stderr];
  }

  private *_feedStdin(input: Uint8Array | string | null): Coroutine<void> {
    const stdin = this.stdin;
    if (stdin === null) return;
    try {
      if (input !== null) stdin.write(input);
      yield* stdin.drain();
    } catch (error) {
      // asyncio's _feed_stdin: the child not reading all its input is its business.
      if (!isBrokenPipe(error)) throw error;
    }
    stdin.close();
  }

  /**
   * Sends `signal` (a name such as "SIGUSR1", or a number) to the child. Does nothing once
   * the child has exited, so a reused pid is never hit.
   */
  sendSignal(signal: string | number): void {
    signalNumber("Process.sendSignal(signal)", signal);
    this._handle?.sendSignal(signal);
  }

  /** Sends SIGTERM. */
  terminate(): void {
    this._handle?.sendSignal("SIGTERM");
  }

  /** Sends SIGKILL. */
  kill(): void {
    this._handle?.sendSignal("SIGKILL");
  }

  /** @internal The handle, for the loop's close callback. */
  get _driverHandle(): ProcessHandle | null {
    return this._handle;
  }

  /**
   * @internal A future for the exit alone, not the pipes: what `runProcess` waits on
   * while stopping a child whose readers nobody reads any more.
   */
  _exitFuture(): Future<number> {
    const future = this._loop.createFuture<number>();
    if (this._returncode !== null) future.setResult(this._returncode);
    else this._returncodeWaiters.push(future);
    return future;
  }

  /** @internal Drops whatever the pipes still hold and closes them. */
  _closePipes(): void {
    const handle = this._handle;
    if (handle === null) return;
    handle.stdin?.abort();
    handle.stdout?.close();
    handle.stderr?.close();
  }

  /** @internal */
  _processExited(returncode: number): void {
    this._returncode = returncode;
    const waiters = this._returncodeWaiters;
    this._returncodeWaiters = [];
    for (const waiter of waiters) if (!waiter.done()) waiter.setResult(returncode);
    this._tryFinish();
  }

  /** @internal */
  _pipeLost(): void {
    this._openPipes--;
    this._tryFinish();
  }

  /** asyncio's `_try_finish`: the end is the exit plus every pipe closed. */
  private _tryFinish(): void {
    if (this._finished || this._returncode === null || this._openPipes > 0) return;
    this._finished = true;
    forgetChild(this._loop, this);
    const waiters = this._finishWaiters;
    this._finishWaiters = [];
    for (const waiter of waiters) if (!waiter.done()) waiter.setResult(this._returncode);
  }

  /** `<Process 1234 git status running>` or `<Process 1234 git status returncode=0>`: the pid, the command (shortened) and the state, for logs. */
  toString(): string {
    const state = this._returncode === null ? "running" : `returncode=${this._returncode}`;
    return `<Process ${this._handle?.pid ?? "?"} ${this._describe()} ${state}>`;
  }

  /** @internal The command, quoted and shortened for labels: made once, when first needed. */
  _describe(): string {
    if (this._description === "") this._description = describeCommand(this._origin.command);
    return this._description;
  }
}

function* readAll(reader: StreamReader | null): Coroutine<Uint8Array | null> {
  if (reader === null) return null;
  const chunks: Uint8Array[] = [];
  for (;;) {
    const chunk = yield* reader.read(1 << 20);
    if (chunk.byteLength === 0) break;
    chunks.push(chunk);
  }
  return chunks.length === 1 ? (chunks[0] as Uint8Array) : Buffer.concat(chunks);
}

function isBrokenPipe(error: unknown): boolean {
  if (error instanceof ConnectionResetError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return code === "EPIPE" || code === "ECONNRESET";
}

/** `ls -l`, shortened for labels. */
export function describeCommand(command: readonly string[]): string {
  const text = command.map((part) => (/^[\w@%+=:,./-]+$/.test(part) ? part : JSON.stringify(part))).join(" ");
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

import { Buffer } from "node:buffer";
import { CancelledError, getRunningLoop, type Coroutine } from "@loop/core";
import { createSubprocessExec } from "./create.js";
import { CalledProcessError } from "./errors.js";
import { DEVNULL, PIPE, checkOptions, type ProcessOptions } from "./options.js";
import type { Process } from "./subprocess.js";

/** Options of `runProcess`: those of `createSubprocessExec`, plus what to feed and keep. */
export interface RunProcessOptions extends ProcessOptions {
  /** Bytes (or UTF-8 text) written to the child's stdin, which is then closed. Without it, stdin is empty (DEVNULL) unless `stdin` says otherwise. */
  input?: Uint8Array | string;
  /** Keep what the child writes to stdout, in `CompletedProcess.stdout` (also when `stdout: PIPE`). */
  captureStdout?: boolean;
  /** Keep what the child writes to stderr, in `CompletedProcess.stderr` (also when `stderr: PIPE`). */
  captureStderr?: boolean;
  /** Throw `CalledProcessError` when the child does not exit with 0; true by default. */
  check?: boolean;
}

/** What `runProcess` returns (subprocess.CompletedProcess). */
export class CompletedProcess {
  constructor(
    /** The program and its arguments. */
    readonly command: readonly string[],
    /** The child's exit status: 0 for success, minus the signal number when a signal killed it. */
    readonly returncode: number,
    /** What the child wrote to stdout, when captured; else null. */
    readonly stdout: Uint8Array | null,
    /** What the child wrote to stderr, when captured; else null. */
    readonly stderr: Uint8Array | null,
  ) {}

  /** Throws `CalledProcessError` unless `returncode` is 0. */
  checkReturncode(): void {
    if (this.returncode !== 0) throw new CalledProcessError(this.returncode, this.command, this.stdout, this.stderr);
  }
}

/**
 * Runs a program to its end and returns its exit status and captured output (trio's
 * `run_process`, subprocess.run with `check` on by default): a status other than 0 throws
 * `CalledProcessError`. Cancelled, it stops the child — `killSignal` (SIGTERM), then
 * SIGKILL after `gracePeriodMs` (5 s) — and waits for it to exit before the
 * `CancelledError` goes on, so no child outlives the cancellation.
 * @example
 * const { stdout } = yield* runProcess("git", ["status", "--short"], { captureStdout: true });
 * const lines = new TextDecoder().decode(stdout ?? new Uint8Array()).split("\n");
 */
export function runProcess(program: string, args: readonly string[] = [], opts?: RunProcessOptions): Coroutine<CompletedProcess> {
  const where = "runProcess(program, args, opts)";
  const options = checkOptions(where, opts);
  const input = opts?.input;
  if (input !== undefined && typeof input !== "string" && !(input instanceof Uint8Array)) throw new TypeError(`${where}: input must be a Uint8Array or a string, got ${typeof input}`);
  if (input !== undefined && opts?.stdin !== undefined && opts.stdin !== PIPE) throw new TypeError(`${where}: give either input or stdin, not both`);
  const check = opts?.check ?? true;
  if (typeof check !== "boolean") throw new TypeError(`${where}: check must be true or false`);
  const captureStdout = opts?.captureStdout === true || opts?.stdout === PIPE;
  const captureStderr = opts?.captureStderr === true || opts?.stderr === PIPE;
  const processOptions: ProcessOptions = {
    ...opts,
    stdin: input !== undefined ? PIPE : (opts?.stdin ?? DEVNULL),
    stdout: captureStdout ? PIPE : opts?.stdout,
    stderr: captureStderr ? PIPE : opts?.stderr,
  };
  // Checks program and args at the call too.
  const starting = createSubprocessExec(program, args, processOptions);
  return runToEnd(starting, [program, ...args], input, check, options.killSignal, options.gracePeriodMs);
}

function* runToEnd(
  starting: Coroutine<Process>,
  command: readonly string[],
  input: Uint8Array | string | undefined,
  check: boolean,
  killSignal: string | number,
  gracePeriodMs: number,
): Coroutine<CompletedProcess> {
  const child = yield* starting;
  let stdout: Uint8Array | null;
  let stderr: Uint8Array | null;
  try {
    [stdout, stderr] = yield* child.communicate(input === undefined ? null : typeof input === "string" ? Buffer.from(input) : input);
  } catch (error) {
    yield* stopChild(child, killSignal, gracePeriodMs);
    throw error;
  }
  const done = new CompletedProcess(command, child.returncode as number, stdout, stderr);
  if (check) done.checkReturncode();
  return done;
}

/**
 * trio's default `deliver_cancel`: `killSignal`, SIGKILL once the grace period is over,
 * and in every case wait for the child to exit. Further cancellations while waiting only
 * hurry the SIGKILL along: the child must be gone before the first `CancelledError` goes
 * on. The pipes are closed then: nobody will read them any more.
 */
function* stopChild(child: Process, killSignal: string | number, gracePeriodMs: number): Coroutine<void> {
  const loop = getRunningLoop();
  if (child.returncode === null) child.sendSignal(killSignal);
  let killed = false;
  const timer = loop.callLater(gracePeriodMs, () => {
    killed = true;
    child.kill();
  });
  try {
    for (;;) {
      // A fresh future each time: a cancelled `yield*` cancels the future it waits on.
      const exited = child._exitFuture();
      exited.label = `runProcess: waiting for ${child} to stop`;
      try {
        yield* exited;
        break;
      } catch (error) {
        if (!(error instanceof CancelledError)) throw error;
        if (!killed) {
          killed = true;
          child.kill();
        }
      }
    }
  } finally {
    timer.cancel();
    child._closePipes();
  }
}

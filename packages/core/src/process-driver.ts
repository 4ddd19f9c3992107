/**
 * The contract between `@loop/process` and whatever starts child processes: asyncio's
 * `SubprocessTransport` and `SubprocessProtocol`, cut along the same lines as the network
 * contract in `types.ts`. A poller may carry one (`poller.processes`, e.g. the
 * scripted fake processes of `@loop/testing`); otherwise `@loop/process` uses Node's
 * `node:child_process`. Types only: core starts no process itself.
 */

import type { Future } from "./future.js";
import type { EventLoop } from "./loop.js";
import type { BaseProtocol, Protocol, ReadTransport, WriteTransport } from "./types.js";

/**
 * What one of the child's standard streams is connected to: a new pipe to the parent,
 * the parent's own stream, the null device, an open file descriptor of the parent, or
 * (stderr only) whatever stdout goes to.
 */
export type ProcessStdio = "pipe" | "inherit" | "devnull" | "stdout" | number;

/** What `ProcessDriver.spawn` starts: already checked by `@loop/process`. */
export interface SpawnOptions {
  /** The program: a path, or a name looked up on the PATH (of `env`, when given). */
  program: string;
  /** The arguments after the program's name. */
  args: readonly string[];
  stdin: Exclude<ProcessStdio, "stdout">;
  stdout: Exclude<ProcessStdio, "stdout">;
  stderr: ProcessStdio;
  /** The child's working directory; the parent's when absent. */
  cwd?: string;
  /** The child's whole environment; the parent's when absent. */
  env?: Readonly<Record<string, string>>;
  /** Start the child in a new session (`setsid`), so that it has its own process group. */
  startNewSession: boolean;
}

/**
 * The protocols a spawned child reports to (asyncio's `SubprocessProtocol`, split per
 * pipe). Each pipe's `connectionMade` is called before `spawn`'s future resolves; every
 * later call comes from a loop callback, never re-entrantly from a handle method.
 */
export interface ProcessProtocols {
  /** Hears of the stdin pipe (pauseWriting/resumeWriting for backpressure, connectionLost). */
  stdin?: BaseProtocol;
  /** Receives stdout's bytes, its end (`eofReceived`), then `connectionLost`. */
  stdout?: Protocol;
  stderr?: Protocol;
  /**
   * The child ended: its exit status, or minus the number of the signal that killed it.
   * Called once, after the child was reaped; the pipes may still hold unread bytes.
   */
  processExited(returncode: number): void;
}

/**
 * A started child (asyncio's `SubprocessTransport`). Invariant: `returncode` is null
 * until `processExited` has been called, and the number given to it from then on.
 */
export interface ProcessHandle {
  readonly pid: number;
  readonly returncode: number | null;
  /** The parent's end of the child's stdin pipe, or null when stdin is not a pipe. */
  readonly stdin: WriteTransport | null;
  readonly stdout: ReadTransport | null;
  readonly stderr: ReadTransport | null;
  /**
   * Sends a signal (a name such as "SIGTERM", or a number). Does nothing once the child
   * has exited, so that a reused pid is never signalled. Throws a `RangeError` for a
   * signal the host does not know.
   */
  sendSignal(signal: string | number): void;
  /** Kills the child (SIGKILL) if it still runs and closes the pipes; the child is still reaped. */
  close(): void;
}

/**
 * A poller's way to start child processes. Failures to start reject the future with an
 * `Error` whose `code` is the OS's (`ENOENT`, `EACCES`) and whose message names the
 * program. Cancelling the pending future kills and reaps a child that was started anyway.
 */
export interface ProcessDriver {
  spawn(loop: EventLoop, options: SpawnOptions, protocols: ProcessProtocols): Future<ProcessHandle>;
}

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
  /** Where the child's stdin comes from. */
  stdin: Exclude<ProcessStdio, "stdout">;
  /** Where the child's stdout goes. */
  stdout: Exclude<ProcessStdio, "stdout">;
  /** Where the child's stderr goes; "stdout" sends it wherever stdout goes. */
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
  /** Receives stderr's bytes, its end (`eofReceived`), then `connectionLost`. */
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
  /** The child's process id (asyncio's `get_pid`). */
  readonly pid: number;
  /** The exit status, minus the signal's number when a signal killed it; null while the child runs (asyncio's `get_returncode`). */
  readonly returncode: number | null;
  /** The parent's end of the child's stdin pipe, or null when stdin is not a pipe. */
  readonly stdin: WriteTransport | null;
  /** The parent's end of the child's stdout pipe, or null when stdout is not a pipe. */
  readonly stdout: ReadTransport | null;
  /** The parent's end of the child's stderr pipe, or null when stderr is not a pipe. */
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
  /**
   * Starts a child as `options` say, reporting to `protocols`; the future resolves to its
   * handle once it runs and every pipe's `connectionMade` was called (asyncio's
   * `loop.subprocess_exec` underneath).
   */
  spawn(loop: EventLoop, options: SpawnOptions, protocols: ProcessProtocols): Future<ProcessHandle>;
}

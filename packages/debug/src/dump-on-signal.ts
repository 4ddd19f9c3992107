import { getRunningLoop, type EventLoop } from "@loop/core";
import { formatTaskTree } from "./task-tree.js";

/** Options of `dumpTasksOnSignal`. */
export interface DumpOnSignalOptions {
  /** The signal to listen for (default SIGUSR2, which Node leaves free). */
  signal?: NodeJS.Signals;
  /** Where the tree goes (default: stderr). */
  write?: (text: string) => void;
}

/**
 * Opt-in: prints the loop's task tree each time the process receives SIGUSR2 (or the
 * signal given), so that a stuck server can be asked what it waits on with
 * `kill -USR2 <pid>`. The dump runs between loop turns, from Node's own event loop.
 * Returns a function that removes the handler.
 * @example
 * const stop = dumpTasksOnSignal(loop);
 * // later: stop();
 */
export function dumpTasksOnSignal(loop?: EventLoop, opts?: DumpOnSignalOptions): () => void {
  const target = loop ?? getRunningLoop();
  const signal = opts?.signal ?? "SIGUSR2";
  if (typeof signal !== "string" || !signal.startsWith("SIG")) {
    throw new TypeError(`dumpTasksOnSignal(loop, { signal }): signal must be a signal name like "SIGUSR2", got ${String(signal)}`);
  }
  const write = opts?.write ?? ((text: string) => process.stderr.write(text));
  const onSignal = (): void => {
    if (target.isClosed()) return;
    write(`[@loop] task tree of pid ${process.pid} at ${new Date().toISOString()} (${signal})\n${formatTaskTree(target)}\n`);
  };
  process.on(signal, onSignal);
  return () => {
    process.off(signal, onSignal);
  };
}

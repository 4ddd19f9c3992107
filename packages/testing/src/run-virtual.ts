import { run, type Coroutine, type NetDriver, type ProcessDriver, type RunOptions } from "@loop/core";
import { VirtualPoller } from "./virtual-poller.js";
import type { VirtualSignals } from "./virtual-signals.js";

/** Options of `runVirtual()`. */
export interface RunVirtualOptions {
  /** Shuffle the order of task steps made ready in the same turn (see `VirtualPoller`). */
  seed?: number;
  /** A network driver, e.g. the in-memory network. */
  net?: NetDriver;
  /** A process driver for `@loop/process`, e.g. scripted `FakeProcesses`. */
  processes?: ProcessDriver;
  /** Debug mode, as in `run`. */
  debug?: boolean;
  /** Where the virtual clock starts, in ms; default 0. */
  startMs?: number;
  /** The signals the run sees: raise one with `signals.raise("SIGINT")` (see `VirtualSignals`). */
  signals?: VirtualSignals;
  /** As in `run`: which raised signals interrupt the run like Ctrl-C; SIGINT by default. */
  handleSignals?: RunOptions["handleSignals"];
  /** As in `run`: aborting it cancels the main task. */
  signal?: RunOptions["signal"];
}

/**
 * `run` on a loop with a `VirtualPoller`: the clock starts at 0 and jumps to the next
 * timer whenever nothing is ready and nothing outside the loop is pending, so hour-long
 * timeouts take no real time. Shaped like `run` (same shutdown: cancel what is left, let
 * it clean up, close). If the run deadlocks it rejects with a `DeadlockError` naming every
 * blocked task.
 * @example
 * await runVirtual(function* () {
 *   yield* sleep(3_600_000);
 *   return getRunningLoop().time(); // 3_600_000, at once
 * });
 */
export function runVirtual<T>(main: Coroutine<T> | (() => Coroutine<T>), opts?: RunVirtualOptions): Promise<T> {
  let poller: VirtualPoller;
  try {
    if (opts !== undefined && (typeof opts !== "object" || opts === null)) {
      throw new TypeError("runVirtual(main, opts): opts must be an object like { seed, net, debug, signals }");
    }
    poller = new VirtualPoller({ seed: opts?.seed, net: opts?.net, processes: opts?.processes, startMs: opts?.startMs, signals: opts?.signals });
  } catch (error) {
    return Promise.reject(error);
  }
  return run(main, { poller, debug: opts?.debug, handleSignals: opts?.handleSignals, signal: opts?.signal }).catch((error: unknown) => {
    // The poller stopped the loop: the deadlock, not "stopped before completion", is the story.
    throw poller.deadlock ?? error;
  });
}

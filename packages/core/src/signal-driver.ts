/**
 * The `signals` capability of a poller: how the loop hears of the process's signals
 * (asyncio's `add_signal_handler` sits on `signal.set_wakeup_fd`; here the poller brings
 * the host's mechanism). A leaf file: the contract imports nothing.
 */

/** A listener the driver calls, from a host callback, each time the process receives `signal`. */
export type SignalListener = (signal: string) => void;

/**
 * What a poller offers as `poller.signals`. The default poller's uses `process.on` /
 * `process.off` where there is a `process`; the virtual-time poller of `@loop/testing`
 * delivers signals a test raises. Signal names are the POSIX ones Node uses ("SIGINT").
 *
 * A driver may carry listeners of several loops at once: `add` and `remove` pair by
 * listener identity. It calls listeners from the host (never synchronously inside
 * `add`/`remove`); the loop turns each delivery into a loop callback itself.
 */
export interface SignalDriver {
  /** True when `signal` can be watched here (Node: not in a worker thread, which never receives signals). */
  supports(signal: string): boolean;
  /** Starts calling `listener(signal)` whenever the process receives `signal`. */
  add(signal: string, listener: SignalListener): void;
  /** Stops calling `listener` for `signal` (nothing happens if it was not added). */
  remove(signal: string, listener: SignalListener): void;
  /**
   * How many listeners for `signal` the host has that did not come through this driver
   * (another library's `process.on("SIGINT")`). `run()` leaves SIGINT alone, by default,
   * when there are any. Absent: none.
   */
  foreignListeners?(signal: string): number;
  /** Delivers `signal` to this process, as if it came from outside (Python's `signal.raise_signal`). */
  raise(signal: string): void;
  /**
   * Ends the process as `signal`'s default action would: killed by it, so that a shell
   * sees status 128 + its number (CPython's exit after an uncaught KeyboardInterrupt).
   * `run()` calls it for a second SIGINT during cleanup. Absent: the run goes on.
   */
  exitBySignal?(signal: string): void;
  /**
   * Arranges for the process to end by `exitBySignal(signal)` if `error` is thrown and
   * left uncaught (nothing happens when something catches it). `run()` calls it just
   * before rejecting with a `KeyboardInterrupt`. Absent: an uncaught error ends the
   * process however the host ends it.
   */
  exitBySignalIfUncaught?(error: Error, signal: string): void;
}

import type { SignalDriver, SignalListener } from "@loop/core";

/**
 * The signals of a virtual process: a `SignalDriver` that delivers only the signals a test
 * raises. `VirtualPoller` has one (`poller.signals`), so `loop.addSignalHandler` and
 * `run()`'s Ctrl-C handling can be tested in-process, without touching the real process.
 *
 * `raise(signal)` calls the listeners at once, as the host calls them when a real signal
 * arrives; from inside a coroutine that is a signal arriving at that exact point.
 * @example
 * const signals = new VirtualSignals();
 * await runVirtual(function* () {
 *   signals.raise("SIGINT"); // run() cancels this task: the sleep below throws CancelledError
 *   yield* sleep(1_000);
 * }, { signals }); // rejects with KeyboardInterrupt
 */
export class VirtualSignals implements SignalDriver {
  /**
   * The signals `exitBySignal` was asked to end the process with (a second Ctrl-C while
   * `run()` cleans up): a real process would be gone; the test's goes on and can check.
   */
  readonly exits: string[] = [];
  private readonly _listeners = new Map<string, SignalListener[]>();

  /** Every signal but SIGKILL and SIGSTOP, which a real process cannot handle either. */
  supports(signal: string): boolean {
    return signal !== "SIGKILL" && signal !== "SIGSTOP";
  }

  /** Calls `listener` each time a test raises `signal`. */
  add(signal: string, listener: SignalListener): void {
    const list = this._listeners.get(signal);
    if (list === undefined) this._listeners.set(signal, [listener]);
    else list.push(listener);
  }

  /** Stops calling `listener` for `signal`; does nothing when it was not added. */
  remove(signal: string, listener: SignalListener): void {
    const list = this._listeners.get(signal);
    const at = list?.indexOf(listener) ?? -1;
    if (list === undefined || at === -1) return;
    list.splice(at, 1);
    if (list.length === 0) this._listeners.delete(signal);
  }

  /** How many listeners `signal` has (a test's leak check: 0 once the loop closed). */
  listenerCount(signal: string): number {
    return this._listeners.get(signal)?.length ?? 0;
  }

  /** Delivers `signal` to every listener added for it, in the order they were added. */
  raise(signal: string): void {
    if (typeof signal !== "string" || signal === "") throw new TypeError(`VirtualSignals.raise(signal): signal must be a signal name such as "SIGINT"`);
    const list = this._listeners.get(signal);
    if (list === undefined) return;
    for (const listener of [...list]) listener(signal);
  }

  /** Records `signal` in `exits` instead of ending the process. */
  exitBySignal(signal: string): void {
    this.exits.push(signal);
  }
}

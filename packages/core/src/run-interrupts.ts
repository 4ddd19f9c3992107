/**
 * What `run()` does about signals and its `signal` option: asyncio's `Runner` (3.11+).
 * The first interrupting signal cancels the main task; once it has finished its cleanup,
 * `run()` rejects with `KeyboardInterrupt` instead of `CancelledError`. A second signal,
 * or one after the main task finished, ends the process at once (CPython raises
 * KeyboardInterrupt from the signal handler there; a host listener cannot throw into the
 * loop, so it ends the process as the signal's default action would).
 */

import { CancelledError, KeyboardInterrupt } from "./errors.js";
import type { AbortSignalLike } from "./host-globals.js";
import type { EventLoop } from "./loop.js";
import type { Poller } from "./types.js";
import type { SignalDriver } from "./signal-driver.js";
import { checkSignalName } from "./signal-handlers.js";
import type { Task } from "./task.js";

/**
 * The signals `run()` should handle, from its `handleSignals` option: by default SIGINT
 * when the poller delivers it here and no other SIGINT listener is installed (asyncio's
 * Runner checks that SIGINT still has Python's default handler). Throws for a bad option.
 */
export function signalsToHandle(handleSignals: unknown, poller: Poller | undefined, defaultSignals: SignalDriver | undefined): readonly string[] {
  const where = "run(main, { handleSignals })";
  const driver = poller === undefined ? defaultSignals : poller.signals;
  if (handleSignals === undefined) {
    if (driver === undefined || !driver.supports("SIGINT") || (driver.foreignListeners?.("SIGINT") ?? 0) > 0) return [];
    return ["SIGINT"];
  }
  if (handleSignals === false) return [];
  let list: readonly string[];
  if (handleSignals === true) list = ["SIGINT"];
  else if (Array.isArray(handleSignals)) list = handleSignals.map((s: unknown) => checkSignalName(where, s));
  else throw new TypeError(`${where}: handleSignals must be true, false or a list of signal names such as ["SIGINT", "SIGTERM"]`);
  if (list.length === 0) return [];
  if (driver === undefined) throw new Error(`${where}: the poller has no signals capability, so run() cannot handle ${list.join(", ")}; pass handleSignals: false`);
  for (const s of list) if (!driver.supports(s)) throw new Error(`${where}: ${s} cannot be watched here (Node delivers signals to the main thread only)`);
  return [...new Set(list)];
}

/** Checks `run`'s `signal` option: an AbortSignal, or undefined. */
export function checkAbortSignal(signal: unknown): AbortSignalLike | undefined {
  if (signal === undefined) return undefined;
  const s = signal as Partial<AbortSignalLike> | null;
  if (typeof s !== "object" || s === null || typeof s.aborted !== "boolean" || typeof s.addEventListener !== "function") {
    throw new TypeError("run(main, { signal }): signal must be an AbortSignal (e.g. AbortController's signal)");
  }
  return signal as AbortSignalLike;
}

/**
 * One run's interruptions. Invariant: `_interrupts` counts the signals that reached
 * `_onSignal` (asyncio's `_interrupt_count`); `_signal` is the first of them that
 * cancelled the main task and `_aborted` whether the AbortSignal did, each having added
 * exactly one cancellation request to the task.
 */
export class RunInterrupts {
  private _task: Task<unknown> | null = null;
  private _interrupts = 0;
  private _signal: string | null = null;
  private _aborted = false;
  private _closed = false;
  private readonly _driver: SignalDriver | undefined;

  constructor(
    private readonly _loop: EventLoop,
    private readonly _signals: readonly string[],
    private readonly _abort: AbortSignalLike | undefined,
  ) {
    // Used only for the signals in _signals, which signalsToHandle leaves empty unless
    // the poller has this capability.
    this._driver = _loop.poller.signals;
  }

  /** Starts watching for `task`, the main task. */
  watch(task: Task<unknown>): void {
    this._task = task;
    const driver = this._driver;
    if (driver !== undefined) for (const s of this._signals) driver.add(s, this._onSignal);
    const abort = this._abort;
    if (abort !== undefined) {
      if (abort.aborted) this._onAbort();
      // Stryker disable next-line ObjectLiteral,BooleanLiteral: an AbortSignal dispatches "abort" once, and close() removes the listener anyway; once only frees it sooner
      else abort.addEventListener("abort", this._onAbort, { once: true });
    }
  }

  /** Stops watching; the host's signals get their default action back. */
  close(): void {
    if (this._closed) return;
    this._closed = true;
    const driver = this._driver;
    // Stryker disable next-line ConditionalExpression: _signals is empty unless the poller has a driver, so the loop does nothing without one
    if (driver !== undefined) for (const s of this._signals) driver.remove(s, this._onSignal);
    this._abort?.removeEventListener("abort", this._onAbort);
  }

  /**
   * What `run()` rejects with when the main task failed with `error` (asyncio's
   * `Runner.run`): a cancellation we caused, and no other, becomes `KeyboardInterrupt`
   * (or the AbortSignal's reason); anything else stays as it is.
   */
  explain(task: Task<unknown>, error: unknown): unknown {
    // Stryker disable next-line LogicalOperator: runUntilComplete rejects with a CancelledError exactly when the task was cancelled, so either test alone decides
    if (!(error instanceof CancelledError) || !task.cancelled()) return error;
    if (this._signal === null && !this._aborted) return error;
    let remaining = task.cancelling();
    if (this._signal !== null) remaining = task.uncancel();
    if (this._aborted) remaining = task.uncancel();
    if (remaining > 0) return error;
    // Stryker disable next-line OptionalChaining: only the AbortSignal's listener sets _aborted, so _abort is defined here
    if (this._signal === null) return this._abort?.reason;
    const interrupt = new KeyboardInterrupt(this._signal);
    const driver = this._driver;
    // Stryker disable next-line ConditionalExpression: _signal is set only by a listener added to the driver, so it is defined here
    if (driver !== undefined) driver.exitBySignalIfUncaught?.(interrupt, this._signal);
    return interrupt;
  }

  private readonly _onSignal = (signal: string): void => {
    // A handler the program added with loop.addSignalHandler replaces ours, as
    // add_signal_handler replaces the Runner's SIGINT handler in asyncio.
    if (this._closed || this._loop._signalHandlers?.has(signal) === true) return;
    const task = this._task;
    const driver = this._driver;
    // Stryker disable next-line ConditionalExpression,LogicalOperator: watch() sets _task before it adds this listener to the driver, so neither is missing here
    if (task === null || driver === undefined) return;
    if (++this._interrupts === 1 && !task.done()) {
      this._signal = signal;
      task.cancel();
      return;
    }
    driver.exitBySignal?.(signal);
  };

  private readonly _onAbort = (): void => {
    const task = this._task;
    // Stryker disable next-line ConditionalExpression: watch() sets _task before it adds this listener or calls it
    if (task === null) return;
    if (this._closed || this._aborted || task.done()) return;
    this._aborted = true;
    task.cancel();
  };
}

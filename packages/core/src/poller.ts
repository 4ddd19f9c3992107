import { hostGlobals as host, monotonicNow } from "./host-globals.js";
import { hostSignalDriver } from "./host-signals.js";
import type { SignalDriver } from "./signal-driver.js";
import type { LoopDriver, Poller } from "./types.js";

// The poller contract (`Poller`, `LoopDriver`) is in types.ts: the loop's interface names it.

const MAX_HOST_TIMEOUT_MS = 2_147_483_647;

/**
 * The default poller: the host's own timers. On Node it waits with `setTimeout` and
 * resumes with `setImmediate` (so Node's I/O callbacks run between batches of turns); in a
 * browser it resumes with a `MessageChannel` message. An idle loop holds no timer and
 * costs no CPU.
 */
export class DefaultPoller implements Poller {
  /** "default". */
  readonly name: string = "default";
  /** `process.on`/`process.off` where there is a `process` (Node); absent in a browser. */
  readonly signals?: SignalDriver = hostSignalDriver();
  private _driver: LoopDriver | null = null;
  // Invariant: `_timer` is the host timer of the pending wait, or null; `_timerDeadline`
  // is when it fires (Infinity when there is none). `_resumeQueued`: a host callback that
  // resumes the loop is queued. Both may be set at once; the first to run resumes, and
  // the other finds itself stale and resumes harmlessly.
  private _timer: unknown = null;
  private _timerDeadline = Infinity;
  private _resumeQueued = false;
  private _closed = false;
  private readonly _queueResume: () => void;
  private _channel: InstanceType<NonNullable<typeof host.MessageChannel>> | null = null;

  constructor() {
    if (typeof host.setImmediate === "function") {
      const setImmediate = host.setImmediate;
      this._queueResume = () => setImmediate(this._onQueued);
    } else if (typeof host.MessageChannel === "function") {
      const channel = new host.MessageChannel();
      channel.port1.onmessage = this._onQueued;
      this._channel = channel;
      this._queueResume = () => channel.port2.postMessage(null);
    } else {
      this._queueResume = () => host.setTimeout(this._onQueued, 0);
    }
  }

  /** Keeps the loop's driver, to call its `resume()` from host callbacks. */
  attach(driver: LoopDriver): void {
    this._driver = driver;
  }

  /** The host's monotonic clock, in ms: `performance.now()` (`Date.now()` where there is none). */
  time(): number {
    return monotonicNow();
  }

  /**
   * Arms one host `setTimeout` for the wait (rounded up to whole ms); `0` queues a resume
   * after the host's pending callbacks instead, and `null` disarms the timer.
   */
  wait(timeoutMs: number | null): void {
    if (this._closed) return;
    if (timeoutMs !== null && timeoutMs <= 0) {
      this._cancelTimer();
      this._requestResume();
      return;
    }
    if (timeoutMs === null || timeoutMs === Infinity) {
      this._cancelTimer();
      return;
    }
    const deadline = this.time() + timeoutMs;
    // Re-arming a host timer costs more than a loop turn; keep one that is due no later.
    // (With no timer armed, _timerDeadline is Infinity and this never holds.)
    if (this._timerDeadline <= deadline && this._timerDeadline > deadline - 1) return;
    this._cancelTimer();
    this._timerDeadline = deadline;
    // Host timers have millisecond granularity and may round down: round up, so that the
    // turn they start finds the timer due instead of spinning through an early turn.
    // Host timers also overflow past 2^31-1 ms (about 24.8 days) and would fire at once:
    // cap the wait; the turn it starts finds nothing due and waits again.
    this._timer = host.setTimeout(this._onTimer, Math.min(Math.ceil(timeoutMs), MAX_HOST_TIMEOUT_MS));
  }

  /** Queues a resume (`setImmediate`, or a `MessageChannel` message in a browser). */
  wakeup(): void {
    if (this._closed || this._driver === null) return;
    this._requestResume();
  }

  /** Clears the pending timer and closes the message channel; no resume follows. */
  close(): void {
    this._closed = true;
    this._cancelTimer();
    if (this._channel !== null) {
      this._channel.port1.close();
      this._channel.port2.close();
      this._channel = null;
    }
  }

  private _requestResume(): void {
    if (this._resumeQueued) return;
    this._resumeQueued = true;
    this._queueResume();
  }

  private _cancelTimer(): void {
    // Stryker disable next-line ConditionalExpression: clearTimeout(null) does nothing on every host, and the fields are already null and Infinity then
    if (this._timer !== null) {
      host.clearTimeout(this._timer);
      this._timer = null;
      this._timerDeadline = Infinity;
    }
  }

  private readonly _onTimer = (): void => {
    this._timer = null;
    this._timerDeadline = Infinity;
    if (!this._closed) this._driver?.resume();
  };

  private readonly _onQueued = (): void => {
    this._resumeQueued = false;
    if (!this._closed) this._driver?.resume();
  };
}

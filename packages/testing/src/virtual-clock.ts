/**
 * The clock of a `VirtualPoller`: virtual milliseconds that start at 0 and move only when
 * the poller jumps them to the next timer (or a test calls `jump`). Exposed so that
 * simulated devices (the in-memory network's latency, a fake sensor) can read the same
 * time the loop reads; they schedule work with `loop.callLater`, which runs on it.
 */
export class VirtualClock {
  private _now: number;
  private _onJump: (() => void) | null = null;

  constructor(startMs = 0) {
    if (typeof startMs !== "number" || !Number.isFinite(startMs)) {
      throw new RangeError(`new VirtualClock(startMs): startMs must be a finite number of milliseconds, got ${String(startMs)}`);
    }
    this._now = startMs;
  }

  /** The current virtual time in ms. */
  now(): number {
    return this._now;
  }

  /**
   * Moves the clock forward by `ms` at once, as trio's `MockClock.jump`: timers that
   * become due run on the loop's next turn.
   * @example
   * poller.clock.jump(60_000); // a minute passes
   */
  jump(ms: number): void {
    if (typeof ms !== "number" || Number.isNaN(ms) || ms < 0 || !Number.isFinite(ms)) {
      throw new RangeError(`VirtualClock.jump(ms): ms must be a finite number >= 0, got ${String(ms)}`);
    }
    this._now += ms;
    this._onJump?.();
  }

  /** @internal The poller advances the clock to `whenMs` (never backwards). */
  _advanceTo(whenMs: number): void {
    if (whenMs > this._now) this._now = whenMs;
  }

  /** @internal The poller listens for manual jumps, to wake the loop. */
  _listen(onJump: (() => void) | null): void {
    this._onJump = onJump;
  }
}

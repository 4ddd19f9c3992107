/**
 * A worked example of a poller plugin (see CONTRIBUTING.md, "Writing a poller"): it wraps
 * another poller and counts how the loop uses it — resumptions, waits by kind, and
 * wake-ups. Everything it does not count it hands to the inner poller, so it keeps the
 * inner poller's clock, network and behaviour. Tested by `test/counting-poller.test.ts`,
 * which runs the conformance kit on it.
 */
import { DefaultPoller, type LoopDriver, type NetDriver, type Poller } from "@loop/core";

export interface PollerCounts {
  /** Waits that ended with the poller resuming the loop (`driver.resume` calls). */
  resumes: number;
  /** `wait(0)`: the loop had callbacks ready but let the host run first. */
  busy: number;
  /** `wait(t)` with t > 0: the loop waited for a timer. */
  timed: number;
  /** `wait(null)`: the loop waited for outside work only. */
  idle: number;
  /** `wakeup()` calls. */
  wakeups: number;
}

export class CountingPoller implements Poller {
  readonly name: string;
  readonly counts: PollerCounts = { resumes: 0, busy: 0, timed: 0, idle: 0, wakeups: 0 };
  private readonly _inner: Poller;

  constructor(inner: Poller = new DefaultPoller()) {
    this._inner = inner;
    this.name = `counting(${inner.name})`;
  }

  get net(): NetDriver | undefined {
    return this._inner.net;
  }

  attach(driver: LoopDriver): void {
    // Hand the inner poller a driver whose resume counts on the way through.
    const counts = this.counts;
    this._inner.attach({
      loop: driver.loop,
      resume(): void {
        counts.resumes++;
        driver.resume();
      },
      externalPending: () => driver.externalPending(),
    });
  }

  time(): number {
    return this._inner.time();
  }

  wait(timeoutMs: number | null): boolean | void {
    if (timeoutMs === null) this.counts.idle++;
    else if (timeoutMs <= 0) this.counts.busy++;
    else this.counts.timed++;
    return this._inner.wait(timeoutMs);
  }

  wakeup(): void {
    this.counts.wakeups++;
    this._inner.wakeup();
  }

  close(): void {
    this._inner.close();
  }
}

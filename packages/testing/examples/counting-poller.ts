/**
 * A worked example of a poller plugin (see CONTRIBUTING.md, "Writing a poller"): it wraps
 * another poller and counts how the loop uses it — turns, waits by kind, and wake-ups.
 * Everything it does not count it hands to the inner poller, so it keeps the inner
 * poller's clock, network and behaviour. Tested by `test/counting-poller.test.ts`, which
 * runs the conformance kit on it.
 */
import { DefaultPoller, type NetDriver, type Poller, type PollerHost } from "@loop/core";

export interface PollerCounts {
  /** Turns the loop ran (`host.runOnce` calls). */
  turns: number;
  /** `schedule(0)`: the loop had callbacks ready. */
  busy: number;
  /** `schedule(t)` with t > 0: the loop waited for a timer. */
  timed: number;
  /** `schedule(null)`: the loop waited for outside work only. */
  idle: number;
  /** `wakeup()` calls. */
  wakeups: number;
}

export class CountingPoller implements Poller {
  readonly name: string;
  readonly counts: PollerCounts = { turns: 0, busy: 0, timed: 0, idle: 0, wakeups: 0 };
  private readonly _inner: Poller;

  constructor(inner: Poller = new DefaultPoller()) {
    this._inner = inner;
    this.name = `counting(${inner.name})`;
  }

  get net(): NetDriver | undefined {
    return this._inner.net;
  }

  attach(host: PollerHost): void {
    // Hand the inner poller a host whose runOnce counts the turn on the way through.
    const counts = this.counts;
    this._inner.attach({
      loop: host.loop,
      runOnce(): void {
        counts.turns++;
        host.runOnce();
      },
      externalPending: () => host.externalPending(),
    });
  }

  time(): number {
    return this._inner.time();
  }

  schedule(timeoutMs: number | null): void {
    if (timeoutMs === null) this.counts.idle++;
    else if (timeoutMs <= 0) this.counts.busy++;
    else this.counts.timed++;
    this._inner.schedule(timeoutMs);
  }

  wakeup(): void {
    this.counts.wakeups++;
    this._inner.wakeup();
  }

  close(): void {
    this._inner.close();
  }
}

import { describe, expect, test } from "vitest";
import { DefaultPoller, type Poller, type PollerHost } from "@loop/core";
import { pollerConformance, type TestRegistrar } from "../src/index.js";

/** Runs the kit against `make` outside vitest and returns the checks that failed, by name. */
async function failures(make: () => Poller, stuckAfterMs = 300): Promise<string[]> {
  const checks: { name: string; body: () => Promise<void> }[] = [];
  const registrar: TestRegistrar = {
    describe: (_name, body) => body(),
    it: (name, body) => checks.push({ name, body }),
  };
  pollerConformance(make, registrar, { stuckAfterMs });
  const failed: string[] = [];
  for (const c of checks) {
    try {
      await c.body();
    } catch {
      failed.push(c.name);
    }
  }
  return failed;
}

/** A poller that breaks one rule and otherwise behaves like the default one. */
function broken(patch: (inner: DefaultPoller, host: () => PollerHost) => Partial<Poller>): () => Poller {
  return () => {
    const inner = new DefaultPoller();
    let host: PollerHost | null = null;
    const base: Poller = {
      name: "broken",
      attach: (h) => {
        host = h;
        inner.attach(h);
      },
      time: () => inner.time(),
      schedule: (t) => inner.schedule(t),
      wakeup: () => inner.wakeup(),
      close: () => inner.close(),
    };
    return Object.assign(base, patch(inner, () => host!));
  };
}

describe("the conformance kit catches broken pollers", () => {
  test("a poller that runs the turn synchronously inside schedule()", async () => {
    const failed = await failures(broken((inner, host) => ({ schedule: (t) => (t === 0 ? host().runOnce() : inner.schedule(t)) })));
    expect(failed).toContain("never calls runOnce synchronously inside schedule() or wakeup()");
  }, 60_000);

  test("a poller that ignores wakeup()", async () => {
    const failed = await failures(broken(() => ({ wakeup: () => {} })));
    expect(failed).toContain("schedule(null) waits for wakeup() only; wakeup() from outside ends the wait");
    expect(failed).toContain("wakeup() ends a long timed wait early");
  }, 60_000);

  test("a poller that treats every timeout as 0 (busy-waits)", async () => {
    const failed = await failures(broken((inner) => ({ schedule: (t) => inner.schedule(t === null ? 0 : 0) })));
    expect(failed).toContain("does not busy-wait while idle: no turns and no queued host callbacks during a long wait");
    expect(failed).toContain("schedule(50) turns once, not before 50 ms have passed on the poller's clock");
  }, 60_000);

  test("a clock that goes back", async () => {
    let t = 1_000;
    const failed = await failures(broken(() => ({ time: () => (t -= 1) })));
    expect(failed).toContain("time() is a finite number that never goes back, within a turn and across turns");
  }, 60_000);

  test("a poller whose close() leaves its timer running", async () => {
    const failed = await failures(broken(() => ({ close: () => {} })));
    expect(failed).toContain("close() ends pending turns, makes schedule()/wakeup() harmless and leaves no host timer behind");
  }, 60_000);

  test("the default poller fails nothing", async () => {
    expect(await failures(() => new DefaultPoller(), 4_000)).toEqual([]);
  }, 60_000);

  test("arguments are checked", () => {
    expect(() => pollerConformance(null as never, { describe: () => {}, it: () => {} })).toThrow(TypeError);
    expect(() => pollerConformance(() => new DefaultPoller(), {} as never)).toThrow(/describe, it/);
  });
});

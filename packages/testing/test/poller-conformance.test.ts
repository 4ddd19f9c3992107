import { describe, expect, test } from "vitest";
import { DefaultPoller, type Poller, type LoopDriver } from "@loop/core";
import { VirtualSignals, pollerConformance, type TestRegistrar } from "../src/index.js";

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
function broken(patch: (inner: DefaultPoller, host: () => LoopDriver) => Partial<Poller>): () => Poller {
  return () => {
    const inner = new DefaultPoller();
    let host: LoopDriver | null = null;
    const base: Poller = {
      name: "broken",
      attach: (h) => {
        host = h;
        inner.attach(h);
      },
      time: () => inner.time(),
      wait: (t) => inner.wait(t),
      wakeup: () => inner.wakeup(),
      close: () => inner.close(),
    };
    return Object.assign(base, patch(inner, () => host!));
  };
}

describe("the conformance kit catches broken pollers", () => {
  test("a poller that resumes synchronously inside wait()", async () => {
    const failed = await failures(broken((inner, host) => ({ wait: (t) => (t === 0 ? host().resume() : inner.wait(t)) })));
    expect(failed).toContain("never calls resume() synchronously inside wait() or wakeup()");
  }, 60_000);

  test("a poller whose wait(null) still fires its last timer", async () => {
    const failed = await failures(broken((inner) => ({ wait: (t) => (t === null ? undefined : inner.wait(t)) })));
    expect(failed).toContain("a newer wait replaces an older one: wait(60000) then wait(0) resumes at once, wait(0) then wait(null) not at all");
  }, 60_000);

  test("a poller that ignores wakeup()", async () => {
    const failed = await failures(broken(() => ({ wakeup: () => {} })));
    expect(failed).toContain("wait(null) waits for wakeup() only; wakeup() from outside ends the wait");
    expect(failed).toContain("wakeup() ends a long timed wait early");
  }, 60_000);

  test("a poller that treats every timeout as 0 (busy-waits)", async () => {
    const failed = await failures(broken((inner) => ({ wait: (t) => inner.wait(t === null ? 0 : 0) })));
    expect(failed).toContain("does not busy-wait while idle: no turns and no queued host callbacks during a long wait");
    expect(failed).toContain("wait(50) resumes once, not before 50 ms have passed on the poller's clock (or returns true, 50 ms later)");
  }, 60_000);

  test("a clock that goes back", async () => {
    let t = 1_000;
    const failed = await failures(broken(() => ({ time: () => (t -= 1) })));
    expect(failed).toContain("time() is a finite number that never goes back, within a turn and across waits");
  }, 60_000);

  test("a poller whose close() leaves its timer running", async () => {
    const failed = await failures(broken(() => ({ close: () => {} })));
    expect(failed).toContain("close() ends pending waits, makes wait()/wakeup() harmless and leaves no host timer behind");
  }, 60_000);

  test("a signals capability that calls listeners inside add() and whose remove() does nothing", async () => {
    class BrokenSignals extends VirtualSignals {
      override add(signal: string, listener: (signal: string) => void): void {
        super.add(signal, listener);
        listener(signal);
      }
      override remove(): void {}
    }
    const failed = await failures(broken(() => ({ signals: new BrokenSignals() })));
    expect(failed).toContain("signals: a raised signal reaches every listener added for it, never synchronously inside add()");
    expect(failed).toContain("signals: remove() stops that listener only");
  }, 60_000);

  test("the default poller fails nothing", async () => {
    expect(await failures(() => new DefaultPoller(), 4_000)).toEqual([]);
  }, 60_000);

  test("a driver that cannot watch the checks' signals here is not held to delivering them", async () => {
    // Node's default driver on a worker thread says so through supports(); one that says
    // so but breaks the interface still fails the first check.
    class Unwatchable extends VirtualSignals {
      override supports(): boolean {
        return false;
      }
      override add(signal: string, listener: (signal: string) => void): void {
        super.add(signal, listener);
        listener(signal);
      }
    }
    expect(await failures(broken(() => ({ signals: new Unwatchable() })))).toEqual([]);
    const names: string[] = [];
    pollerConformance(broken(() => ({ signals: new Unwatchable() })), { describe: (_n, body) => body(), it: (name) => void names.push(name) });
    expect(names.filter((n) => n.startsWith("signals:"))).toEqual([
      "signals: the driver has supports, add, remove and raise, and supports SIGINT or says why not",
    ]);
  }, 60_000);

  test("arguments are checked", () => {
    expect(() => pollerConformance(null as never, { describe: () => {}, it: () => {} })).toThrow(TypeError);
    expect(() => pollerConformance(() => new DefaultPoller(), {} as never)).toThrow(/describe, it/);
  });
});

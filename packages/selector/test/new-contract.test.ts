import { EventLoop, type LoopDriver } from "@loop/core";
import { describe, expect, it } from "vitest";
import { SelectorPoller } from "../src/index.js";
import { nativeStats } from "./helpers.js";
import { available } from "./native-available.js";

/**
 * The poller contract core is moving to: attach(driver), wait(timeoutMs), wakeup(), and
 * driver.resume() from a host callback. Driven here by a fake driver that counts resumes.
 */
function harness(): { poller: SelectorPoller; resumes: () => number; next: () => Promise<void> } {
  const poller = new SelectorPoller();
  let count = 0;
  let waiting: (() => void) | null = null;
  const driver: LoopDriver = {
    loop: new EventLoop(),
    resume() {
      count++;
      const w = waiting;
      waiting = null;
      w?.();
    },
    externalPending: () => 0,
  };
  poller.attach(driver);
  return {
    poller,
    resumes: () => count,
    next: () => new Promise<void>((resolve) => (waiting = resolve)),
  };
}

/** A few host macrotask turns (setImmediate), enough for a check-phase resume to happen. */
async function hostTurns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe.skipIf(!available)("SelectorPoller on the wait()/resume() contract", () => {
  it("wait(0) resumes from a host callback, never inside wait(); once per request", async () => {
    const h = harness();
    const resumed = h.next();
    h.poller.wait(0);
    expect(h.resumes()).toBe(0);
    await resumed;
    await hostTurns(5);
    expect(h.resumes()).toBe(1);
    h.poller.close();
  });

  it("wait(null) resumes only on wakeup(); wakeup() is never synchronous", async () => {
    const h = harness();
    h.poller.wait(null);
    await hostTurns(5);
    expect(h.resumes()).toBe(0);
    const resumed = h.next();
    h.poller.wakeup();
    h.poller.wakeup();
    expect(h.resumes()).toBe(0);
    await resumed;
    await hostTurns(5);
    expect(h.resumes()).toBe(1);
    h.poller.close();
  });

  it("wait(t) resumes once the poller's clock has passed t; a newer wait replaces it; close() ends it", async () => {
    const h = harness();
    const start = h.poller.time();
    const resumed = h.next();
    h.poller.wait(60_000);
    h.poller.wait(20);
    await resumed;
    expect(h.poller.time() - start).toBeGreaterThanOrEqual(20);
    h.poller.wait(20);
    expect(nativeStats()[2]).toBe(1); // the loop timer is armed…
    h.poller.close();
    expect(nativeStats()[2]).toBe(0); // …and close() disarmed it: no resume can follow
    expect(h.resumes()).toBe(1);
  });
});

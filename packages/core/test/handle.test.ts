import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { EventLoop, Handle, TimerHandle } from "../src/index.js";
import { VirtualPoller, virtualLoop } from "./helpers.js";

describe("Handle and TimerHandle", () => {
  test("a handle cancelled before it runs never runs and drops its callback", async () => {
    const { loop } = virtualLoop();
    const log: string[] = [];
    const big = { payload: "held" };
    const h = loop.callSoon((x: object) => log.push(String(x)), big);
    expect(h).toBeInstanceOf(Handle);
    h.cancel();
    expect(h._callback).toBe(null);
    expect(h._args).toEqual([]);
    loop.callSoon(() => loop.stop());
    await loop.runForever();
    loop.close();
    expect(log).toEqual([]);
  });

  test("cancelling a handle after it ran does nothing", async () => {
    const { loop } = virtualLoop();
    let n = 0;
    const h = loop.callSoon(() => n++);
    loop.callSoon(() => {
      h.cancel();
      loop.stop();
    });
    await loop.runForever();
    loop.close();
    expect(n).toBe(1);
  });

  test("TimerHandle.when() is the loop time it is due; callLater adds the delay to loop.time()", async () => {
    const { loop, poller } = virtualLoop();
    poller.now = 100;
    const t = loop.callLater(25, () => {});
    expect(t).toBeInstanceOf(TimerHandle);
    expect(t.when()).toBe(125);
    expect(loop.callAt(7, () => {}).when()).toBe(7);
    loop.close();
  });

  test("cancelling a timer twice counts it once", () => {
    const loop = new EventLoop({ poller: new VirtualPoller() });
    const t = loop.callLater(5, () => {});
    t.cancel();
    t.cancel();
    expect(loop._cancelledTimers).toBe(1);
    expect(loop.timerCount).toBe(0);
    loop.close();
  });

  test("toString names the callback", () => {
    const loop = new EventLoop({ poller: new VirtualPoller() });
    expect(String(loop.callSoon(function named() {}))).toBe("<Handle named()>");
    expect(String(loop.callSoon(() => {}))).toMatch(/^<Handle /);
    const anon = loop.callLater(1, (() => () => {})());
    expect(String(anon)).toBe("<TimerHandle <anonymous>()>");
    loop.close();
  });

  test("a callback runs in the context current when it was scheduled", async () => {
    const { loop } = virtualLoop();
    const { ContextVar, copyContext } = await import("../src/index.js");
    const v = new ContextVar<string>("v", { default: "none" });
    const ctx = copyContext();
    let seen = "";
    ctx.run(() => {
      v.set("inside");
      loop.callSoon(() => {
        seen = v.get();
      });
    });
    loop.callSoon(() => loop.stop());
    await loop.runForever();
    loop.close();
    expect(seen).toBe("inside");
    expect(v.get()).toBe("none");
  });

  test("ready-queue order is callSoon order, whatever the mix of callbacks and timers due", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 60 }), async (plan) => {
        const { loop } = virtualLoop();
        const log: number[] = [];
        loop.callSoon(() => {
          // Schedule from inside a turn: each callSoon lands in the next turn, in order.
          plan.forEach((_, i) => loop.callSoon(() => log.push(i)));
          loop.callSoon(() => loop.stop());
        });
        await loop.runForever();
        loop.close();
        expect(log).toEqual(plan.map((_, i) => i));
      }),
      { numRuns: 30 },
    );
  });

  test("timers with random delays fire in (when, sequence) order on the virtual poller", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 60 }), async (delays) => {
        const { loop } = virtualLoop();
        const log: [number, number][] = [];
        delays.forEach((d, i) => loop.callLater(d, () => log.push([d, i])));
        loop.callLater(100, () => loop.stop());
        await loop.runForever();
        loop.close();
        const expected = delays.map((d, i) => [d, i] as [number, number]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        expect(log).toEqual(expected);
      }),
      { numRuns: 30 },
    );
  });
});

import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { EventLoop, Handle, TimerHandle } from "../src/index.js";
import { TimerCallHandle, type CallbackHandle } from "../src/handle.js";
import { VirtualPoller, virtualLoop } from "./helpers.js";
import { propertyRuns } from "./property-runs.js";

describe("Handle and TimerHandle", () => {
  test("a handle cancelled before it runs never runs and drops its callback", async () => {
    const { loop } = virtualLoop();
    const log: string[] = [];
    const big = { payload: "held" };
    const h = loop.callSoon((x: object) => log.push(String(x)), big);
    expect(h).toBeInstanceOf(Handle);
    h.cancel();
    expect(h._callback).toBe(null);
    expect((h as CallbackHandle)._args).toEqual([]);
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

  test("a timer cancelled after it is due but before it runs does not run; cancelled() is true only after cancel()", async () => {
    // The wheel hands due timers to the ready queue as their bare callbacks: a cancel in
    // between must still take them out, as asyncio skips a cancelled handle in _ready.
    const { loop } = virtualLoop();
    const log: string[] = [];
    const timers: TimerHandle[] = [];
    timers.push(
      loop.callLater(5, () => {
        log.push("a");
        timers[1]!.cancel();
        timers[3]!.cancel();
      }),
      loop.callLater(5, () => log.push("b")),
      loop.callLater(5, () => log.push("c")),
      loop.callLater(5, (x: string) => log.push(x), "d"),
    );
    const pending = loop.callLater(50, () => log.push("never"));
    loop.callLater(10, () => loop.stop());
    await loop.runForever();
    expect(log).toEqual(["a", "c"]);
    expect(timers.map((t) => t.cancelled())).toEqual([false, true, false, true]);
    expect(timers.map((t) => t.when())).toEqual([5, 5, 5, 5]);
    // Cancelling after it ran does nothing but say so, as asyncio's Handle.cancel.
    timers[2]!.cancel();
    expect(timers[2]!.cancelled()).toBe(true);
    // Closing drops a pending timer: neither run nor cancelled, and cancelling it is harmless.
    loop.close();
    expect([pending.cancelled(), loop.timerCount]).toEqual([false, 0]);
    pending.cancel();
    expect(pending.cancelled()).toBe(true);
    expect(pending.when()).toBe(50);
  });

  test("cancelling a timer twice counts it once", () => {
    const loop = new EventLoop({ poller: new VirtualPoller() });
    const t = loop.callLater(5, () => {});
    t.cancel();
    t.cancel();
    expect(loop.timerCount).toBe(0);
    loop.close();
  });

  test("a timer runs with its arguments in its context, each of the four ways it can hold them, and a cancel drops both", async () => {
    const { loop } = virtualLoop();
    const { Context, ContextVar } = await import("../src/index.js");
    const v = new ContextVar<string>("v", { default: "empty" });
    const log: string[] = [];
    const record = (...args: unknown[]): void => {
      log.push(`${v.get()}:${args.join(",")}`);
    };
    const timers: TimerHandle[] = [];
    const schedule = (): void => {
      timers.push(loop.callLater(1, record), loop.callLater(2, record, "a", 1));
    };
    schedule();
    const ctx = new Context();
    ctx.run(() => {
      v.set("ctx");
      schedule();
    });
    const cancelled = [loop.callLater(3, record, { big: "payload" }), ctx.run(() => loop.callLater(3, record, "x"))];
    for (const t of cancelled) t.cancel();
    for (const t of cancelled) expect([(t as TimerCallHandle)._args, (t as TimerCallHandle)._context]).toEqual([[], null]);
    loop.callLater(10, () => loop.stop());
    await loop.runForever();
    loop.close();
    expect(log).toEqual(["empty:", "ctx:", "empty:a,1", "ctx:a,1"]);
    // Only a timer with neither arguments nor a context is a plain three-field TimerHandle.
    expect(timers.map((t) => t instanceof TimerCallHandle)).toEqual([false, true, true, true]);
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
      { numRuns: propertyRuns(30) },
    );
  });

  test("bare and argument-carrying callbacks, cancelled at random while queued or after running, run in callSoon order and none is lost", async () => {
    // Each step: schedule a bare callback, schedule one with an argument, cancel an earlier
    // handle, or end the turn (what follows is scheduled from inside the next one). Long
    // plans cross the ready queue's segment boundaries.
    const step = fc.oneof(
      fc.constant({ kind: "bare" as const }),
      fc.constant({ kind: "args" as const }),
      fc.record({ kind: fc.constant("cancel" as const), pick: fc.nat() }),
      fc.constant({ kind: "turn" as const }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 3000, size: "max" }), async (plan) => {
        const { loop } = virtualLoop();
        const ran: number[] = [];
        const handles: Handle[] = [];
        const ranBefore = new Set<number>();
        const cancelledWhileQueued = new Set<number>();
        let next = 0;
        const runFrom = (start: number): void => {
          for (let i = start; i < plan.length; i++) {
            const op = plan[i] as (typeof plan)[number];
            if (op.kind === "turn") {
              loop.callSoon(() => runFrom(i + 1));
              return;
            }
            if (op.kind === "cancel") {
              if (handles.length === 0) continue;
              const k = op.pick % handles.length;
              if (!ranBefore.has(k)) cancelledWhileQueued.add(k);
              (handles[k] as Handle).cancel();
              continue;
            }
            const id = next++;
            const body = (): void => {
              ran.push(id);
              ranBefore.add(id);
            };
            handles.push(op.kind === "bare" ? loop.callSoon(body) : loop.callSoon((x: number) => x === id && body(), id));
          }
          loop.callSoon(() => loop.stop());
        };
        loop.callSoon(() => runFrom(0));
        await loop.runForever();
        loop.close();
        const expected = [...Array(next).keys()].filter((id) => !cancelledWhileQueued.has(id));
        expect(ran).toEqual(expected);
        for (const k of cancelledWhileQueued) expect((handles[k] as Handle).cancelled()).toBe(true);
      }),
      { numRuns: propertyRuns(40) },
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
      { numRuns: propertyRuns(30) },
    );
  });
});

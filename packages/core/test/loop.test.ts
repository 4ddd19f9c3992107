import { afterEach, describe, expect, test, vi } from "vitest";
import { EventLoop, Handle, getRunningLoop, run, type ErrorContext, type LoopDriver } from "../src/index.js";
import { RecordingPoller, VirtualPoller, macrotask, sleep, virtualLoop } from "./helpers.js";

afterEach(() => {
  vi.restoreAllMocks();
});

/** Runs `loop` until `stop()` and closes it. */
async function runToStop(loop: EventLoop): Promise<void> {
  await loop.runForever();
  loop.close();
}

describe("one iteration (docs/design.md#the-loops-turn)", () => {
  test("ready callbacks run before timers that expired in the same iteration", async () => {
    const { loop } = virtualLoop();
    const log: string[] = [];
    loop.callSoon(() => {
      // The timer is scheduled first and is due next turn, yet the callback goes first.
      loop.callLater(0, () => log.push("timer"));
      loop.callSoon(() => log.push("soon"));
      loop.callLater(0, () => loop.stop());
    });
    await runToStop(loop);
    expect(log).toEqual(["soon", "timer"]);
  });

  test("a callback scheduled during an iteration runs in the next one", async () => {
    const { loop, poller } = virtualLoop();
    const log: [string, number][] = [];
    loop.callSoon(() => {
      log.push(["a", poller.turns]);
      loop.callSoon(() => {
        log.push(["c", poller.turns]);
        loop.stop();
      });
    });
    loop.callSoon(() => log.push(["b", poller.turns]));
    await runToStop(loop);
    // Exactly the callbacks ready when phase 4 began run in it: a and b; c waits a turn.
    expect(log).toEqual([
      ["a", 1],
      ["b", 1],
      ["c", 2],
    ]);
  });

  test("a callback that keeps rescheduling itself does not starve the others", async () => {
    const { loop } = virtualLoop();
    const log: string[] = [];
    let n = 0;
    const spin = (): void => {
      log.push(`spin${n}`);
      if (++n < 3) loop.callSoon(spin);
    };
    loop.callSoon(spin);
    loop.callSoon(() => loop.callSoon(() => log.push("other")));
    loop.callLater(5, () => loop.stop());
    await runToStop(loop);
    expect(log).toEqual(["spin0", "spin1", "other", "spin2"]);
  });

  test("timers with equal deadlines fire in scheduling order", async () => {
    const { loop } = virtualLoop();
    const log: number[] = [];
    for (let i = 0; i < 50; i++) loop.callAt(i % 2 === 0 ? 10 : 5, () => log.push(i));
    loop.callAt(10, () => loop.stop());
    await runToStop(loop);
    const odd = Array.from({ length: 25 }, (_, i) => 2 * i + 1);
    const even = Array.from({ length: 25 }, (_, i) => 2 * i);
    expect(log).toEqual([...odd, ...even]);
  });

  test("timers fire in deadline order and the clock reaches each deadline", async () => {
    const { loop } = virtualLoop();
    const log: [number, number][] = [];
    for (const d of [30, 10, 20]) loop.callLater(d, () => log.push([d, loop.time()]));
    loop.callLater(40, () => loop.stop());
    await runToStop(loop);
    expect(log).toEqual([
      [10, 10],
      [20, 20],
      [30, 30],
    ]);
  });

  test("a cancelled timer never runs", async () => {
    const { loop } = virtualLoop();
    const log: string[] = [];
    const h = loop.callLater(10, () => log.push("cancelled"));
    loop.callLater(5, () => h.cancel());
    loop.callLater(20, () => loop.stop());
    await runToStop(loop);
    expect(log).toEqual([]);
    expect(h.cancelled()).toBe(true);
  });

  test("a timer cancelled after it became due, before it ran, does not run", async () => {
    const { loop } = virtualLoop();
    const log: string[] = [];
    let late: Handle | null = null;
    // Both are due in the same turn; the first one cancels the second.
    loop.callLater(10, () => late?.cancel());
    late = loop.callLater(10, () => log.push("late"));
    loop.callLater(20, () => loop.stop());
    await runToStop(loop);
    expect(log).toEqual([]);
    expect(loop.timerCount).toBe(0);
  });

  test("a cancelled timer leaves the loop's timers at once; the live ones fire in order", async () => {
    const { loop } = virtualLoop();
    const fired: number[] = [];
    for (let i = 0; i < 50; i++) loop.callLater(10 + i, () => fired.push(i));
    const dead = Array.from({ length: 150 }, () => loop.callLater(1000, () => fired.push(-1)));
    for (const h of dead) h.cancel();
    const sizes = [loop._timers.size];
    loop.callSoon(() => {
      sizes.push(loop._timers.size);
    });
    loop.callLater(2000, () => loop.stop());
    sizes.push(loop._timers.size);
    await runToStop(loop);
    expect(sizes).toEqual([50, 51, 51]); // the 50 live timers, then the stop timer
    expect(fired).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  test("an exception in a callback goes to the exception handler and the loop goes on", async () => {
    const { loop } = virtualLoop();
    const contexts: ErrorContext[] = [];
    loop.setExceptionHandler((l, ctx) => {
      expect(l).toBe(loop);
      contexts.push(ctx);
    });
    const boom = new Error("boom");
    const log: string[] = [];
    loop.callSoon(function failing() {
      throw boom;
    });
    loop.callSoon(() => log.push("after"));
    const withArgs = loop.callSoon(function failingWith(x: number) {
      throw new Error(`boom ${x}`);
    }, 7);
    loop.callSoon(() => loop.callSoon(() => loop.stop()));
    await runToStop(loop);
    expect(log).toEqual(["after"]);
    expect(contexts).toHaveLength(2);
    expect(contexts[0]?.exception).toBe(boom);
    // A callback queued bare: the handle the context carries is a Handle for it, made
    // when it failed (the one callSoon returned is not kept: see InlineHandle).
    expect(contexts[0]?.handle).toBeInstanceOf(Handle);
    expect(String(contexts[0]?.handle)).toBe("<Handle failing()>");
    expect(contexts[0]?.message).toContain("failing");
    expect(contexts[0]?.message).toContain("boom");
    // A callback the queue holds through its handle: that very handle.
    expect(contexts[1]?.handle).toBe(withArgs);
    expect(contexts[1]?.message).toContain("failingWith()");
    expect(contexts[1]?.message).toContain("boom 7");
  });

  test("a failing timer: the context names a Handle for a bare one, the very TimerHandle for one with arguments", async () => {
    const { loop } = virtualLoop();
    const contexts: ErrorContext[] = [];
    loop.setExceptionHandler((_, ctx) => contexts.push(ctx));
    const log: string[] = [];
    const bare = loop.callLater(1, function failingTimer() {
      throw new Error("tick");
    });
    loop.callLater(1, () => log.push("after"));
    const withArgs = loop.callLater(
      2,
      function failingTimerWith(x: number) {
        throw new Error(`tock ${x}`);
      },
      3,
    );
    loop.callLater(5, () => loop.stop());
    await runToStop(loop);
    expect(log).toEqual(["after"]);
    expect(contexts).toHaveLength(2);
    // The wheel keeps a bare timer's callback, not its handle (see TimerHandle).
    expect(contexts[0]?.handle).toBeInstanceOf(Handle);
    expect(contexts[0]?.handle).not.toBe(bare);
    expect(String(contexts[0]?.handle)).toBe("<Handle failingTimer()>");
    expect(contexts[0]?.message).toContain("tick");
    expect(contexts[1]?.handle).toBe(withArgs);
    expect(contexts[1]?.message).toContain("failingTimerWith()");
  });

  test("a bare callback cancelled while queued does not run; cancelling it again or after the turn is harmless", async () => {
    const { loop } = virtualLoop();
    const log: string[] = [];
    loop.callSoon(() => log.push("a"));
    const b = loop.callSoon(() => log.push("b"));
    loop.callSoon(() => log.push("c"));
    b.cancel();
    b.cancel();
    expect(b.cancelled()).toBe(true);
    expect(loop.readyCount).toBe(3); // the slot stays, empty, as a cancelled Handle does in asyncio
    loop.callSoon(() => {
      log.push("d");
      loop.stop();
    });
    await runToStop(loop);
    expect(log).toEqual(["a", "c", "d"]);
    b.cancel();
  });

  test("a bare callback's handle cancelled after it ran leaves whatever now sits at its queue position alone", async () => {
    const { loop } = virtualLoop();
    const log: string[] = [];
    const first = loop.callSoon(() => log.push("first"));
    loop.callSoon(() => {
      // `first` ran; the queue is now made of this turn's new callbacks.
      loop.callSoon(() => log.push("second"));
      first.cancel();
      loop.callSoon(() => loop.stop());
    });
    await runToStop(loop);
    expect(log).toEqual(["first", "second"]);
    expect(first.cancelled()).toBe(true);
  });

  test("a bare callback's handle survives close(): cancelling it afterwards touches nothing", () => {
    const { loop } = virtualLoop();
    const h = loop.callSoon(() => {});
    loop.close();
    expect(() => h.cancel()).not.toThrow();
    expect(h.cancelled()).toBe(true);
  });

  test("callSoon queues a bare function only when nothing needs its Handle: arguments, a context, debug mode, an instrument", async () => {
    const { ContextVar, copyContext } = await import("../src/index.js");
    const { loop } = virtualLoop();
    const bare = loop.callSoon(() => {});
    expect(loop._ready.peek(0)).toBeTypeOf("function");
    expect(bare).toBeInstanceOf(Handle);
    loop.callSoon((_x: number) => {}, 1);
    expect(loop._ready.peek(1)).toBeInstanceOf(Handle);
    const v = new ContextVar<number>("v");
    const ctx = copyContext();
    ctx.run(() => {
      v.set(1);
      loop.callSoon(() => {});
    });
    expect(loop._ready.peek(2)).toBeInstanceOf(Handle);
    loop.setDebug(true);
    loop.callSoon(() => {});
    expect(loop._ready.peek(3)).toBeInstanceOf(Handle);
    loop.setDebug(false);
    const instrument = {};
    loop.addInstrument(instrument);
    loop.callSoon(() => {});
    expect(loop._ready.peek(4)).toBeInstanceOf(Handle);
    loop.removeInstrument(instrument);
    loop.callSoon(() => {});
    expect(loop._ready.peek(5)).toBeTypeOf("function");
    loop.close();
  });

  test("an instrument added while bare callbacks are queued sees each of them as a Handle", async () => {
    const { loop } = virtualLoop();
    const seen: string[] = [];
    loop.callSoon(function queuedBefore() {});
    loop.addInstrument({ callbackStart: (h) => seen.push(`start ${String(h)}`), callbackEnd: (h) => seen.push(`end ${String(h)}`) });
    loop.callSoon(() => loop.stop());
    await runToStop(loop);
    expect(seen.slice(0, 2)).toEqual(["start <Handle queuedBefore()>", "end <Handle queuedBefore()>"]);
  });

  test("debug mode switched on while bare callbacks are queued still times them and names them", async () => {
    const { loop } = virtualLoop();
    const warnings: string[] = [];
    loop.debugLogger = { warn: (m) => warnings.push(m) };
    loop.slowCallbackDuration = 0;
    loop.callSoon(function queuedBare() {});
    loop.setDebug(true);
    loop.callSoon(() => loop.stop());
    await runToStop(loop);
    expect(warnings[0]).toMatch(/^Executing queuedBare\(\) took/);
  });

  test("an exception handler that throws falls back to the default handler", async () => {
    const { loop } = virtualLoop();
    const printed = vi.spyOn(console, "error").mockImplementation(() => {});
    loop.setExceptionHandler(() => {
      throw new Error("handler broke");
    });
    loop.callSoon(() => {
      throw new Error("first");
    });
    loop.callSoon(() => loop.stop());
    await runToStop(loop);
    expect(printed).toHaveBeenCalledTimes(1);
    expect(String(printed.mock.calls[0]?.[0])).toContain("Unhandled error in exception handler");
    expect(String(printed.mock.calls[0]?.[0])).toContain("handler broke");
  });

  test("the default exception handler prints one line with the message, the callback and the stack", async () => {
    const { loop } = virtualLoop();
    const printed = vi.spyOn(console, "error").mockImplementation(() => {});
    loop.callSoon(function brokenCallback() {
      throw new TypeError("bad thing");
    });
    loop.callSoon(() => loop.stop());
    await runToStop(loop);
    expect(printed).toHaveBeenCalledTimes(1);
    const text = String(printed.mock.calls[0]?.[0]);
    expect(text).toMatch(/^\[@loop\] Exception in callback brokenCallback\(\): TypeError: bad thing/);
    expect(text).toContain("(callback brokenCallback())");
    expect(text).toContain("at brokenCallback");
  });

  test("callExceptionHandler without a handler set uses defaultExceptionHandler, also for non-Error values", () => {
    const loop = new EventLoop({ poller: new VirtualPoller() });
    const printed = vi.spyOn(console, "error").mockImplementation(() => {});
    loop.callExceptionHandler({ message: "odd", exception: 42 });
    expect(String(printed.mock.calls[0]?.[0])).toBe("[@loop] odd\n42");
    expect(loop.getExceptionHandler()).toBe(null);
    const h = (): void => {};
    loop.setExceptionHandler(h);
    expect(loop.getExceptionHandler()).toBe(h);
    expect(() => loop.setExceptionHandler(42 as never)).toThrow(TypeError);
    loop.close();
  });
});

describe("closing and stopping", () => {
  test("scheduling on a closed loop throws Error('Event loop is closed')", () => {
    const loop = new EventLoop({ poller: new VirtualPoller() });
    loop.close();
    expect(loop.isClosed()).toBe(true);
    expect(() => loop.callSoon(() => {})).toThrow(new Error("Event loop is closed"));
    expect(() => loop.callLater(1, () => {})).toThrow(new Error("Event loop is closed"));
    expect(() => loop.callAt(1, () => {})).toThrow(new Error("Event loop is closed"));
    expect(() => loop.callSoonThreadsafe(() => {})).toThrow(new Error("Event loop is closed"));
    // A second close is harmless.
    loop.close();
  });

  test("runForever and runUntilComplete on a closed loop reject", async () => {
    const loop = new EventLoop({ poller: new VirtualPoller() });
    loop.close();
    await expect(loop.runForever()).rejects.toThrow("Event loop is closed");
    await expect(loop.runUntilComplete(Promise.resolve(1))).rejects.toThrow("Event loop is closed");
  });

  test("stop() inside a callback finishes the current turn, then runForever resolves", async () => {
    const { loop } = virtualLoop();
    const log: string[] = [];
    loop.callSoon(() => {
      loop.stop();
      loop.callSoon(() => log.push("next turn"));
    });
    loop.callSoon(() => log.push("same turn"));
    await loop.runForever();
    expect(loop.isRunning()).toBe(false);
    expect(log).toEqual(["same turn"]);
    // The callback scheduled for the next turn waits for the next run.
    loop.callSoon(() => loop.stop());
    await loop.runForever();
    expect(log).toEqual(["same turn", "next turn"]);
    loop.close();
  });

  test("stop() before runForever runs exactly one turn, then stops", async () => {
    const { loop, poller } = virtualLoop();
    const log: string[] = [];
    loop.callSoon(() => {
      log.push("a");
      loop.callSoon(() => log.push("b"));
    });
    loop.stop();
    await loop.runForever();
    expect(log).toEqual(["a"]);
    expect(poller.turns).toBe(1);
    loop.stop();
    await loop.runForever();
    expect(log).toEqual(["a", "b"]);
    loop.close();
  });

  test("close() on a running loop throws", async () => {
    const { loop } = virtualLoop();
    let error: unknown;
    loop.callSoon(() => {
      try {
        loop.close();
      } catch (e) {
        error = e;
      }
      loop.stop();
    });
    await loop.runForever();
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/Cannot close a running event loop/);
    expect(loop.isClosed()).toBe(false);
    loop.close();
  });

  test("close() drops pending callbacks and timers", async () => {
    const { loop } = virtualLoop();
    const ran: string[] = [];
    loop.callSoon(() => ran.push("soon"));
    const t = loop.callLater(5, () => ran.push("timer"));
    loop.callLater(6, () => {}).cancel();
    loop.close();
    expect(loop.readyCount).toBe(0);
    expect(loop.timerCount).toBe(0);
    t.cancel(); // cancelling a dropped timer is harmless
    expect(ran).toEqual([]);
  });

  test("runForever on a running loop rejects", async () => {
    const { loop } = virtualLoop();
    let second: Promise<void> | null = null;
    loop.callSoon(() => {
      second = loop.runForever();
      loop.stop();
    });
    await loop.runForever();
    await expect(second).rejects.toThrow("This event loop is already running");
    loop.close();
  });

  test("a loop cannot be run from inside another loop's callback", async () => {
    const a = virtualLoop().loop;
    const b = virtualLoop().loop;
    let inner: Promise<void> | null = null;
    a.callSoon(() => {
      inner = b.runForever();
      a.stop();
    });
    await a.runForever();
    await expect(inner).rejects.toThrow(/inside another loop's callback/);
    a.close();
    b.close();
  });
});

describe("runUntilComplete", () => {
  test("resolves with a coroutine's result", async () => {
    const { loop } = virtualLoop();
    const result = await loop.runUntilComplete(
      (function* () {
        yield* sleep(10);
        return 42;
      })(),
    );
    expect(result).toBe(42);
    expect(loop.isRunning()).toBe(false);
    loop.close();
  });

  test("rejects with the coroutine's error", async () => {
    const { loop } = virtualLoop();
    const boom = new RangeError("boom");
    await expect(
      loop.runUntilComplete(
        (function* () {
          yield;
          throw boom;
        })(),
      ),
    ).rejects.toBe(boom);
    loop.close();
  });

  test("takes a Future and a Promise", async () => {
    const { loop } = virtualLoop();
    const fut = loop.createFuture<string>();
    loop.callLater(10, () => fut.setResult("done"));
    expect(await loop.runUntilComplete(fut)).toBe("done");
    expect(await loop.runUntilComplete(Promise.resolve("p"))).toBe("p");
    loop.close();
  });

  test("rejects when the loop is stopped before the future is done", async () => {
    const { loop } = virtualLoop();
    const fut = loop.createFuture<string>();
    loop.callSoon(() => loop.stop());
    await expect(loop.runUntilComplete(fut)).rejects.toThrow("Event loop stopped before the awaited future completed");
    loop.close();
  });
});

describe("several loops and the outside world", () => {
  test("several loops run side by side in one process, each its own running loop", async () => {
    const make = (name: string) => {
      const { loop } = virtualLoop();
      const log: string[] = [];
      const done = loop.runUntilComplete(
        (function* () {
          for (let i = 0; i < 3; i++) {
            log.push(`${name}${i}:${getRunningLoop() === loop}`);
            yield* sleep(10);
          }
          return log;
        })(),
      );
      return { loop, done };
    };
    const a = make("a");
    const b = make("b");
    const [la, lb] = await Promise.all([a.done, b.done]);
    expect(la).toEqual(["a0:true", "a1:true", "a2:true"]);
    expect(lb).toEqual(["b0:true", "b1:true", "b2:true"]);
    a.loop.close();
    b.loop.close();
  });

  test("two default-poller loops run concurrently and both complete", async () => {
    const log: string[] = [];
    const body = (name: string) =>
      function* () {
        for (let i = 0; i < 3; i++) {
          log.push(name);
          yield;
        }
      };
    await Promise.all([run(body("a")), run(body("b"))]);
    expect(log.filter((x) => x === "a")).toHaveLength(3);
    expect(log.filter((x) => x === "b")).toHaveLength(3);
  });

  test("getRunningLoop throws outside the loop's callbacks", () => {
    expect(() => getRunningLoop()).toThrow(new Error("no running event loop"));
  });

  test("callSoonThreadsafe from a Promise callback wakes an idle loop (virtual poller)", async () => {
    const recording = new RecordingPoller(new VirtualPoller());
    const loop = new EventLoop({ poller: recording });
    const stopped = loop.runForever();
    await macrotask();
    await macrotask();
    // Nothing pending: the loop asked to wait until woken.
    expect(recording.requests.at(-1)).toBe(null);
    await Promise.resolve().then(() => loop.callSoonThreadsafe(() => loop.stop()));
    await stopped;
    expect(recording.wakeups).toBeGreaterThan(0);
    loop.close();
  });

  test("callSoonThreadsafe from a Promise callback wakes an idle loop (default poller)", async () => {
    const loop = new EventLoop();
    const stopped = loop.runForever();
    await macrotask();
    const log: string[] = [];
    await Promise.resolve().then(() =>
      loop.callSoonThreadsafe((x: string) => {
        log.push(x);
        loop.stop();
      }, "woken"),
    );
    await stopped;
    expect(log).toEqual(["woken"]);
    loop.close();
  });

  test("an idle loop asks its poller to wait until woken, and a timer sets the timeout", async () => {
    const recording = new RecordingPoller(new VirtualPoller());
    const loop = new EventLoop({ poller: recording });
    const timer = loop.callLater(25, () => {});
    loop.callSoon(() => {});
    const stopped = loop.runForever();
    await macrotask();
    await macrotask();
    // First turn: the callback ran; the next wait is the 25 ms to the timer.
    expect(recording.requests.slice(0, 2)).toEqual([0, 25]);
    timer.cancel();
    await macrotask();
    await macrotask();
    // The timer fired (virtual time jumped) and nothing is left: wait until woken.
    expect(recording.requests.at(-1)).toBe(null);
    loop.callSoonThreadsafe(() => loop.stop());
    await stopped;
    loop.close();
  });

  test("a timer scheduled from outside the loop shortens its wait", async () => {
    const recording = new RecordingPoller(new VirtualPoller());
    const loop = new EventLoop({ poller: recording });
    const stopped = loop.runForever();
    await macrotask();
    await macrotask();
    expect(recording.requests.at(-1)).toBe(null);
    const before = recording.wakeups;
    loop.callLater(5, () => loop.stop());
    expect(recording.wakeups).toBe(before + 1);
    await stopped;
    loop.close();
  });

  test("callLater and callAt check their arguments", () => {
    const loop = new EventLoop({ poller: new VirtualPoller() });
    expect(() => loop.callLater("1" as never, () => {})).toThrow(TypeError);
    expect(() => loop.callLater(NaN, () => {})).toThrow(RangeError);
    expect(() => loop.callAt("1" as never, () => {})).toThrow(TypeError);
    expect(() => loop.callAt(NaN, () => {})).toThrow(RangeError);
    expect(() => loop.callSoon(null as never)).toThrow(/callback must be a function, got null/);
    expect(() => loop.callAt(1, 5 as never)).toThrow(TypeError);
    expect(() => new EventLoop({ poller: {} as never })).toThrow(TypeError);
    loop.close();
  });

  test("callSoon passes its arguments and returns a cancellable handle", async () => {
    const { loop } = virtualLoop();
    const log: unknown[] = [];
    loop.callSoon((a: number, b: string) => log.push(a, b), 1, "x");
    const h = loop.callSoon(() => log.push("cancelled"));
    h.cancel();
    h.cancel();
    expect(h.cancelled()).toBe(true);
    expect(String(h)).toBe("<Handle <cancelled> cancelled>");
    loop.callSoon(() => loop.stop());
    await runToStop(loop);
    expect(log).toEqual([1, "x"]);
  });
});

describe("debug mode, executors, task factory", () => {
  test("debug mode reports slow callbacks to the debug logger", async () => {
    const { loop } = virtualLoop();
    loop.setDebug(true);
    expect(loop.getDebug()).toBe(true);
    loop.slowCallbackDuration = 0;
    const warnings: string[] = [];
    loop.debugLogger = { warn: (m) => warnings.push(m) };
    loop.callSoon(function slowOne() {});
    loop.callSoon(() => loop.stop());
    await runToStop(loop);
    expect(warnings[0]).toMatch(/^Executing slowOne\(\) created at .* took 0\.0 ms$/);
  });

  test("the default debug logger writes to stderr", async () => {
    const printed = vi.spyOn(console, "error").mockImplementation(() => {});
    const loop = new EventLoop({ poller: new VirtualPoller(), debug: true });
    loop.slowCallbackDuration = -1;
    loop.createTask((function* () {})());
    loop.callSoon(() => loop.stop());
    await runToStop(loop);
    expect(printed.mock.calls.some((c) => /^\[@loop debug\] Executing <Task/.test(String(c[0])))).toBe(true);
  });

  test("LOOP_DEBUG=1 turns debug mode on", () => {
    const env = process.env;
    const saved = env.LOOP_DEBUG;
    try {
      env.LOOP_DEBUG = "1";
      expect(new EventLoop({ poller: new VirtualPoller() }).getDebug()).toBe(true);
      env.LOOP_DEBUG = "false";
      expect(new EventLoop({ poller: new VirtualPoller() }).getDebug()).toBe(false);
    } finally {
      if (saved === undefined) delete env.LOOP_DEBUG;
      else env.LOOP_DEBUG = saved;
    }
  });

  test("the default executor is shut down without waiting on close, and with waiting on demand", async () => {
    const loop = new EventLoop({ poller: new VirtualPoller() });
    const calls: unknown[] = [];
    const executor = { shutdown: (opts?: { wait?: boolean }) => void calls.push(opts) };
    expect(() => loop.setDefaultExecutor({} as never)).toThrow(TypeError);
    loop.setDefaultExecutor(executor);
    expect(loop.getDefaultExecutor()).toBe(executor);
    await loop.shutdownDefaultExecutor();
    expect(loop.getDefaultExecutor()).toBe(null);
    loop.setDefaultExecutor(executor);
    loop.close();
    expect(calls).toEqual([{ wait: true }, { wait: false }]);
  });

  test("refExternal/unrefExternal count outside work for the poller and never go negative", async () => {
    const inner = new VirtualPoller();
    let host: LoopDriver | null = null;
    const poller = new RecordingPoller(inner);
    poller.attach = (h) => {
      host = h;
      inner.attach(h);
    };
    const loop = new EventLoop({ poller });
    loop.unrefExternal();
    loop.refExternal();
    loop.refExternal();
    loop.unrefExternal();
    loop.callSoon(() => loop.stop());
    await loop.runForever();
    expect(host!.externalPending()).toBe(1);
    expect(host!.loop).toBe(loop);
    loop.close();
  });
});

describe("far and past deadlines", () => {
  test("a timer in the past is due at once; one at Infinity never fires and holds no wait", async () => {
    const recording = new RecordingPoller(new VirtualPoller());
    const loop = new EventLoop({ poller: recording });
    const log: string[] = [];
    loop.callLater(-5, () => log.push("past"));
    loop.callLater(Infinity, () => log.push("never"));
    const stopped = loop.runForever();
    await macrotask();
    await macrotask();
    expect(log).toEqual(["past"]);
    // "Until woken": the loop hands the poller null, never Infinity.
    expect(recording.requests.at(-1)).toBe(null);
    loop.callSoonThreadsafe(() => loop.stop());
    await stopped;
    loop.close();
    expect(log).toEqual(["past"]);
  });
});

describe("turns do not nest", () => {
  test("runOnce() called from inside a turn throws instead of running a nested turn", async () => {
    const { loop } = virtualLoop();
    const errors: unknown[] = [];
    loop.setExceptionHandler((_loop, ctx) => errors.push(ctx.exception));
    const log: string[] = [];
    loop.callSoon(() => {
      loop.callSoon(() => log.push("next turn"));
      loop.runOnce();
      log.push("not reached");
    });
    loop.callSoon(() => loop.callSoon(() => loop.stop()));
    await loop.runForever();
    loop.close();
    expect(log).toEqual(["next turn"]);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toMatch(/turns do not nest/);
  });
});

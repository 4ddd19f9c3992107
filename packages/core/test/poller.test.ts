import { afterEach, beforeEach, describe, expect, test, vi, type MockInstance } from "vitest";
import { DefaultPoller, EventLoop, ensureFuture, run, type LoopDriver, type Poller } from "../src/index.js";
import { macrotask } from "./helpers.js";

afterEach(() => {
  vi.restoreAllMocks();
});

/** A default poller whose clock stands still: deadlines and the turn budget become exact. */
class FrozenClock extends DefaultPoller {
  now = 1000;
  override time(): number {
    return this.now;
  }
}

/** The host timers `poller` armed (the test runner may use setTimeout meanwhile). */
function hostTimers(poller: DefaultPoller, spy: MockInstance): unknown[][] {
  const onTimer = (poller as unknown as { _onTimer: unknown })._onTimer;
  return spy.mock.calls.filter((c) => c[0] === onTimer);
}

function armed(poller: DefaultPoller): boolean {
  return (poller as unknown as { _timer: unknown })._timer !== null;
}

/** A fake driver that counts resumptions ("turns") and lets a test await the next one. */
function fakeHost(poller: DefaultPoller) {
  let turns = 0;
  let waiting: (() => void) | null = null;
  let onTurn: (() => void) | null = null;
  const host: LoopDriver = {
    loop: null as unknown as EventLoop,
    resume: () => {
      turns++;
      onTurn?.();
      const w = waiting;
      waiting = null;
      w?.();
    },
    externalPending: () => 0,
  };
  poller.attach(host);
  return {
    get turns() {
      return turns;
    },
    set onTurn(fn: (() => void) | null) {
      onTurn = fn;
    },
    nextTurn: () => new Promise<void>((resolve) => (waiting = resolve)),
  };
}

describe("a poller that throws", () => {
  test("attach() throwing rejects runForever and leaves the loop not running, so it can be closed", async () => {
    const broken = {
      name: "broken",
      attach: () => {
        throw new Error("attach failed");
      },
      time: () => 0,
      wait: () => {},
      wakeup: () => {},
      close: () => {},
    };
    const loop = new EventLoop({ poller: broken });
    await expect(loop.runForever()).rejects.toThrow("attach failed");
    expect(loop.isRunning()).toBe(false);
    expect(() => loop.close()).not.toThrow();
    expect(loop.isClosed()).toBe(true);
  });

  test("wait() throwing on the first turn rejects runForever and leaves the loop not running", async () => {
    let fail = true;
    const poller = {
      name: "flaky",
      attach: () => {},
      time: () => 0,
      wait: () => {
        if (fail) throw new Error("wait failed");
      },
      wakeup: () => {},
      close: () => {},
    };
    const loop = new EventLoop({ poller });
    await expect(loop.runForever()).rejects.toThrow("wait failed");
    expect(loop.isRunning()).toBe(false);
    fail = false;
    loop.close();
  });
});

describe("DefaultPoller", () => {
  test("wait(0) resumes once from a macrotask, never synchronously", async () => {
    const poller = new DefaultPoller();
    const host = fakeHost(poller);
    const timeouts = vi.spyOn(globalThis, "setTimeout");
    poller.wait(0);
    expect(host.turns).toBe(0);
    await host.nextTurn();
    expect(host.turns).toBe(1);
    expect(hostTimers(poller, timeouts)).toHaveLength(0);
    poller.close();
  });

  test("wait(t) arms one host timer for ceil(t) ms that resumes", async () => {
    const poller = new DefaultPoller();
    const host = fakeHost(poller);
    const timeouts = vi.spyOn(globalThis, "setTimeout");
    poller.wait(2.2);
    expect(hostTimers(poller, timeouts)).toHaveLength(1);
    expect(hostTimers(poller, timeouts)[0]?.[1]).toBe(3);
    await host.nextTurn();
    expect(host.turns).toBe(1);
    poller.close();
  });

  test("a new wait keeps an armed timer due at most 1 ms earlier, and re-arms for a sooner or later deadline", () => {
    const poller = new FrozenClock();
    fakeHost(poller);
    const timeouts = vi.spyOn(globalThis, "setTimeout");
    poller.wait(10);
    poller.wait(10.5); // the armed one (due at 1010) is at most 1 ms early: kept
    expect(hostTimers(poller, timeouts)).toHaveLength(1);
    poller.wait(5); // sooner: re-armed
    expect(hostTimers(poller, timeouts)).toHaveLength(2);
    poller.wait(50); // much later: re-armed, so no turn is wasted
    expect(hostTimers(poller, timeouts)).toHaveLength(3);
    expect(hostTimers(poller, timeouts).map((c) => c[1])).toEqual([10, 5, 50]);
    poller.close();
  });

  test("waits longer than the host timer range are capped", () => {
    const poller = new DefaultPoller();
    fakeHost(poller);
    const timeouts = vi.spyOn(globalThis, "setTimeout");
    poller.wait(30 * 24 * 3600 * 1000);
    expect(hostTimers(poller, timeouts)[0]?.[1]).toBe(2_147_483_647);
    poller.close();
  });

  test("wait(null) and wait(Infinity) hold no host timer; wakeup() resumes", async () => {
    const poller = new DefaultPoller();
    const host = fakeHost(poller);
    const timeouts = vi.spyOn(globalThis, "setTimeout");
    poller.wait(1000);
    expect(hostTimers(poller, timeouts)).toHaveLength(1);
    poller.wait(null);
    expect(armed(poller)).toBe(false);
    poller.wait(Infinity);
    expect(hostTimers(poller, timeouts)).toHaveLength(1);
    await macrotask();
    expect(host.turns).toBe(0);
    poller.wakeup();
    poller.wakeup(); // coalesced
    await host.nextTurn();
    await macrotask();
    expect(host.turns).toBe(1);
    poller.close();
  });

  test("close() cancels the timer and no turn follows", async () => {
    const poller = new DefaultPoller();
    const host = fakeHost(poller);
    poller.wait(5);
    poller.close();
    expect(armed(poller)).toBe(false);
    poller.wait(0);
    poller.wakeup();
    await macrotask();
    await macrotask();
    expect(host.turns).toBe(0);
  });

  test("wakeup() before attach is ignored; time() is monotonic", () => {
    const poller = new DefaultPoller();
    poller.wakeup();
    const a = poller.time();
    const b = poller.time();
    expect(b).toBeGreaterThanOrEqual(a);
    expect(poller.name).toBe("default");
    poller.close();
  });

  test("without setImmediate, turns go through a MessageChannel", async () => {
    const g = globalThis as { setImmediate?: unknown };
    const saved = g.setImmediate;
    let poller: DefaultPoller;
    try {
      delete g.setImmediate;
      poller = new DefaultPoller();
    } finally {
      g.setImmediate = saved;
    }
    const host = fakeHost(poller);
    poller.wait(0);
    await host.nextTurn();
    expect(host.turns).toBe(1);
    poller.close();
  });

  test("without setImmediate and MessageChannel, turns go through setTimeout(0)", async () => {
    const g = globalThis as { setImmediate?: unknown; MessageChannel?: unknown };
    const saved = [g.setImmediate, g.MessageChannel];
    let poller: DefaultPoller;
    try {
      delete g.setImmediate;
      delete g.MessageChannel;
      poller = new DefaultPoller();
    } finally {
      [g.setImmediate, g.MessageChannel] = saved;
    }
    const host = fakeHost(poller);
    poller.wait(0);
    await host.nextTurn();
    expect(host.turns).toBe(1);
    poller.close();
  });

  test("an idle loop on the default poller holds no host timer", async () => {
    const loop = new EventLoop();
    const poller = loop.poller as DefaultPoller;
    const timeouts = vi.spyOn(globalThis, "setTimeout");
    const stopped = loop.runForever();
    await macrotask();
    await macrotask();
    expect(hostTimers(poller, timeouts)).toHaveLength(0);
    expect(armed(poller)).toBe(false);
    loop.callSoonThreadsafe(() => loop.stop());
    await stopped;
    loop.close();
  });
});

describe("DefaultPoller turns and the host", () => {
  test("a loop that keeps waking itself from settled Promises still lets the host's macrotasks run, every 256 turns at least", async () => {
    let immediates = 0;
    let finished = false;
    const counter = (): void => {
      immediates++;
      if (!finished) setImmediate(counter);
    };
    await run(function* () {
      setImmediate(counter);
      for (let i = 0; i < 2000; i++) yield* ensureFuture(Promise.resolve(i));
      finished = true;
    });
    // Settled Promises resume the loop from their reactions, within the budget of the host
    // callback that started the batch: at most 256 turns (one per Promise here). Then the
    // wake-up goes through the host's check phase, and the host's own setImmediate queue
    // runs alongside, at least once per 257 Promises.
    expect(immediates).toBeGreaterThanOrEqual(Math.floor(2000 / 257));
  });
});

/**
 * A poller for pump tests: a frozen clock the test moves, resumptions from setImmediate,
 * and a count of host callbacks that resumed the loop.
 */
class StepPoller implements Poller {
  readonly name = "step";
  now = 1000;
  hostResumes = 0;
  readonly waits: (number | null)[] = [];
  private driver: LoopDriver | null = null;
  private queued = false;
  attach(driver: LoopDriver): void {
    this.driver = driver;
  }
  time(): number {
    return this.now;
  }
  wait(timeoutMs: number | null): void {
    this.waits.push(timeoutMs);
    if (timeoutMs === 0) this.wakeup();
  }
  wakeup(): void {
    if (this.queued) return;
    this.queued = true;
    setImmediate(() => {
      this.queued = false;
      this.hostResumes++;
      this.driver?.resume();
    });
  }
  close(): void {}
}

/**
 * The pump's budgets are real time: frozen here, so that only what a test says ends a batch
 * (a loaded machine cannot end one early). A test that needs time to pass moves it itself.
 */
function freezeRealTime(): void {
  vi.spyOn(performance, "now").mockReturnValue(0);
}

describe("the pump (core's driver)", () => {
  beforeEach(freezeRealTime);
  test("while callbacks keep being ready, turns run back to back in one host callback", async () => {
    const poller = new StepPoller();
    const loop = new EventLoop({ poller });
    let n = 0;
    const again = (): void => {
      if (++n < 3) loop.callSoon(again);
      else loop.stop();
    };
    loop.callSoon(again);
    await loop.runForever();
    expect(loop.turnCount).toBe(3);
    expect(poller.hostResumes).toBe(1);
    // Only the first wait went to the poller: the busy turns never asked it.
    expect(poller.waits).toEqual([0, null]);
    loop.close();
  });

  test("a batch ends when its 2 ms budget is spent; the next batch is a new host callback", async () => {
    const poller = new StepPoller();
    const loop = new EventLoop({ poller });
    // The budget is real time: each turn "takes" 1.5 ms of the 2 ms budget on a fake clock.
    let realNow = 0;
    vi.spyOn(performance, "now").mockImplementation(() => realNow);
    let n = 0;
    const again = (): void => {
      realNow += 1.5;
      if (++n < 4) loop.callSoon(again);
      else loop.stop();
    };
    loop.callSoon(again);
    await loop.runForever();
    expect(loop.turnCount).toBe(4);
    // Two turns per host callback: 4 turns took 2 host callbacks.
    expect(poller.hostResumes).toBe(2);
    expect(poller.waits).toEqual([0, 0, null]);
    loop.close();
  });

  test("a batch ends after 256 turns even when no time passes", async () => {
    const poller = new StepPoller();
    const loop = new EventLoop({ poller });
    let n = 0;
    const again = (): void => {
      if (++n < 300) loop.callSoon(again);
      else loop.stop();
    };
    loop.callSoon(again);
    await loop.runForever();
    expect(loop.turnCount).toBe(300);
    expect(poller.hostResumes).toBe(2);
    loop.close();
  });

  test("a resume that arrives during a turn runs one more turn instead of nesting", async () => {
    const poller = new StepPoller();
    const loop = new EventLoop({ poller });
    const log: number[] = [];
    loop.callSoon(() => {
      log.push(loop.turnCount);
      (poller as unknown as { driver: LoopDriver }).driver.resume(); // ignored as a nested turn, remembered
    });
    const stopped = loop.runForever();
    await macrotask();
    await macrotask();
    // Turn 1 ran the callback; the resume during it bought turn 2 in the same batch.
    expect(loop.turnCount).toBe(2);
    expect(log).toEqual([1]);
    loop.callSoonThreadsafe(() => loop.stop());
    await stopped;
    loop.close();
  });

  test("wake-ups from outside coalesce: one poller.wakeup() per wait", async () => {
    const poller = new StepPoller();
    const wakeups = vi.spyOn(poller, "wakeup");
    const loop = new EventLoop({ poller });
    const stopped = loop.runForever();
    await macrotask();
    await macrotask();
    const before = wakeups.mock.calls.length;
    const log: number[] = [];
    for (let i = 0; i < 5; i++) loop.callSoonThreadsafe(() => log.push(i));
    expect(wakeups.mock.calls.length - before).toBe(1);
    await macrotask();
    expect(log).toEqual([0, 1, 2, 3, 4]);
    loop.callSoonThreadsafe(() => loop.stop());
    await stopped;
    loop.close();
  });

  test("a stopped loop's last word to its poller is wait(null): nothing is left armed", async () => {
    const poller = new StepPoller();
    const loop = new EventLoop({ poller });
    loop.callLater(50, () => {});
    loop.callSoon(() => loop.stop());
    await loop.runForever();
    expect(poller.waits.at(-1)).toBe(null);
    loop.close();
  });

  test("a poller whose wait is over at once (returns true) keeps the batch going without the host", async () => {
    const poller = new StepPoller();
    poller.wait = function (this: StepPoller, timeoutMs: number | null): boolean {
      this.waits.push(timeoutMs);
      if (timeoutMs === null) return false;
      if (timeoutMs === 0) {
        this.wakeup();
        return false;
      }
      this.now += timeoutMs; // a virtual clock jumping to the timer
      return true;
    } as never;
    const loop = new EventLoop({ poller });
    const log: number[] = [];
    loop.callLater(10, () => log.push(poller.now));
    loop.callLater(20, () => {
      log.push(poller.now);
      loop.stop();
    });
    await loop.runForever();
    expect(log).toEqual([1010, 1020]);
    expect(poller.hostResumes).toBe(1);
    loop.close();
  });
});

describe("Promises resume an idle loop from their reactions", () => {
  beforeEach(freezeRealTime);
  test("awaiting a settled Promise needs no host callback", async () => {
    const poller = new StepPoller();
    const wakeups = vi.spyOn(poller, "wakeup");
    const loop = new EventLoop({ poller });
    const result = loop.runUntilComplete(
      (function* () {
        let sum = 0;
        for (let i = 0; i < 10; i++) sum += (yield* ensureFuture(Promise.resolve(i))) as number;
        return sum;
      })(),
    );
    expect(await result).toBe(45);
    // One host callback started the loop; every Promise after that resumed it from its
    // reaction, and sent the poller no wake-up (the only one is the start's, wait(0)).
    expect(poller.hostResumes).toBe(1);
    expect(wakeups).toHaveBeenCalledTimes(1);
    await macrotask();
    expect(poller.hostResumes).toBe(1);
    loop.close();
  });

  test("the batch budget covers them: a chain of resolved Promises goes through the host every 256 turns", async () => {
    const poller = new StepPoller();
    const loop = new EventLoop({ poller });
    const stepsOf: number[] = [];
    const result = loop.runUntilComplete(
      (function* () {
        for (let i = 0; i < 600; i++) {
          yield* ensureFuture(Promise.resolve(i));
          stepsOf.push(poller.hostResumes);
        }
        return "done";
      })(),
    );
    expect(await result).toBe("done");
    // 602 turns: the task's 601 steps (one per Promise, one per step), then the stop.
    // Each host callback runs 256 of them, Promise reactions resuming the loop in between.
    expect(loop.turnCount).toBe(602);
    expect(poller.hostResumes).toBe(3);
    // The push after Promise k runs in turn k + 2: the host took over after turns 256 and 512.
    expect(stepsOf.indexOf(2)).toBe(255);
    expect(stepsOf.indexOf(3)).toBe(511);
    loop.close();
  });

  test("the 2 ms budget too, its clock read every 8 turns: a chain of slow steps goes through the host sooner", async () => {
    const poller = new StepPoller();
    const loop = new EventLoop({ poller });
    // Each step "takes" 0.5 ms of real time on a fake clock, so the 2 ms are spent after 4
    // turns; a Promise resume looks at the clock only at the 8th.
    let realNow = 0;
    const reads = vi.spyOn(performance, "now").mockImplementation(() => realNow);
    const result = loop.runUntilComplete(
      (function* () {
        for (let i = 0; i < 40; i++) {
          yield* ensureFuture(Promise.resolve(i));
          realNow += 0.5;
        }
        return "done";
      })(),
    );
    expect(await result).toBe("done");
    // 42 turns, 8 per host callback: 6 host callbacks.
    expect(loop.turnCount).toBe(42);
    expect(poller.hostResumes).toBe(6);
    // One reading when each host callback starts its batch, one per 8 turns resumed by
    // Promises (in the first 5 callbacks), and one between the last two turns, which ran
    // back to back (the task's last step queued the stop).
    expect(reads.mock.calls.length).toBe(6 + 5 + 1);
    loop.close();
  });

  test("a Promise-resumed batch ending with the same earliest timer leaves the poller's wait as it stands", async () => {
    const poller = new StepPoller();
    const loop = new EventLoop({ poller });
    const outside = loop.createFuture<void>();
    const task = loop.createTask(
      (function* () {
        const far = loop.callLater(1000, () => {});
        for (let i = 0; i < 5; i++) yield* ensureFuture(Promise.resolve(i));
        const near = loop.callLater(10, () => {});
        for (let i = 0; i < 3; i++) yield* ensureFuture(Promise.resolve(i));
        near.cancel();
        for (let i = 0; i < 2; i++) yield* ensureFuture(Promise.resolve(i));
        yield* outside;
        far.cancel();
      })(),
    );
    task.addDoneCallback(() => loop.stop());
    const stopped = loop.runForever();
    await macrotask();
    await macrotask();
    // Start (0); the host's batch arms the far timer (1000); the four batches Promises
    // resume after it end with the same timer and leave that wait; the near timer shortens
    // it (10) and two batches leave it; back to the far one (1000), left once; then the task
    // waits with no outside work pending, and the poller is asked again (a virtual clock
    // jumps only when it is told so).
    expect(poller.waits).toEqual([0, 1000, 10, 1000, 1000]);
    loop.callSoonThreadsafe(() => outside.setResult());
    await stopped;
    expect(task.done()).toBe(true);
    loop.close();
  });

  test("a native Promise whose then() throws at once fails its future without running the loop inside the caller, with a reused reaction too", async () => {
    const poller = new StepPoller();
    const loop = new EventLoop({ poller });
    const stopped = loop.runForever();
    await macrotask();
    // Settled Promises hand their reactions back for reuse: the next adoption takes one.
    const warm = ensureFuture(Promise.resolve(1), loop);
    await macrotask();
    expect(warm.result()).toBe(1);
    // The native then() throws synchronously when the Promise's species cannot be built.
    const boom = new Error("no species");
    const hostile = Promise.resolve(2);
    Object.defineProperty(hostile, "constructor", {
      value: {
        [Symbol.species]: function Species() {
          throw boom;
        },
      },
    });
    const turnsBefore = loop.turnCount;
    const future = ensureFuture(hostile, loop);
    expect(future.exception()).toBe(boom);
    expect(loop.turnCount).toBe(turnsBefore);
    loop.callSoonThreadsafe(() => loop.stop());
    await stopped;
    loop.close();
  });

  test("a thenable that calls back from inside then() does not run the loop inside the caller", async () => {
    const poller = new StepPoller();
    const loop = new EventLoop({ poller });
    const stopped = loop.runForever();
    await macrotask();
    const turnsBefore = loop.turnCount;
    const future = ensureFuture<number>({ then: (resolve: (v: number) => void) => resolve(3) } as PromiseLike<number>, loop);
    // Delivered, but the loop resumes later, from the host: no turn ran inside ensureFuture.
    expect(future.result()).toBe(3);
    expect(loop.turnCount).toBe(turnsBefore);
    const hostResumes = poller.hostResumes;
    await macrotask();
    expect(poller.hostResumes).toBe(hostResumes + 1);
    loop.callSoonThreadsafe(() => loop.stop());
    await stopped;
    loop.close();
  });
});

import { afterEach, describe, expect, test, vi, type MockInstance } from "vitest";
import { DefaultPoller, EventLoop, ensureFuture, run, type PollerHost } from "../src/index.js";
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

/** A fake host that counts turns and lets a test await the next one. */
function fakeHost(poller: DefaultPoller) {
  let turns = 0;
  let waiting: (() => void) | null = null;
  let onTurn: (() => void) | null = null;
  const host: PollerHost = {
    loop: null as unknown as EventLoop,
    runOnce: () => {
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
      schedule: () => {},
      wakeup: () => {},
      close: () => {},
    };
    const loop = new EventLoop({ poller: broken });
    await expect(loop.runForever()).rejects.toThrow("attach failed");
    expect(loop.isRunning()).toBe(false);
    expect(() => loop.close()).not.toThrow();
    expect(loop.isClosed()).toBe(true);
  });

  test("schedule() throwing on the first turn rejects runForever and leaves the loop not running", async () => {
    let fail = true;
    const poller = {
      name: "flaky",
      attach: () => {},
      time: () => 0,
      schedule: () => {
        if (fail) throw new Error("schedule failed");
      },
      wakeup: () => {},
      close: () => {},
    };
    const loop = new EventLoop({ poller });
    await expect(loop.runForever()).rejects.toThrow("schedule failed");
    expect(loop.isRunning()).toBe(false);
    fail = false;
    loop.close();
  });
});

describe("DefaultPoller", () => {
  test("schedule(0) runs one turn from a macrotask, never synchronously", async () => {
    const poller = new DefaultPoller();
    const host = fakeHost(poller);
    const timeouts = vi.spyOn(globalThis, "setTimeout");
    poller.schedule(0);
    expect(host.turns).toBe(0);
    await host.nextTurn();
    expect(host.turns).toBe(1);
    expect(hostTimers(poller, timeouts)).toHaveLength(0);
    poller.close();
  });

  test("schedule(t) arms one host timer for ceil(t) ms that runs a turn", async () => {
    const poller = new DefaultPoller();
    const host = fakeHost(poller);
    const timeouts = vi.spyOn(globalThis, "setTimeout");
    poller.schedule(2.2);
    expect(hostTimers(poller, timeouts)).toHaveLength(1);
    expect(hostTimers(poller, timeouts)[0]?.[1]).toBe(3);
    await host.nextTurn();
    expect(host.turns).toBe(1);
    poller.close();
  });

  test("a new request keeps an armed timer due at most 1 ms earlier, and re-arms for a sooner or later deadline", () => {
    const poller = new FrozenClock();
    fakeHost(poller);
    const timeouts = vi.spyOn(globalThis, "setTimeout");
    poller.schedule(10);
    poller.schedule(10.5); // the armed one (due at 1010) is at most 1 ms early: kept
    expect(hostTimers(poller, timeouts)).toHaveLength(1);
    poller.schedule(5); // sooner: re-armed
    expect(hostTimers(poller, timeouts)).toHaveLength(2);
    poller.schedule(50); // much later: re-armed, so no turn is wasted
    expect(hostTimers(poller, timeouts)).toHaveLength(3);
    expect(hostTimers(poller, timeouts).map((c) => c[1])).toEqual([10, 5, 50]);
    poller.close();
  });

  test("waits longer than the host timer range are capped", () => {
    const poller = new DefaultPoller();
    fakeHost(poller);
    const timeouts = vi.spyOn(globalThis, "setTimeout");
    poller.schedule(30 * 24 * 3600 * 1000);
    expect(hostTimers(poller, timeouts)[0]?.[1]).toBe(2_147_483_647);
    poller.close();
  });

  test("schedule(null) and schedule(Infinity) hold no host timer; wakeup() starts a turn", async () => {
    const poller = new DefaultPoller();
    const host = fakeHost(poller);
    const timeouts = vi.spyOn(globalThis, "setTimeout");
    poller.schedule(1000);
    expect(hostTimers(poller, timeouts)).toHaveLength(1);
    poller.schedule(null);
    expect(armed(poller)).toBe(false);
    poller.schedule(Infinity);
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

  test("a turn that asks for another turn gets it in the same host callback", async () => {
    // The poller takes setImmediate when it is made: spy first.
    const immediates = vi.spyOn(globalThis, "setImmediate");
    const poller = new FrozenClock();
    const host = fakeHost(poller);
    let n = 0;
    host.onTurn = () => {
      if (++n < 3) poller.schedule(0);
    };
    poller.schedule(0);
    const turnCallback = immediates.mock.calls[0]?.[0];
    expect(turnCallback).toBeTypeOf("function");
    await macrotask();
    await macrotask();
    expect(host.turns).toBe(3);
    expect(immediates.mock.calls.filter((c) => c[0] === turnCallback)).toHaveLength(1);
    poller.close();
  });

  test("a batch of turns ends when its time budget is spent; the next turn is a new host callback", async () => {
    const immediates = vi.spyOn(globalThis, "setImmediate");
    const poller = new FrozenClock();
    const host = fakeHost(poller);
    let n = 0;
    host.onTurn = () => {
      poller.now += 1.5; // each turn "takes" 1.5 ms of the 2 ms budget
      if (++n < 4) poller.schedule(0);
    };
    poller.schedule(0);
    const turnCallback = immediates.mock.calls[0]?.[0];
    expect(turnCallback).toBeTypeOf("function");
    for (let i = 0; i < 4 && host.turns < 4; i++) await macrotask();
    expect(host.turns).toBe(4);
    // Two turns per host callback: 4 turns took 2 host callbacks.
    expect(immediates.mock.calls.filter((c) => c[0] === turnCallback)).toHaveLength(2);
    poller.close();
  });

  test("a wakeup during a turn runs another turn", async () => {
    const poller = new FrozenClock();
    const host = fakeHost(poller);
    let n = 0;
    host.onTurn = () => {
      if (++n === 1) poller.wakeup();
    };
    poller.schedule(0);
    await macrotask();
    await macrotask();
    expect(host.turns).toBe(2);
    poller.close();
  });

  test("close() cancels the timer and no turn follows", async () => {
    const poller = new DefaultPoller();
    const host = fakeHost(poller);
    poller.schedule(5);
    poller.close();
    expect(armed(poller)).toBe(false);
    poller.schedule(0);
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
    poller.schedule(0);
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
    poller.schedule(0);
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
  test("a loop that keeps waking itself from settled Promises still lets the host's macrotasks run", async () => {
    let immediates = 0;
    let finished = false;
    const counter = (): void => {
      immediates++;
      if (!finished) setImmediate(counter);
    };
    await run(function* () {
      setImmediate(counter);
      for (let i = 0; i < 500; i++) yield* ensureFuture(Promise.resolve(i));
      finished = true;
    });
    // Every outside wake-up turns the loop from the host's check phase, so the host's
    // own setImmediate queue keeps running alongside: at least once per few loop turns.
    expect(immediates).toBeGreaterThanOrEqual(100);
  });
});

import { afterEach, describe, expect, test, vi } from "vitest";
import { DefaultPoller, EventLoop, type PollerHost } from "../src/index.js";
import { macrotask } from "./helpers.js";

afterEach(() => {
  vi.restoreAllMocks();
});

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

describe("DefaultPoller", () => {
  test("schedule(0) runs one turn from a macrotask, never synchronously", async () => {
    const poller = new DefaultPoller();
    const host = fakeHost(poller);
    const timeouts = vi.spyOn(globalThis, "setTimeout");
    poller.schedule(0);
    expect(host.turns).toBe(0);
    await host.nextTurn();
    expect(host.turns).toBe(1);
    expect(timeouts).not.toHaveBeenCalled();
    poller.close();
  });

  test("schedule(t) arms one host timer for ceil(t) ms that runs a turn", async () => {
    const poller = new DefaultPoller();
    const host = fakeHost(poller);
    const timeouts = vi.spyOn(globalThis, "setTimeout");
    poller.schedule(2.2);
    expect(timeouts).toHaveBeenCalledTimes(1);
    expect(timeouts.mock.calls[0]?.[1]).toBe(3);
    // A later request for about the same deadline keeps the armed timer.
    poller.schedule(2.2);
    expect(timeouts).toHaveBeenCalledTimes(1);
    await host.nextTurn();
    expect(host.turns).toBe(1);
    poller.close();
  });

  test("waits longer than the host timer range are capped", () => {
    const poller = new DefaultPoller();
    fakeHost(poller);
    const timeouts = vi.spyOn(globalThis, "setTimeout");
    poller.schedule(30 * 24 * 3600 * 1000);
    expect(timeouts.mock.calls[0]?.[1]).toBe(2_147_483_647);
    poller.close();
  });

  test("schedule(null) and schedule(Infinity) hold no host timer; wakeup() starts a turn", async () => {
    const poller = new DefaultPoller();
    const host = fakeHost(poller);
    const timeouts = vi.spyOn(globalThis, "setTimeout");
    const clears = vi.spyOn(globalThis, "clearTimeout");
    poller.schedule(1000);
    expect(timeouts).toHaveBeenCalledTimes(1);
    poller.schedule(null);
    expect(clears).toHaveBeenCalledTimes(1);
    poller.schedule(Infinity);
    expect(timeouts).toHaveBeenCalledTimes(1);
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
    const poller = new DefaultPoller();
    const host = fakeHost(poller);
    let n = 0;
    host.onTurn = () => {
      if (++n < 3) poller.schedule(0);
    };
    const immediates = vi.spyOn(globalThis, "setImmediate");
    poller.schedule(0);
    await macrotask();
    await macrotask();
    expect(host.turns).toBe(3);
    const turnCallback = immediates.mock.calls[0]?.[0];
    expect(immediates.mock.calls.filter((c) => c[0] === turnCallback)).toHaveLength(1);
    poller.close();
  });

  test("a wakeup during a turn runs another turn", async () => {
    const poller = new DefaultPoller();
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
    const clears = vi.spyOn(globalThis, "clearTimeout");
    poller.schedule(5);
    poller.close();
    expect(clears).toHaveBeenCalledTimes(1);
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
    const timeouts = vi.spyOn(globalThis, "setTimeout");
    const stopped = loop.runForever();
    await macrotask();
    await macrotask();
    expect(timeouts).not.toHaveBeenCalled();
    loop.callSoonThreadsafe(() => loop.stop());
    await stopped;
    loop.close();
  });
});

/**
 * DefaultPoller and its host: which host queue it uses, what close() releases, when a wait
 * keeps its host timer, and host callbacks that arrive before attach or after close.
 */
import { afterEach, describe, expect, test, vi } from "vitest";
import { DefaultPoller, type EventLoop, type LoopDriver } from "../src/index.js";
import { macrotask } from "./helpers.js";

afterEach(() => {
  vi.restoreAllMocks();
});

class FrozenClock extends DefaultPoller {
  now = 1000;
  override time(): number {
    return this.now;
  }
}

interface Internals {
  _onTimer: () => void;
  _onQueued: () => void;
  _timer: unknown;
  _channel: { port1: unknown } | null;
}
const internals = (poller: DefaultPoller): Internals => poller as unknown as Internals;

function counting(poller: DefaultPoller): { turns: number } {
  const state = { turns: 0 };
  const driver: LoopDriver = { loop: null as unknown as EventLoop, resume: () => void state.turns++, externalPending: () => 0 };
  poller.attach(driver);
  return state;
}

describe("DefaultPoller's host queue", () => {
  test("without setImmediate it uses a MessageChannel, not setTimeout, and close() closes the channel", async () => {
    const g = globalThis as { setImmediate?: unknown };
    const saved = g.setImmediate;
    let poller: DefaultPoller;
    try {
      delete g.setImmediate;
      poller = new DefaultPoller();
    } finally {
      g.setImmediate = saved;
    }
    const timeouts = vi.spyOn(globalThis, "setTimeout");
    const channel = internals(poller)._channel;
    expect(channel).not.toBeNull();
    const host = counting(poller);
    poller.wait(0);
    await macrotask();
    await macrotask();
    expect(host.turns).toBe(1);
    expect(timeouts.mock.calls.filter((c) => c[0] === internals(poller)._onQueued)).toHaveLength(0);
    const closePort = vi.spyOn(channel!.port1 as { close(): void }, "close");
    poller.close();
    expect(closePort).toHaveBeenCalledTimes(1);
    expect(internals(poller)._channel).toBeNull();
  });
});

describe("DefaultPoller's host timer", () => {
  test("a wait for the same deadline keeps the armed timer; one due 1 ms later re-arms", () => {
    const poller = new FrozenClock();
    counting(poller);
    const timeouts = vi.spyOn(globalThis, "setTimeout");
    const armed = (): unknown[][] => timeouts.mock.calls.filter((c) => c[0] === internals(poller)._onTimer);
    poller.wait(10);
    poller.wait(10);
    expect(armed()).toHaveLength(1);
    poller.wait(11);
    expect(armed().map((c) => c[1])).toEqual([10, 11]);
    poller.close();
  });

  test("after close() a wait arms nothing and a wakeup queues nothing", () => {
    const poller = new DefaultPoller();
    counting(poller);
    poller.close();
    const timeouts = vi.spyOn(globalThis, "setTimeout");
    poller.wait(5);
    poller.wakeup();
    expect(internals(poller)._timer).toBeNull();
    expect(timeouts.mock.calls.filter((c) => c[0] === internals(poller)._onTimer)).toHaveLength(0);
  });
});

describe("DefaultPoller's host callbacks before attach and after close", () => {
  test("wakeup() before attach queues no host callback", () => {
    const immediates = vi.spyOn(globalThis, "setImmediate");
    const poller = new DefaultPoller();
    poller.wakeup();
    expect(immediates.mock.calls.filter((c) => c[0] === internals(poller)._onQueued)).toHaveLength(0);
    poller.close();
  });

  test("a resume queued before close() arrives after it and does not resume the loop", async () => {
    const poller = new DefaultPoller();
    const host = counting(poller);
    poller.wait(0);
    poller.close();
    await macrotask();
    await macrotask();
    expect(host.turns).toBe(0);
  });

  test("a host callback arriving before attach (or a timer already on its way at close) resumes nothing and does not throw", () => {
    const poller = new DefaultPoller();
    expect(() => internals(poller)._onTimer()).not.toThrow();
    expect(() => internals(poller)._onQueued()).not.toThrow();
    const host = counting(poller);
    poller.close();
    internals(poller)._onTimer();
    internals(poller)._onQueued();
    expect(host.turns).toBe(0);
  });
});

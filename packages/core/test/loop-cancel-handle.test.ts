/**
 * Cancelling the handle of a bare callback (`callSoon(fn)` with no arguments, queued without
 * a Handle) at each point of its life: queued, already run, cancelled twice.
 */
import { describe, expect, it } from "vitest";
import { EventLoop } from "../src/index.js";
import { VirtualPoller } from "./helpers.js";

describe("cancelling a bare callSoon callback's handle", () => {
  it("while queued: it never runs, and the callbacks around it run in order", () => {
    const loop = new EventLoop({ poller: new VirtualPoller() });
    const log: string[] = [];
    loop.callSoon(() => log.push("a"));
    const handle = loop.callSoon(() => log.push("b"));
    loop.callSoon(() => log.push("c"));
    handle.cancel();
    handle.cancel();
    expect(handle.cancelled()).toBe(true);
    loop.runOnce();
    loop.close();
    expect(log).toEqual(["a", "c"]);
  });

  it("after it ran: a no-op, and the callbacks queued since still run", () => {
    const loop = new EventLoop({ poller: new VirtualPoller() });
    const log: string[] = [];
    const handle = loop.callSoon(() => log.push("first"));
    loop.runOnce();
    loop.callSoon(() => log.push("second"));
    expect(() => handle.cancel()).not.toThrow();
    loop.runOnce();
    loop.close();
    expect(log).toEqual(["first", "second"]);
  });
});

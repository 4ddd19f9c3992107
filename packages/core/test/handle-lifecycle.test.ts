/**
 * Handles after cancel(): a queued Handle with arguments is skipped without an error, a timer
 * cancelled twice or after it ran is left alone, and in debug mode a Handle reports where
 * it was scheduled.
 */
import { describe, expect, it } from "vitest";
import { EventLoop } from "../src/index.js";
import { VirtualPoller } from "./helpers.js";

function loopWithReports(opts: { debug?: boolean } = {}): { loop: EventLoop; poller: VirtualPoller; reports: unknown[] } {
  const poller = new VirtualPoller();
  const loop = new EventLoop({ poller, debug: opts.debug });
  const reports: unknown[] = [];
  loop.setExceptionHandler((_loop, context) => void reports.push(context.exception ?? context.message));
  return { loop, poller, reports };
}

describe("a cancelled handle", () => {
  it("a callSoon with arguments cancelled while queued neither runs nor reports anything", () => {
    const { loop, reports } = loopWithReports();
    const log: string[] = [];
    const handle = loop.callSoon((x: string) => log.push(x), "a");
    loop.callSoon((x: string) => log.push(x), "b");
    handle.cancel();
    loop.runOnce();
    loop.close();
    expect(log).toEqual(["b"]);
    expect(reports).toEqual([]);
  });

  it("a timer cancelled twice, or after it ran, is left alone; the other timers still run", () => {
    const { loop, poller, reports } = loopWithReports();
    const log: string[] = [];
    const twice = loop.callLater(5, () => log.push("twice"));
    const ran = loop.callLater(1, () => log.push("ran"));
    loop.callLater(5, () => log.push("other"));
    twice.cancel();
    expect(() => twice.cancel()).not.toThrow();
    poller.now = 1;
    loop.runOnce();
    expect(() => ran.cancel()).not.toThrow();
    poller.now = 5;
    loop.runOnce();
    loop.close();
    expect(log).toEqual(["ran", "other"]);
    expect(reports).toEqual([]);
    expect(twice.cancelled()).toBe(true);
  });

  it("a timer cancelled by a timer due at the same time, after both were taken from the wheel, neither runs nor reports", () => {
    const { loop, poller, reports } = loopWithReports();
    const log: string[] = [];
    // The first due timer cancels the next ones: a plain one and one with arguments.
    loop.callLater(5, () => {
      plain.cancel();
      withArgs.cancel();
    });
    const plain = loop.callLater(5, () => log.push("plain"));
    const withArgs = loop.callLater(5, (x: string) => log.push(x), "with args");
    loop.callLater(5, () => log.push("last"));
    poller.now = 5;
    loop.runOnce();
    loop.close();
    expect(log).toEqual(["last"]);
    expect(reports).toEqual([]);
  });

  it("a cancelled timer's when() is still the time it was due (asyncio's TimerHandle.when)", () => {
    const { loop } = loopWithReports();
    const timer = loop.callLater(5, () => {});
    expect(timer.when()).toBe(5);
    timer.cancel();
    expect(timer.when()).toBe(5);
    loop.close();
  });
});

describe("a Handle in debug mode", () => {
  it("a slow callback's warning carries the stack where it was scheduled", () => {
    const { loop } = loopWithReports({ debug: true });
    const warnings: Record<string, unknown>[] = [];
    loop.debugLogger = { warn: (_message, details) => void warnings.push(details ?? {}) };
    loop.slowCallbackDuration = 0;
    loop.callSoon((x: number) => x, 1);
    loop.runOnce();
    loop.close();
    expect(warnings).toHaveLength(1);
    expect(typeof warnings[0]?.creationStack).toBe("string");
    expect(warnings[0]?.creationStack).toMatch(/handle-lifecycle\.test/);
  });
});

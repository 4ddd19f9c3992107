/**
 * Debug mode's timed turns: a bare callback cancelled before debug mode was switched on,
 * and what a slow step's warning names.
 */
import { describe, expect, it } from "vitest";
import { EventLoop, type Coroutine } from "../src/index.js";
import { VirtualPoller } from "./helpers.js";

describe("debug mode's timed turns", () => {
  it("a bare callback cancelled before debug mode was switched on is skipped; the rest run", () => {
    const loop = new EventLoop({ poller: new VirtualPoller() });
    const log: string[] = [];
    const handle = loop.callSoon(() => log.push("cancelled"));
    loop.callSoon(() => log.push("kept"));
    handle.cancel();
    loop.setDebug(true);
    loop.debugLogger = { warn: () => {} };
    expect(() => loop.runOnce()).not.toThrow();
    loop.close();
    expect(log).toEqual(["kept"]);
  });

  it("a slow task step's warning names the task, a slow callback's the callback", () => {
    const loop = new EventLoop({ poller: new VirtualPoller(), debug: true });
    const warnings: string[] = [];
    loop.debugLogger = { warn: (message) => void warnings.push(message) };
    loop.slowCallbackDuration = 0;
    const task = loop.createTask((function* (): Coroutine<void> {})(), { name: "slow-worker" });
    loop.runOnce();
    expect(task.done()).toBe(true);
    expect(warnings).toHaveLength(1);
    const described = (task as unknown as { _describe(): string })._describe();
    expect(described).toMatch(/slow-worker/);
    expect(warnings[0]).toBe(`Executing ${described} took 0.0 ms`);
    loop.close();
  });
});

import { describe, expect, it } from "vitest";
import { EventLoop } from "../src/index.js";

describe("loop.addCloseCallback", () => {
  it("runs each callback once when the loop closes, in registration order, and not after unregistering", () => {
    const loop = new EventLoop();
    const log: string[] = [];
    loop.addCloseCallback(() => log.push("first"));
    const remove = loop.addCloseCallback(() => log.push("removed"));
    loop.addCloseCallback(() => log.push("second"));
    remove();
    expect(log).toEqual([]);
    loop.close();
    loop.close();
    expect(log).toEqual(["first", "second"]);
  });

  it("reports a failing callback to the exception handler and runs the rest", () => {
    const loop = new EventLoop();
    const reported: string[] = [];
    loop.setExceptionHandler((_loop, context) => reported.push(`${context.message}: ${(context.exception as Error).message}`));
    const log: string[] = [];
    loop.addCloseCallback(() => {
      throw new Error("boom");
    });
    loop.addCloseCallback(() => log.push("ran"));
    loop.close();
    expect(reported).toEqual(["Exception in a close callback: boom"]);
    expect(log).toEqual(["ran"]);
  });

  it("checks its argument and refuses a closed loop", () => {
    const loop = new EventLoop();
    expect(() => loop.addCloseCallback(42 as unknown as () => void)).toThrow(TypeError);
    loop.close();
    expect(() => loop.addCloseCallback(() => {})).toThrow(/closed/);
  });
});

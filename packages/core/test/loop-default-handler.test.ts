/**
 * What the default exception handler prints, and what callExceptionHandler does when the
 * default handler itself throws.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { EventLoop, type Coroutine } from "../src/index.js";
import { VirtualPoller } from "./helpers.js";

afterEach(() => {
  vi.restoreAllMocks();
});

function printed(): { calls: unknown[][] } {
  const spy = vi.spyOn(console, "error").mockImplementation(() => {});
  return spy.mock;
}

describe("defaultExceptionHandler", () => {
  it("for a task made in debug mode, prints where it was created", () => {
    const out = printed();
    const loop = new EventLoop({ poller: new VirtualPoller(), debug: true });
    const task = loop.createTask((function* (): Coroutine<void> {})(), { name: "worker" });
    loop.defaultExceptionHandler({ message: "it broke", task });
    const line = String(out.calls[0]?.[0]);
    expect(line.split("\n")[0]).toBe('[@loop] it broke (task "worker")');
    expect(line.split("\n")[1]).toMatch(/^ {2}created at .*loop-default-handler\.test/);
    task.cancel();
    loop.runOnce();
    loop.close();
  });

  it("an Error without a stack is printed by name and message", () => {
    const out = printed();
    const loop = new EventLoop({ poller: new VirtualPoller() });
    const error = new RangeError("no stack here");
    Object.defineProperty(error, "stack", { value: undefined });
    loop.defaultExceptionHandler({ message: "it broke", exception: error });
    expect(out.calls[0]?.[0]).toBe("[@loop] it broke\nRangeError: no stack here");
    loop.close();
  });
});

describe("callExceptionHandler when the default handler throws", () => {
  it("with no handler set, the default's own error is printed, not thrown", () => {
    const out = printed();
    const loop = new EventLoop({ poller: new VirtualPoller() });
    const broken = new Error("default broke");
    loop.defaultExceptionHandler = () => {
      throw broken;
    };
    expect(() => loop.callExceptionHandler({ message: "first" })).not.toThrow();
    expect(out.calls).toEqual([["[@loop] Exception in default exception handler", broken]]);
    loop.close();
  });

  it("with a handler that throws, the default gets that error, and its own error is printed", () => {
    const out = printed();
    const loop = new EventLoop({ poller: new VirtualPoller() });
    const seen: unknown[] = [];
    const handlerError = new Error("handler broke");
    const broken = new Error("default broke");
    loop.setExceptionHandler(() => {
      throw handlerError;
    });
    loop.defaultExceptionHandler = (context) => {
      seen.push(context.message, context.exception);
      throw broken;
    };
    expect(() => loop.callExceptionHandler({ message: "first" })).not.toThrow();
    expect(seen).toEqual(["Unhandled error in exception handler", handlerError]);
    expect(out.calls).toEqual([["[@loop] Exception in default exception handler", broken]]);
    loop.close();
  });
});

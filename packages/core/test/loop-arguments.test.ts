/**
 * EventLoop's argument checks (exact errors, naming the argument and the fix), the arguments
 * timers pass on, and the small setters and getters around them.
 */
import { describe, expect, it } from "vitest";
import { EventLoop, Task, createTask, getRunningLoop, run, type Coroutine, type Executor, type TaskFactory } from "../src/index.js";
import { VirtualPoller } from "./helpers.js";

function withLoop(body: (loop: EventLoop, poller: VirtualPoller) => void): void {
  const poller = new VirtualPoller();
  const loop = new EventLoop({ poller });
  try {
    body(loop, poller);
  } finally {
    loop.close();
  }
}

describe("EventLoop's argument checks", () => {
  it("a poller that is not a Poller is a TypeError naming the interface", () => {
    expect(() => new EventLoop({ poller: {} as never })).toThrow(
      new TypeError("new EventLoop({ poller }): poller must implement the Poller interface (attach, time, wait, wakeup, close)"),
    );
  });

  it("callLater and callAt: a delay or time that is not a number is a TypeError, NaN a RangeError", () => {
    withLoop((loop) => {
      const cb = (): void => {};
      expect(() => loop.callLater("5" as never, cb)).toThrow(new TypeError("callLater(delayMs, ...): delayMs must be a number of milliseconds, got string"));
      expect(() => loop.callLater(Number.NaN, cb)).toThrow(new RangeError("callLater(delayMs, ...): delayMs is NaN"));
      expect(() => loop.callAt("5" as never, cb)).toThrow(new TypeError("callAt(whenMs, ...): whenMs must be a loop time in milliseconds, got string"));
      expect(() => loop.callAt(Number.NaN, cb)).toThrow(new RangeError("callAt(whenMs, ...): whenMs is NaN"));
    });
  });

  it("callAt with a callback that is not a function names callAt", () => {
    withLoop((loop) => {
      expect(() => loop.callAt(1, 5 as never)).toThrow(new TypeError("callAt(…, callback): callback must be a function, got number"));
    });
  });

  it("createTask: not a coroutine names createTask(coro); opts null is a TypeError", () => {
    withLoop((loop) => {
      expect(() => loop.createTask(5 as never)).toThrow(/^createTask\(coro\) expects a coroutine/);
      const coro = (function* (): Coroutine<void> {})();
      expect(() => loop.createTask(coro, null as never)).toThrow(new TypeError("createTask(coro, opts): opts must be an object like { name, context }"));
      coro.return(undefined);
    });
  });

  it("setTaskFactory, setTaskOrder, setExceptionHandler and setDefaultExecutor take a function (or executor) or null, nothing else", () => {
    withLoop((loop) => {
      expect(() => loop.setTaskFactory(5 as never)).toThrow(new TypeError("setTaskFactory(factory): factory must be a function (loop, coro, opts) => Task, or null"));
      expect(() => loop.setTaskOrder(5 as never)).toThrow(
        new TypeError("setTaskOrder(order): order must be a function (tasks) => void that reorders the array in place, or null"),
      );
      expect(() => loop.setExceptionHandler(5 as never)).toThrow(
        new TypeError("setExceptionHandler(handler): handler must be a function (loop, context) => void, or null"),
      );
      const executorMessage = "setDefaultExecutor(executor): executor must have a shutdown() method, or be null";
      expect(() => loop.setDefaultExecutor({} as never)).toThrow(new TypeError(executorMessage));
      // A function with a shutdown method is still not an executor object.
      expect(() => loop.setDefaultExecutor(Object.assign(() => {}, { shutdown: async () => {} }) as never)).toThrow(new TypeError(executorMessage));
      expect(() => loop.addCloseCallback(5 as never)).toThrow(new TypeError("addCloseCallback(…, callback): callback must be a function, got number"));
      // null is accepted by each, and restores the default.
      expect(() => loop.setExceptionHandler(null)).not.toThrow();
      expect(() => loop.setDefaultExecutor(null)).not.toThrow();
      expect(() => loop.setTaskFactory(null)).not.toThrow();
      expect(() => loop.setTaskOrder(null)).not.toThrow();
    });
  });
});

describe("EventLoop's timers pass their extra arguments", () => {
  it("callLater and callAt call back with exactly the arguments given, however many", () => {
    withLoop((loop, poller) => {
      const calls: unknown[][] = [];
      const record = (...args: unknown[]): void => void calls.push(args);
      loop.callLater(1, record);
      loop.callLater(2, record, "a");
      loop.callLater(3, record, "a", "b", "c");
      loop.callAt(4, record);
      loop.callAt(5, record, "x");
      loop.callAt(6, record, "x", "y", "z");
      poller.now = 10;
      loop.runOnce();
      expect(calls).toEqual([[], ["a"], ["a", "b", "c"], [], ["x"], ["x", "y", "z"]]);
    });
  });
});

describe("EventLoop's small setters and getters", () => {
  it("getTaskFactory returns the factory set, and null for the default", () => {
    withLoop((loop) => {
      expect(loop.getTaskFactory()).toBeNull();
      const factory: TaskFactory = (l, coro, opts) => new Task(coro, l, opts);
      loop.setTaskFactory(factory);
      expect(loop.getTaskFactory()).toBe(factory);
      loop.setTaskFactory(null);
      expect(loop.getTaskFactory()).toBeNull();
    });
  });

  it("a close callback unregistered twice does not unregister another", () => {
    withLoop((loop) => {
      const log: string[] = [];
      const offA = loop.addCloseCallback(() => log.push("a"));
      loop.addCloseCallback(() => log.push("b"));
      offA();
      offA();
      loop.close();
      expect(log).toEqual(["b"]);
    });
  });

  it("setDefaultExecutor(null) leaves no executor to shut down", async () => {
    const log: string[] = [];
    const executor: Executor = {
      submit: () => Promise.resolve(undefined),
      shutdown: async () => void log.push("shutdown"),
    } as unknown as Executor;
    const loop = new EventLoop({ poller: new VirtualPoller() });
    loop.setDefaultExecutor(executor);
    loop.setDefaultExecutor(null);
    await loop.shutdownDefaultExecutor();
    loop.close();
    expect(log).toEqual([]);
  });
});

describe("the task-order hook", () => {
  it("is asked only when two or more task steps are due in a turn", async () => {
    const sizes: number[] = [];
    await run(function* () {
      const loop = getRunningLoop();
      loop.setTaskOrder((tasks) => void sizes.push(tasks.length));
      yield* createTask((function* (): Coroutine<void> {})());
      loop.setTaskOrder(null);
    });
    expect(sizes).toEqual([]);
  });

  it("one that resizes the array is reported with the exact message", async () => {
    const reports: string[] = [];
    await run(function* () {
      const loop = getRunningLoop();
      loop.setExceptionHandler((_l, ctx) => void reports.push(ctx.message));
      loop.setTaskOrder((tasks) => void tasks.pop());
      const tasks = ["a", "b"].map(() => createTask((function* (): Coroutine<void> {})()));
      for (const t of tasks) yield* t;
      loop.setTaskOrder(null);
    });
    expect(reports[0]).toBe("Exception in the task-order hook: Error: the task-order hook must reorder the array in place, not add or remove tasks");
  });
});

import { describe, expect, test } from "vitest";
import { EventLoop, currentTask, getRunningLoop, run, taskGroup, type Coroutine, type DebugLogger, type Future, type Task } from "../src/index.js";

// Debug mode's public surface in core (docs/design.md, "Debug mode" in the README): creation and suspension stacks, the
// slow-callback line, tasks left pending at close, futures dropped while pending, and the
// task-group links that @loop/debug's task tree reads.

interface Report {
  message: string;
  details: Record<string, unknown> | undefined;
}

function recordingLogger(): DebugLogger & { reports: Report[] } {
  const reports: Report[] = [];
  return {
    reports,
    warn(message, details) {
      reports.push({ message, details });
    },
  };
}

function* parkedOn(future: Future<unknown>): Coroutine<void> {
  yield* future;
}

describe("creation and suspension stacks", () => {
  test("a future keeps its creation stack in debug mode only", async () => {
    const stacks = await run(
      function* () {
        return getLoopStack();
      },
      { debug: true },
    );
    expect(stacks).toContain("debug-mode.test.ts");
    const plain = await run(
      function* () {
        return getLoopStack();
      },
      { debug: false },
    );
    expect(plain).toBeUndefined();
  });

  test("a suspended task tells where its coroutine yielded, in debug mode", async () => {
    const loop = new EventLoop({ debug: true });
    const gate = loop.createFuture<void>();
    const task = loop.createTask(parkedOn(gate), { name: "parked" });
    loop.callSoon(() => loop.callSoon(() => loop.stop()));
    await loop.runForever();
    const stack = task.suspensionStack();
    expect(stack).toBeDefined();
    // The frame of the generator that yielded, not the loop's own frames.
    expect(stack).toMatch(/at parkedOn \(.*debug-mode\.test\.ts:\d+:\d+\)/);
    gate.setResult();
    await loop.runUntilComplete(task);
    loop.close();
  });

  test("a task that is running or done again has no suspension stack", async () => {
    const loop = new EventLoop({ debug: true });
    const gate = loop.createFuture<void>();
    const seen: (string | undefined)[] = [];
    const task = loop.createTask(
      (function* () {
        yield* parkedOn(gate);
        seen.push((currentTask() as Task<unknown>).suspensionStack());
      })(),
    );
    loop.callSoon(() => loop.callSoon(() => loop.stop()));
    await loop.runForever();
    expect(task.suspensionStack()).toBeDefined();
    gate.setResult();
    await loop.runUntilComplete(task);
    expect([...seen, task.suspensionStack()]).toEqual([undefined, undefined]);
    loop.close();
  });

  test("outside debug mode no suspension stack is captured", async () => {
    const loop = new EventLoop({ debug: false });
    const gate = loop.createFuture<void>();
    const task = loop.createTask(parkedOn(gate));
    loop.callSoon(() => loop.callSoon(() => loop.stop()));
    await loop.runForever();
    expect(task.waitingOn()).toBe(gate);
    expect(task.suspensionStack()).toBeUndefined();
    gate.cancel();
    await loop.runUntilComplete(task).catch(() => undefined);
    loop.close();
  });
});

function getLoopStack(): string | undefined {
  return getRunningLoop().createFuture().creationStack();
}

describe("slow callbacks", () => {
  test("a slow task step is reported in one line naming the task, its coroutine, where it is suspended and where it was created", async () => {
    const loop = new EventLoop({ debug: true });
    const logger = recordingLogger();
    loop.debugLogger = logger;
    // Every step counts as slow: the test checks the report's content, not timings.
    loop.slowCallbackDuration = 0;
    const gate = loop.createFuture<void>();
    function* slowStep(): Coroutine<void> {
      yield* parkedOn(gate);
    }
    const task = loop.createTask(slowStep(), { name: "slow" });
    loop.callSoon(() => loop.callSoon(() => loop.stop()));
    await loop.runForever();
    const line = logger.reports.find((r) => r.message.includes('name="slow"'));
    expect(line).toBeDefined();
    const message = (line as Report).message;
    expect(message).not.toContain("\n");
    expect(message).toMatch(/^Executing <Task pending name="slow" coro=<slowStep\(\) running at .*debug-mode\.test\.ts:\d+:\d+>>/);
    // The coroutine delegates to a helper: the line inside the helper is named too.
    expect(message).toMatch(/ suspended at parkedOn \(.*debug-mode\.test\.ts:\d+:\d+\)/);
    expect(message).toMatch(/ created at .*debug-mode\.test\.ts:\d+:\d+/);
    expect(message).toMatch(/ took \d+\.\d ms$/);
    expect((line as Report).details?.["task"]).toBe(task);
    expect((line as Report).details?.["durationMs"]).toEqual(expect.any(Number));
    gate.setResult();
    await loop.runUntilComplete(task);
    loop.close();
  });

  test("a step suspended in the coroutine itself names that line once", async () => {
    const loop = new EventLoop({ debug: true });
    const logger = recordingLogger();
    loop.debugLogger = logger;
    loop.slowCallbackDuration = 0;
    const gate = loop.createFuture<void>();
    const task = loop.createTask(parkedOn(gate), { name: "direct" });
    loop.callSoon(() => loop.callSoon(() => loop.stop()));
    await loop.runForever();
    const message = logger.reports.find((r) => r.message.includes('name="direct"'))?.message ?? "";
    expect(message).toMatch(/coro=<parkedOn\(\) running at .*debug-mode\.test\.ts:\d+:\d+>> created at /);
    expect(message).not.toContain("suspended at");
    gate.setResult();
    await loop.runUntilComplete(task);
    loop.close();
  });

  test("an anonymous coroutine is named <anonymous>", async () => {
    const loop = new EventLoop({ debug: true });
    const logger = recordingLogger();
    loop.debugLogger = logger;
    loop.slowCallbackDuration = 0;
    const gate = loop.createFuture<void>();
    const task = loop.createTask(
      (function* () {
        yield* gate;
      })(),
      { name: "anon" },
    );
    loop.callSoon(() => loop.callSoon(() => loop.stop()));
    await loop.runForever();
    const message = logger.reports.find((r) => r.message.includes('name="anon"'))?.message ?? "";
    expect(message).toMatch(/^Executing <Task pending name="anon" coro=<<anonymous>\(\) running at .*debug-mode\.test\.ts:\d+:\d+>> created at /);
    gate.setResult();
    await loop.runUntilComplete(task);
    loop.close();
  });

  test("a step that ends without waiting on a future names no coroutine line; a task made before debug mode names no creation site", async () => {
    const loop = new EventLoop({ debug: false });
    const logger = recordingLogger();
    loop.debugLogger = logger;
    const early = loop.createTask(
      (function* bare() {
        yield;
      })(),
      { name: "early" },
    );
    loop.setDebug(true);
    loop.slowCallbackDuration = 0;
    const late = loop.createTask(
      (function* bare() {
        yield;
      })(),
      { name: "late" },
    );
    await loop.runUntilComplete(late);
    await loop.runUntilComplete(early);
    loop.close();
    const lines = logger.reports.map((r) => r.message.replace(/ took \d+\.\d ms$/, ""));
    expect(lines.filter((m) => m.includes('name="early"'))).toEqual(['Executing <Task pending name="early">', 'Executing <Task finished name="early">']);
    const late0 = lines.filter((m) => m.includes('name="late"'));
    expect(late0).toHaveLength(2);
    for (const m of late0) expect(m).toMatch(/^Executing <Task (pending|finished) name="late"> created at .*debug-mode\.test\.ts:\d+:\d+$/);
  });

  test("a step suspended deeper than the captured frames names the innermost line but no coroutine", async () => {
    const loop = new EventLoop({ debug: true });
    const logger = recordingLogger();
    loop.debugLogger = logger;
    loop.slowCallbackDuration = 0;
    const gate = loop.createFuture<void>();
    function* deep(n: number): Coroutine<void> {
      if (n === 0) yield* gate;
      else yield* deep(n - 1);
    }
    const task = loop.createTask(deep(80), { name: "deep" });
    loop.callSoon(() => loop.callSoon(() => loop.stop()));
    await loop.runForever();
    const message = logger.reports.find((r) => r.message.includes('name="deep"'))?.message ?? "";
    expect(message).toMatch(/^Executing <Task pending name="deep"> suspended at deep \(.*debug-mode\.test\.ts:\d+:\d+\) created at /);
    gate.setResult();
    await loop.runUntilComplete(task);
    loop.close();
  });

  test("a fast step is not reported", async () => {
    const loop = new EventLoop({ debug: true });
    const logger = recordingLogger();
    loop.debugLogger = logger;
    loop.slowCallbackDuration = Number.POSITIVE_INFINITY;
    await loop.runUntilComplete(
      (function* () {
        yield;
      })(),
    );
    loop.close();
    expect(logger.reports).toEqual([]);
  });
});

describe("what is left pending", () => {
  test("closing a debug loop reports the tasks still pending, and says which never ran", async () => {
    const loop = new EventLoop({ debug: true });
    const logger = recordingLogger();
    loop.debugLogger = logger;
    const gate = loop.createFuture<void>();
    loop.createTask(parkedOn(gate), { name: "stuck" });
    loop.callSoon(() => loop.callSoon(() => loop.stop()));
    await loop.runForever();
    loop.createTask(parkedOn(gate), { name: "never-started" });
    loop.close();
    const messages = logger.reports.map((r) => r.message);
    expect(messages).toHaveLength(2);
    expect(messages[0]).toMatch(/^Task was destroyed but it is pending! <Task pending name="stuck"/);
    expect(messages[0]).not.toContain("never ran");
    expect(messages[1]).toMatch(/^Task was destroyed but it is pending! \(its coroutine never ran\) <Task pending name="never-started"/);
  });

  test("closing a loop outside debug mode reports nothing", async () => {
    const loop = new EventLoop({ debug: false });
    const logger = recordingLogger();
    loop.debugLogger = logger;
    loop.createTask(parkedOn(loop.createFuture()));
    loop.close();
    expect(logger.reports).toEqual([]);
  });

  test("a future garbage-collected while pending is reported in debug mode, one completed is not", async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc === undefined) throw new Error("this test needs node --expose-gc (see vitest.config.ts)");
    const loop = new EventLoop({ debug: true });
    const logger = recordingLogger();
    loop.debugLogger = logger;
    (function makeGarbage() {
      // eslint-disable-next-line @loop/no-floating-coroutine -- dropped on purpose: the test checks debug mode's report of a future collected while pending
      loop.createFuture<number>(); // dropped pending
      loop.createFuture<number>().setResult(1); // dropped done
    })();
    // Finalizers run in a later macrotask after a collection; poll a bounded number of times.
    for (let i = 0; i < 50 && logger.reports.length === 0; i++) {
      gc();
      await new Promise<void>((resolve) => (globalThis as unknown as { setTimeout(cb: () => void, ms: number): void }).setTimeout(resolve, 0));
    }
    expect(logger.reports.map((r) => r.message)).toEqual([expect.stringMatching(/^Future was destroyed but it is pending! created at .*debug-mode\.test\.ts/)]);
    expect(logger.reports[0]?.details).toEqual({ creationStack: expect.stringContaining("debug-mode.test.ts") });
    loop.close();
  });

  test("a future dropped while pending whose stack a host hook made no text of is reported without a creation site", async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc === undefined) throw new Error("this test needs node --expose-gc (see vitest.config.ts)");
    const loop = new EventLoop({ debug: true });
    const logger = recordingLogger();
    loop.debugLogger = logger;
    const V8Error = Error as unknown as { prepareStackTrace?: (error: Error, sites: unknown[]) => unknown };
    const hostHook = V8Error.prepareStackTrace;
    // A host hook that makes no text of a stack.
    V8Error.prepareStackTrace = () => undefined;
    try {
      (function makeGarbage() {
        // eslint-disable-next-line @loop/no-floating-coroutine -- dropped on purpose: the test checks the report of a future collected while pending
        loop.createFuture<number>();
      })();
    } finally {
      V8Error.prepareStackTrace = hostHook;
    }
    for (let i = 0; i < 50 && logger.reports.length === 0; i++) {
      gc();
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    expect(logger.reports).toEqual([{ message: "Future was destroyed but it is pending!", details: { creationStack: undefined } }]);
    loop.close();
  });

  test("a future dropped while pending together with its loop is not reported: there is no loop to report to", async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc === undefined) throw new Error("this test needs node --expose-gc (see vitest.config.ts)");
    let collected = false;
    const sentinel = new FinalizationRegistry<null>(() => (collected = true));
    (function makeGarbage() {
      const loop = new EventLoop({ debug: true });
      const future = loop.createFuture<number>();
      loop.close();
      sentinel.register(loop, null);
      sentinel.register(future, null);
    })();
    // A report that throws does so in the finalizer, outside any test: catch it here too.
    const thrown: unknown[] = [];
    const onUncaught = (error: unknown): number => thrown.push(error);
    process.prependListener("uncaughtException", onUncaught);
    try {
      for (let i = 0; i < 50 && !collected; i++) {
        gc();
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      // The future's own finalizer may run a macrotask after the sentinel's.
      gc();
      await new Promise<void>((resolve) => setImmediate(resolve));
    } finally {
      process.removeListener("uncaughtException", onUncaught);
    }
    expect(collected).toBe(true);
    expect(thrown).toEqual([]);
  });
});

describe("task-group links", () => {
  test("a child knows its group, and the group its parent task", async () => {
    const seen = await run(function* () {
      let child: Task<unknown> | undefined;
      let parent: Task<unknown> | undefined;
      yield* taskGroup(function* (tg) {
        child = tg.createTask(
          (function* () {
            yield;
          })(),
        );
        expect(child.parentGroup()).toBe(tg);
        parent = tg.parentTask();
      });
      return { child, parent };
    });
    expect(seen.parent?.name).toMatch(/^Task-\d+$/);
    expect(seen.child?.parentGroup()?.parentTask()).toBe(seen.parent);
  });

  test("a task not started by a group has no group", async () => {
    const loop = new EventLoop();
    const task = loop.createTask(
      (function* () {
        yield;
      })(),
    );
    expect(task.parentGroup()).toBeNull();
    await loop.runUntilComplete(task);
    loop.close();
  });
});

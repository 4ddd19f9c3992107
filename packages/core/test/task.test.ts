import { describe, expect, test } from "vitest";
import {
  CancelledError,
  EventLoop,
  Future,
  InvalidStateError,
  Task,
  allTasks,
  createTask,
  currentTask,
  getRunningLoop,
  ContextVar,
  copyContext,
  type Coroutine,
  type ErrorContext,
} from "../src/index.js";
import { VirtualPoller, catching, forever, runVirtual, sleep, turn, turns, virtualLoop } from "./helpers.js";

describe("task steps", () => {
  test("a new task's first step is scheduled, not run synchronously", async () => {
    const log = await runVirtual(function* () {
      const log: string[] = [];
      const t0 = turn();
      const t = createTask(
        (function* () {
          log.push(`child step at +${turn() - t0}`);
        })(),
      );
      log.push("created");
      yield* t;
      return log;
    });
    expect(log).toEqual(["created", "child step at +1"]);
  });

  test("a bare yield gives the loop exactly one turn", async () => {
    const d = await runVirtual(function* () {
      const t0 = turn();
      yield;
      const t1 = turn();
      yield* turns(3);
      return [t1 - t0, turn() - t1];
    });
    expect(d).toEqual([1, 3]);
  });

  test("tasks take turns in the order they became ready", async () => {
    const log = await runVirtual(function* () {
      const log: string[] = [];
      const body = (name: string) =>
        (function* () {
          for (let i = 0; i < 3; i++) {
            log.push(`${name}${i}`);
            yield;
          }
        })();
      const a = createTask(body("a"));
      const b = createTask(body("b"));
      yield* a;
      yield* b;
      return log;
    });
    expect(log).toEqual(["a0", "b0", "a1", "b1", "a2", "b2"]);
  });

  test("default names are Task-N, increasing; a name can be given and changed", async () => {
    const names = await runVirtual(function* () {
      const a = createTask((function* () {})());
      const b = createTask((function* () {})());
      const c = createTask((function* () {})(), { name: "worker" });
      const na = Number(a.name.replace("Task-", ""));
      const nb = Number(b.name.replace("Task-", ""));
      c.setName("renamed");
      const got = c.getName();
      b.name = "b";
      return [/^Task-\d+$/.test(a.name), nb - na, got, b.getName()];
    });
    expect(names).toEqual([true, 1, "renamed", "b"]);
  });

  test("currentTask is the running task, null outside; allTasks lists the pending ones", async () => {
    expect(currentTask()).toBe(null);
    const out = await runVirtual(function* () {
      const me = currentTask();
      const child = createTask(forever());
      const all = allTasks();
      const result = [me instanceof Task, all.has(me!), all.has(child), getRunningLoop().allTasks().size];
      child.cancel();
      return result;
    });
    expect(out).toEqual([true, true, true, 2]);
  });

  test("getCoro, waitingOn and toString describe the task", async () => {
    const out = await runVirtual(function* () {
      const f = new Future<number>();
      const coro = (function* () {
        return yield* f;
      })();
      const t = createTask(coro, { name: "w" });
      const before = String(t);
      yield;
      const waiting = t.waitingOn();
      t.cancel();
      const cancelling = String(t);
      yield* catching(t);
      return [t.getCoro() === coro, waiting === f, before, cancelling, String(t), t.waitingOn()];
    });
    expect(out).toEqual([true, true, '<Task pending name="w">', '<Task cancelling name="w">', '<Task cancelled name="w">', null]);
  });

  test("Task.setResult and Task.setException throw", async () => {
    await runVirtual(function* () {
      const t = createTask((function* () {})());
      expect(() => t.setResult(undefined)).toThrow(/does not support setResult/);
      expect(() => t.setException(new Error())).toThrow(/does not support setException/);
      yield* t;
    });
  });

  test("await task in async code gives its result (Task is PromiseLike)", async () => {
    const { loop } = virtualLoop();
    const task = loop.createTask(
      (function* () {
        yield* sleep(5);
        return "r";
      })(),
    );
    const running = loop.runUntilComplete(task);
    expect(await task).toBe("r");
    await running;
    loop.close();
  });
});

describe("createTask arguments", () => {
  test("tasks are numbered in creation order, named or not, and a rename replaces the number for good", async () => {
    await runVirtual(function* () {
      const first = createTask((function* () {})());
      const n = Number(/^Task-(\d+)$/.exec(first.name)![1]);
      const named = createTask((function* () {})(), { name: "worker" });
      const third = createTask((function* () {})());
      expect([named.name, third.name]).toEqual(["worker", `Task-${n + 2}`]);
      third.setName("renamed");
      expect(third.getName()).toBe("renamed");
      named.name = "again";
      expect(named.name).toBe("again");
      expect(String(third)).toContain('name="renamed"');
      yield* turns(1);
    });
  });

  test("cancel and uncancel count requests apart from the cancellation still to deliver", async () => {
    await runVirtual(function* () {
      const task = createTask(forever());
      yield* turns(1);
      expect(task.cancel("one")).toBe(true);
      expect(task.cancel("two")).toBe(true);
      expect(task.cancelling()).toBe(2);
      expect(task.uncancel()).toBe(1);
      expect(task.state()).toBe("woken");
      expect(String(task)).toContain("cancelling");
      expect(yield* catching(task)).toBeInstanceOf(CancelledError);
      expect(task.cancelling()).toBe(1);
      // Not yet started: the cancellation has nowhere to go but the first step.
      const fresh = createTask(forever());
      fresh.cancel();
      expect(fresh.uncancel()).toBe(0);
      fresh.cancel("again");
      expect((yield* catching(fresh)) as CancelledError).toBeInstanceOf(CancelledError);
      expect(fresh.cancelled()).toBe(true);
    });
  });

  test("a Promise, an async function, a generator function or a number is a TypeError with a hint", async () => {
    await runVirtual(function* () {
      expect(() => createTask(Promise.resolve(1) as never)).toThrow(TypeError);
      expect(() => createTask(Promise.resolve(1) as never)).toThrow(/got a Promise\. Adopt the Promise with ensureFuture\(promise\)/);
      expect(() => createTask((async () => 1) as never)).toThrow(/got an async function\. .*rewrite it as a function\*/);
      expect(() => createTask(function* () {} as never)).toThrow(/call it, e\.g\. createTask\(main\(\)\)/);
      expect(() => createTask((() => 1) as never)).toThrow(/got a function\. Call a function\* to get a coroutine/);
      expect(() => createTask(42 as never)).toThrow(/expects a coroutine.*but got a number/);
      expect(() => createTask(null as never)).toThrow(/but got null/);
      expect(() => createTask([] as never)).toThrow(/but got an array/);
      expect(() => createTask({} as never)).toThrow(/but got an object \(Object\)/);
      expect(() => createTask("x" as never)).toThrow(/but got a string/);
      expect(() => createTask(undefined as never)).toThrow(/but got undefined/);
      expect(() => createTask((function* () {})(), 5 as never)).toThrow(/opts must be an object/);
    });
  });

  test("the TypeError names an object's class, and describes values without a prototype too", async () => {
    class Job {}
    const bare = Object.create(null) as object;
    const bareFunction = Object.setPrototypeOf(() => 1, null) as () => number;
    await runVirtual(function* () {
      expect(() => createTask(new Job() as never)).toThrow(/but got an object \(Job\)$/);
      expect(() => createTask(bare as never)).toThrow(/but got an object \(Object\)$/);
      expect(() => createTask(bareFunction as never)).toThrow(/but got a function\. Call a function\* to get a coroutine$/);
    });
  });

  test("a function with a then method is a thenable: the TypeError says to adopt it as a Promise", async () => {
    const callableThenable = Object.assign(() => 1, { then: (resolve: (v: number) => void) => resolve(1) });
    await runVirtual(function* () {
      expect(() => createTask(callableThenable as never)).toThrow(/but got a Promise\. Adopt the Promise with ensureFuture\(promise\)/);
    });
  });

  test("createTask outside a running loop throws", () => {
    expect(() => createTask((function* () {})())).toThrow("no running event loop");
  });

  test("in debug mode a task a factory makes has its creation stack, where the factory made it", async () => {
    const loop = new EventLoop({ poller: new VirtualPoller(), debug: true });
    loop.setTaskFactory(function makeTask(l, coro, opts) {
      return new Task(coro, l, opts);
    });
    const task = loop.createTask((function* () {})());
    expect(task.creationStack()).toMatch(/makeTask .*task\.test\.ts/);
    await loop.runUntilComplete(task);
    loop.close();
  });

  test("a task factory makes the loop's tasks", async () => {
    const { loop } = virtualLoop();
    const made: string[] = [];
    expect(() => loop.setTaskFactory(3 as never)).toThrow(TypeError);
    loop.setTaskFactory((l, coro, opts) => {
      made.push(opts?.name ?? "?");
      return new Task(coro, l, opts);
    });
    expect(loop.getTaskFactory()).not.toBe(null);
    const t = loop.createTask((function* () {})(), { name: "f" });
    await loop.runUntilComplete(t);
    loop.setTaskFactory(null);
    loop.close();
    expect(made).toEqual(["f"]);
  });

  test("in debug mode a task keeps where it was created", async () => {
    const { loop } = virtualLoop();
    loop.setDebug(true);
    const t = loop.createTask((function* () {})());
    expect(t._sourceStack).toContain("task.test.ts");
    expect(t._describe()).toMatch(/created at .*task\.test\.ts/);
    await loop.runUntilComplete(t);
    loop.close();
  });
});

describe("cancellation", () => {
  test("cancel throws CancelledError at the suspension point; a finally may yield* for cleanup; then it propagates", async () => {
    const log = await runVirtual(function* () {
      const log: string[] = [];
      const t = createTask(
        (function* () {
          try {
            yield* sleep(1000);
            log.push("not reached");
          } finally {
            log.push("cleanup start");
            yield* sleep(10);
            log.push("cleanup end");
          }
          log.push("not reached either");
        })(),
      );
      yield* sleep(1);
      expect(t.cancel("bye")).toBe(true);
      const e = yield* catching(t);
      log.push(`${(e as Error).name}:${(e as Error).message}`);
      log.push(`cancelled=${t.cancelled()}`);
      return log;
    });
    expect(log).toEqual(["cleanup start", "cleanup end", "CancelledError:bye", "cancelled=true"]);
  });

  test("cleanup that yield*s works through 5 levels of yield* delegation, innermost first", async () => {
    const log = await runVirtual(function* () {
      const log: string[] = [];
      function* level(n: number): Coroutine<void> {
        try {
          if (n === 0) yield* sleep(1000);
          else yield* level(n - 1);
          log.push(`after ${n}`);
        } finally {
          yield* sleep(1);
          log.push(`cleanup ${n}`);
          yield;
        }
      }
      const t = createTask(level(4));
      yield* sleep(5);
      t.cancel();
      const e = yield* catching(t);
      log.push((e as Error).name);
      return log;
    });
    expect(log).toEqual(["cleanup 0", "cleanup 1", "cleanup 2", "cleanup 3", "cleanup 4", "CancelledError"]);
  });

  test("a coroutine may catch CancelledError and go on; uncancel() withdraws the request", async () => {
    const out = await runVirtual(function* () {
      const t = createTask(
        (function* () {
          try {
            yield* sleep(1000);
          } catch (e) {
            if (!(e instanceof CancelledError)) throw e;
            const me = currentTask()!;
            const before = me.cancelling();
            const after = me.uncancel();
            yield* sleep(1);
            return `survived ${before}->${after}`;
          }
          return "not cancelled";
        })(),
      );
      yield;
      t.cancel();
      const r = yield* t;
      return [r, t.cancelled(), t.cancelling()];
    });
    expect(out).toEqual(["survived 1->0", false, 0]);
  });

  test("cancelling() counts requests; uncancel() lowers it and never below 0", async () => {
    const out = await runVirtual(function* () {
      const t = createTask(forever());
      yield;
      const counts = [t.cancelling()];
      t.cancel();
      t.cancel();
      t.cancel();
      counts.push(t.cancelling(), t.uncancel(), t.uncancel(), t.uncancel(), t.uncancel());
      // A request withdrawn before it was delivered: asyncio 3.13 does not deliver it.
      yield* catching(t);
      counts.push(t.cancelling());
      return counts;
    });
    expect(out).toEqual([0, 3, 2, 1, 0, 0, 0]);
  });

  test("a cancel withdrawn with uncancel() before the task's next step is not delivered", async () => {
    const out = await runVirtual(function* () {
      const t = createTask(
        (function* () {
          yield; // ready, not waiting on a future
          yield;
          return "finished";
        })(),
      );
      yield;
      t.cancel();
      t.uncancel();
      return yield* t;
    });
    expect(out).toBe("finished");
  });

  test("cancel() of a done task returns false", async () => {
    await runVirtual(function* () {
      const t = createTask((function* () {})());
      yield* t;
      expect(t.cancel()).toBe(false);
      expect(t.cancelling()).toBe(0);
    });
  });

  test("a task cancelled before its first step never runs its body", async () => {
    const out = await runVirtual(function* () {
      let ran = false;
      const t = createTask(
        (function* () {
          ran = true;
        })(),
      );
      t.cancel("early");
      const e = yield* catching(t);
      return [ran, t.cancelled(), (e as Error).message];
    });
    expect(out).toEqual([false, true, "early"]);
  });

  test("a cancelled task's waiter sees the very CancelledError the coroutine ended with", async () => {
    await runVirtual(function* () {
      const mine = new CancelledError("mine");
      const t = createTask(
        (function* () {
          yield;
          throw mine;
        })(),
      );
      const e = yield* catching(t);
      expect(e).toBe(mine);
      expect(t.cancelled()).toBe(true);
      // Later readers get an equivalent error.
      expect(() => t.result()).toThrow(CancelledError);
      expect(() => t.result()).toThrow("mine");
    });
  });

  test("cancelling a task cancels the future it waits on", async () => {
    await runVirtual(function* () {
      const f = new Future<number>();
      const t = createTask(
        (function* () {
          return yield* f;
        })(),
      );
      yield;
      t.cancel("why");
      expect(f.cancelled()).toBe(true);
      const e = yield* catching(t);
      expect((e as Error).message).toBe("why");
    });
  });

  test("two cancels of a task waiting on a future: the first message wins (as asyncio)", async () => {
    const msg = await runVirtual(function* () {
      const t = createTask(forever());
      yield;
      t.cancel("first");
      t.cancel("second");
      expect(t.cancelling()).toBe(2);
      const e = yield* catching(t);
      return (e as Error).message;
    });
    expect(msg).toBe("first");
  });

  test("two cancels of a ready task (not waiting on a future): the last message wins (as asyncio)", async () => {
    const msg = await runVirtual(function* () {
      const t = createTask(
        (function* () {
          for (;;) yield;
        })(),
      );
      yield;
      t.cancel("first");
      t.cancel("second");
      const e = yield* catching(t);
      return (e as Error).message;
    });
    expect(msg).toBe("second");
  });

  test("a task woken by its future and cancelled before its step gets CancelledError, not the value", async () => {
    const out = await runVirtual(function* () {
      const f = new Future<number>();
      const log: string[] = [];
      const t = createTask(
        (function* () {
          try {
            log.push(`got ${yield* f}`);
          } catch (e) {
            log.push(`caught ${(e as Error).name}`);
            throw e;
          }
        })(),
      );
      yield;
      f.setResult(1); // wakes t: its step is queued
      t.cancel();
      yield* catching(t);
      return [log, t.cancelled()];
    });
    expect(out).toEqual([["caught CancelledError"], true]);
  });

  test("cancelling a task that waits on a task which swallows the cancellation: the outer goes on with the inner's result", async () => {
    const out = await runVirtual(function* () {
      const inner = createTask(
        (function* () {
          try {
            yield* sleep(100);
          } catch (e) {
            if (!(e instanceof CancelledError)) throw e;
          }
          return "inner result";
        })(),
      );
      const outer = createTask(
        (function* () {
          return yield* inner;
        })(),
      );
      yield;
      outer.cancel();
      const r = yield* outer;
      return [r, outer.cancelled(), inner.cancelled(), outer.cancelling(), inner.cancelling()];
    });
    expect(out).toEqual(["inner result", false, false, 1, 1]);
  });

  test("a repeated cancel reaches the inner task again after it swallowed the first", async () => {
    const out = await runVirtual(function* () {
      const log: string[] = [];
      const inner = createTask(
        (function* () {
          try {
            yield* sleep(100);
          } catch { // eslint-disable-line @loop/no-swallowed-cancel -- a task that swallows its cancellation is what this test is about
            log.push("swallowed");
          }
          yield* sleep(100);
          return "x";
        })(),
      );
      const outer = createTask(
        (function* () {
          return yield* inner;
        })(),
      );
      yield;
      outer.cancel();
      yield* sleep(10);
      outer.cancel();
      yield* catching(outer);
      return [log, inner.cancelled(), outer.cancelled()];
    });
    expect(out).toEqual([["swallowed"], true, true]);
  });

  test("a cancel after the last suspension: the task ends cancelled", async () => {
    const out = await runVirtual(function* () {
      const t = createTask(
        (function* () {
          yield;
          currentTask()!.cancel("self");
          return 5;
        })(),
      );
      const e = yield* catching(t);
      return [t.cancelled(), (e as Error).message];
    });
    expect(out).toEqual([true, "self"]);
  });

  test("a task that cancels itself and then waits gets the CancelledError at that wait", async () => {
    const out = await runVirtual(function* () {
      const f = new Future<number>();
      const t = createTask(
        (function* () {
          currentTask()!.cancel("self");
          try {
            yield* f;
          } catch (e) { // eslint-disable-line @loop/no-swallowed-cancel -- the test returns the cancellation's message to check it
            return `caught ${(e as Error).message}`;
          }
          return "no";
        })(),
      );
      const r = yield* t;
      return [r, f.cancelled()];
    });
    expect(out).toEqual(["caught self", true]);
  });
});

describe("cancellation requested while the task runs", () => {
  test("a task that cancels itself, then catches the CancelledError at its next wait and returns, finishes with its value", async () => {
    const out = await runVirtual(function* () {
      const task = createTask(
        (function* () {
          const gate = getRunningLoop().createFuture<string>();
          (currentTask() as Task<unknown>).cancel("self");
          try {
            yield* gate; // the pending cancel() is handed to gate: the task wakes with CancelledError
            return "not reached";
          } catch (error) { // eslint-disable-line @loop/no-swallowed-cancel -- a task that catches its own cancellation and returns is what this test is about
            return `caught ${(error as Error).message}`;
          }
        })(),
      );
      yield* sleep(1);
      return [task.cancelled(), task.result(), task.cancelling()];
    });
    expect(out).toEqual([false, "caught self", 1]);
  });

  test("a coroutine that ends with a CancelledError of its own without a message keeps the cancel() message for later waiters", async () => {
    const out = await runVirtual(function* () {
      const task = createTask(
        (function* () {
          (currentTask() as Task<unknown>).cancel("self");
          try {
            yield* getRunningLoop().createFuture<void>();
          } catch {
            throw new CancelledError(); // a cancellation re-thrown as a fresh error, without the message
          }
        })(),
      );
      yield* sleep(1);
      const first = yield* catching(task); // the very error the coroutine threw
      const second = yield* catching(task); // made afresh, from the cancel() message
      return [(first as Error).message, second instanceof CancelledError, (second as Error).message];
    });
    expect(out).toEqual(["", true, "self"]);
  });
});

describe("a cancellation handed to the awaited task", () => {
  test("a task that cancels itself and then waits on a task that swallows the cancellation goes on with that task's result", async () => {
    const out = await runVirtual(function* () {
      const inner = createTask(
        (function* () {
          try {
            yield* forever();
          } catch { // eslint-disable-line @loop/no-swallowed-cancel -- the awaited task ignoring the cancellation is what this test is about
            // ignore it
          }
          return "inner kept going";
        })(),
      );
      const outer = createTask(
        (function* () {
          (currentTask() as Task<unknown>).cancel("self");
          // The pending cancel() is handed to inner (asyncio's __step: _must_cancel is then
          // cleared); inner swallows it, so outer gets inner's result, not a CancelledError.
          const got = yield* inner;
          yield;
          return got;
        })(),
      );
      let outcome: unknown;
      try {
        outcome = yield* outer;
      } catch (error) {
        outcome = error;
      }
      return [outcome, outer.cancelling()];
    });
    expect(out).toEqual(["inner kept going", 1]);
  });
});

describe("bad yields", () => {
  function* yieldAndCatch(value: unknown): Coroutine<string> {
    try {
      yield value as undefined;
    } catch (e) { // eslint-disable-line @loop/no-swallowed-cancel -- the test returns the bad-yield error's name and message to check them
      return `${(e as Error).name}: ${(e as Error).message}`;
    }
    return "no error";
  }

  test("yielding a Promise throws a TypeError at that point that says to use ensureFuture", async () => {
    const msg = await runVirtual(function* () {
      return yield* createTask(yieldAndCatch(Promise.resolve(1)), { name: "p" });
    });
    expect(msg).toBe('TypeError: Task "p" yielded a Promise. Coroutines wait on Futures: adopt the Promise with `yield* ensureFuture(promise)`');
  });

  test("yielding a generator object says to delegate with yield*", async () => {
    const msg = await runVirtual(function* () {
      return yield* createTask(yieldAndCatch((function* () {})()), { name: "g" });
    });
    expect(msg).toBe('TypeError: Task "g" yielded a generator object. Delegate to it with `yield* coro()` instead of `yield coro()`');
  });

  test("yielding a number says how to wait", async () => {
    const msg = await runVirtual(function* () {
      return yield* createTask(yieldAndCatch(42), { name: "n" });
    });
    expect(msg).toMatch(/^TypeError: Task "n" yielded a number\. A coroutine waits with `yield\* future`/);
  });

  test("yielding null, a plain object, an object whose next is not a method or a function with a next method says how to wait, not to delegate", async () => {
    const msgs = await runVirtual(function* () {
      return [
        yield* createTask(yieldAndCatch(null), { name: "null" }),
        yield* createTask(yieldAndCatch({}), { name: "plain" }),
        yield* createTask(yieldAndCatch({ next: 1 }), { name: "next" }),
        yield* createTask(yieldAndCatch(Object.assign(() => 0, { next: () => 0 })), { name: "callable" }),
      ];
    });
    const how = ". A coroutine waits with `yield* future` (a Future, a Task or a coroutine) or gives the loop one turn with a bare `yield`";
    expect(msgs).toEqual([
      `TypeError: Task "null" yielded null${how}`,
      `TypeError: Task "plain" yielded an object (Object)${how}`,
      `TypeError: Task "next" yielded an object (Object)${how}`,
      `TypeError: Task "callable" yielded a function${how}`,
    ]);
  });

  test("an uncaught bad yield fails the task with the TypeError", async () => {
    const e = await runVirtual(function* () {
      return yield* catching(
        createTask(
          (function* () {
            yield 1 as never;
          })(),
        ),
      );
    });
    expect(e).toBeInstanceOf(TypeError);
  });

  test("a task cancelled right after a bad yield gets only the CancelledError (as asyncio)", async () => {
    const log = await runVirtual(function* () {
      const log: string[] = [];
      const t = createTask(
        (function* () {
          for (let i = 0; i < 3; i++) {
            try {
              if (i === 0) yield Promise.resolve() as never;
              else yield;
            } catch (e) {
              log.push((e as Error).name);
            }
          }
        })(),
      );
      yield; // t's first step makes the bad yield
      t.cancel();
      yield* t;
      return log;
    });
    expect(log).toEqual(["CancelledError"]);
  });

  test("waiting on itself throws an Error into the coroutine", async () => {
    const msg = await runVirtual(function* () {
      const self: { task: Task<string> | null } = { task: null };
      const t = createTask(
        (function* (): Coroutine<string> {
          try {
            yield* self.task!;
          } catch (e) {
            return (e as Error).message;
          }
          return "no";
        })(),
        { name: "self" },
      );
      self.task = t;
      return yield* t;
    });
    expect(msg).toBe('Task "self" cannot wait on itself');
  });

  test("waiting on a future of another loop throws an Error into the coroutine", async () => {
    const other = new EventLoop({ poller: new VirtualPoller() });
    const msg = await runVirtual(function* () {
      try {
        yield* other.createFuture<number>();
      } catch (e) {
        return (e as Error).message;
      }
      return "no";
    });
    expect(msg).toMatch(/waited on a Future attached to a different loop/);
    other.close();
  });
});

/** Full collections, each in its own macrotask (WeakRef targets are kept until the job ends), until `done` or `max`. */
async function gcUntil(done: () => boolean, max = 50): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return;
  for (let i = 0; i < max && !done(); i++) {
    gc();
    await new Promise<void>((r) => setImmediate(r));
  }
}

const hasGc = typeof (globalThis as { gc?: unknown }).gc === "function";

// A full collection of a big heap takes seconds on a loaded machine (Stryker's runner holds every
// test module): these tests wait for collections, not for time, so they get room.
describe("tasks and garbage collection", { timeout: 60_000 }, () => {
  /**
   * The dropped task waits on a future that only it references (and a WeakRef): if the loop
   * held tasks weakly, as CPython does, the task and its future would be one unreachable
   * cycle, collected mid-flight, and the wake-up below would find nothing to wake.
   */
  async function droppedTaskFinishes(simulateWeakTaskSet: boolean): Promise<string[]> {
    const log: string[] = [];
    const ref: { future: WeakRef<Future<void>> | null } = { future: null };
    const { loop } = virtualLoop();
    await loop.runUntilComplete(
      (function* () {
        (() => {
          const t = createTask(
            (function* () {
              const f = new Future<void>();
              ref.future = new WeakRef(f);
              yield* f;
              log.push("finished");
            })(),
          );
          if (simulateWeakTaskSet) loop._tasks.delete(t as Task<unknown>);
        })();
        yield* turns(2);
        const gate = loop.createFuture<void>();
        loop.refExternal();
        // eslint-disable-next-line @loop/no-promise-in-coroutine -- the garbage-collection poll runs outside the loop on purpose and wakes it when done
        void gcUntil(() => false, 5).then(() => {
          loop.unrefExternal();
          loop.callSoonThreadsafe(() => {
            ref.future?.deref()?.setResult();
            gate.setResult();
          });
        });
        yield* gate;
        yield* turns(2);
      })(),
    );
    loop.close();
    return log;
  }

  test.runIf(hasGc)("the loop holds a pending task strongly: dropped by the caller, it still completes", async () => {
    expect(await droppedTaskFinishes(false)).toEqual(["finished"]);
  });

  test.runIf(hasGc)("(control) without the loop's strong reference, such a task would vanish", async () => {
    expect(await droppedTaskFinishes(true)).toEqual([]);
  });

  test.runIf(hasGc)("an error nobody retrieved is reported as 'Task exception was never retrieved' after GC", async () => {
    const { loop } = virtualLoop();
    const reports: ErrorContext[] = [];
    loop.setExceptionHandler((_l, ctx) => reports.push(ctx));
    await loop.runUntilComplete(
      (function* () {
        (() => {
          createTask(
            (function* () {
              yield;
              throw new Error("lost");
            })(),
            { name: "lossy" },
          );
        })();
        yield* turns(3);
      })(),
    );
    await gcUntil(() => reports.length > 0);
    loop.close();
    expect(reports.map((r) => r.message)).toEqual(['Task exception was never retrieved (task "lossy")']);
    expect((reports[0]?.exception as Error).message).toBe("lost");
  });

  test("the default handler reports the task by name", () => {
    const { loop } = virtualLoop();
    const lines: string[] = [];
    const saved = console.error;
    console.error = (line: string) => void lines.push(line);
    try {
      const t = new Task((function* () {})(), loop, { name: "reported" });
      loop.callExceptionHandler({ message: "m", task: t, exception: new Error("e") });
      const f = loop.createFuture();
      loop.callExceptionHandler({ message: "m2", future: f });
    } finally {
      console.error = saved;
    }
    loop.close();
    expect(lines[0]).toMatch(/^\[@loop\] m \(task "reported"\)\nError: e/);
    expect(lines[1]).toBe("[@loop] m2 (future <Future pending>)");
  });
});

describe("another task's context", () => {
  test("getContext() of another task with no context yet gives it one, and leaves the caller's own context apart", async () => {
    const v = new ContextVar<number>("v", { default: 0 });
    const out = await runVirtual(function* () {
      const other = createTask(
        (function* () {
          yield;
          return v.get();
        })(),
      );
      const caller = createTask(
        (function* () {
          const given = other.getContext();
          v.set(1);
          return [given === other.getContext(), v.get()];
        })(),
      );
      const fromCaller = yield* caller;
      return [fromCaller, yield* other, caller.getContext() === other.getContext()];
    });
    expect(out).toEqual([[true, 1], 0, false]);
  });

  test("getContext() of the running task asked inside another context's run leaves that run's context current", async () => {
    const v = new ContextVar<number>("v", { default: 0 });
    const out = await runVirtual(function* () {
      const inRun = copyContext();
      inRun.run(() => v.set(5));
      return yield* createTask(
        (function* () {
          return inRun.run(() => {
            (currentTask() as Task<unknown>).getContext();
            return v.get();
          });
        })(),
      );
    });
    expect(out).toBe(5);
  });
});

describe("task states", () => {
  test("result()/exception() of a pending task throw InvalidStateError", async () => {
    await runVirtual(function* () {
      const t = createTask((function* () {})());
      expect(() => t.result()).toThrow(InvalidStateError);
      expect(() => t.exception()).toThrow(InvalidStateError);
      yield* t;
      expect(t.exception()).toBe(null);
    });
  });

  test("a task's error is its exception()", async () => {
    await runVirtual(function* () {
      const boom = new Error("boom");
      const t = createTask(
        (function* () {
          throw boom;
        })(),
      );
      yield* turns(2);
      expect(t.exception()).toBe(boom);
    });
  });
});

describe("task.state()", () => {
  test("ready, running, waiting, woken, done, in that order for a task that waits once", async () => {
    const seen = await runVirtual(function* () {
      const gate = new Future<void>();
      const log: string[] = [];
      const holder: { task?: Task<void> } = {};
      const task = createTask(
        (function* () {
          log.push(holder.task!.state());
          yield* gate;
          log.push(holder.task!.state());
        })(),
      );
      holder.task = task;
      log.push(task.state()); // created: its first step is queued
      yield;
      log.push(`${task.state()} on ${task.waitingOn() === gate}`);
      gate.setResult();
      log.push(`${task.state()} on ${String(task.waitingOn())}`); // its step is queued; it waits on nothing
      yield* task;
      log.push(task.state());
      return log;
    });
    expect(seen).toEqual(["ready", "running", "waiting on true", "woken on null", "running", "done"]);
  });

  test("a bare yield leaves the task ready, not woken", async () => {
    const state = await runVirtual(function* () {
      const task = createTask(
        (function* () {
          for (;;) yield;
        })(),
      );
      yield;
      yield;
      const s = task.state();
      task.cancel();
      return s;
    });
    expect(state).toBe("ready");
  });

  test("a task woken by the cancellation of what it waits on is woken, and ends cancelled", async () => {
    const out = await runVirtual(function* () {
      const gate = new Future<void>();
      const task = createTask(
        (function* () {
          yield* gate;
        })(),
      );
      yield;
      task.cancel();
      const state = task.state();
      yield* catching(task);
      return [state, gate.cancelled(), task.cancelled(), task.state()];
    });
    expect(out).toEqual(["woken", true, true, "done"]);
  });
});

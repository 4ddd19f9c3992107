import { describe, expect, test } from "vitest";
import { Context, ContextVar, Token, copyContext, createTask, currentTask, getRunningLoop, type Coroutine, type Task } from "../src/index.js";
import { catching, runVirtual, sleep, virtualLoop } from "./helpers.js";

describe("ContextVar", () => {
  test("get: the value, else the fallback, else the default, else an Error", () => {
    const withDefault = new ContextVar<string>("d", { default: "dflt" });
    const bare = new ContextVar<number>("bare");
    expect(withDefault.get()).toBe("dflt");
    expect(withDefault.get("fb")).toBe("fb");
    expect(bare.get(7)).toBe(7);
    expect(() => bare.get()).toThrow(Error);
    expect(() => bare.get()).toThrow(/ContextVar 'bare' has no value/);
    const undef = new ContextVar<undefined>("u", { default: undefined });
    expect(undef.get()).toBe(undefined);
    expect(String(bare)).toBe('<ContextVar name="bare">');
    expect(() => new ContextVar(5 as never)).toThrow(TypeError);
  });

  test("set returns a token; reset restores the previous value or the absence of one", () => {
    copyContext().run(() => {
      const v = new ContextVar<string>("v");
      const t1 = v.set("one");
      expect(t1).toBeInstanceOf(Token);
      expect(t1.oldValue).toBe(Token.MISSING);
      expect(t1.variable).toBe(v);
      const t2 = v.set("two");
      expect(t2.oldValue).toBe("one");
      expect(v.get()).toBe("two");
      v.reset(t2);
      expect(v.get()).toBe("one");
      v.reset(t1);
      expect(() => v.get()).toThrow(Error);
    });
  });

  test("reset checks its token: used twice, from another variable, from another context", () => {
    copyContext().run(() => {
      const v = new ContextVar<number>("v");
      const w = new ContextVar<number>("w");
      const t = v.set(1);
      expect(() => w.reset(t as never)).toThrow(RangeError);
      expect(() => v.reset({} as never)).toThrow(TypeError);
      v.reset(t);
      expect(() => v.reset(t)).toThrow(/already been used/);
      const other = v.set(2);
      copyContext().run(() => {
        expect(() => v.reset(other)).toThrow(/different Context/);
      });
    });
  });

  test("Context.run makes a context current; its sets stay in it", () => {
    const v = new ContextVar<string>("v", { default: "outside" });
    const ctx = new Context();
    const r = ctx.run((a: number, b: number) => {
      v.set("inside");
      return a + b;
    }, 1, 2);
    expect(r).toBe(3);
    expect(v.get()).toBe("outside");
    expect(ctx.get(v)).toBe("inside");
    expect(ctx.has(v)).toBe(true);
    expect(ctx.size).toBe(1);
    expect([...ctx.keys()]).toEqual([v]);
    expect([...ctx.values()]).toEqual(["inside"]);
    expect([...ctx.entries()]).toEqual([[v, "inside"]]);
    expect([...ctx]).toEqual([[v, "inside"]]);
    expect(ctx.run(() => v.get())).toBe("inside");
    expect(() => ctx.run(5 as never)).toThrow(TypeError);
  });

  test("copies are independent both ways", () => {
    const v = new ContextVar<number>("v", { default: 0 });
    const a = new Context();
    a.run(() => v.set(1));
    const b = a.copy();
    b.run(() => v.set(2));
    a.run(() => v.set(3));
    expect(a.get(v)).toBe(3);
    expect(b.get(v)).toBe(2);
    const c = a.run(() => copyContext());
    expect(c.get(v)).toBe(3);
  });
});

describe("contexts and tasks", () => {
  test("a child task sees the parent's values at its creation, not later sets; its own sets do not leak", async () => {
    const v = new ContextVar<string>("v", { default: "none" });
    const out = await runVirtual(function* () {
      const log: string[] = [];
      v.set("parent-1");
      const child = createTask(
        (function* () {
          log.push(`child sees ${v.get()}`);
          yield* sleep(10);
          log.push(`child still sees ${v.get()}`);
          v.set("child");
          yield* sleep(10);
          log.push(`child has ${v.get()}`);
        })(),
      );
      v.set("parent-2");
      yield* sleep(15);
      log.push(`parent has ${v.get()}`);
      yield* child;
      log.push(`parent still has ${v.get()}`);
      return log;
    });
    expect(out).toEqual([
      "child sees parent-1",
      "child still sees parent-1",
      "parent has parent-2",
      "child has child",
      "parent still has parent-2",
    ]);
  });

  test("siblings do not see each other's values", async () => {
    const v = new ContextVar<string>("v", { default: "none" });
    const out = await runVirtual(function* () {
      const body = (name: string): Coroutine<string> =>
        (function* () {
          v.set(name);
          yield* sleep(name === "a" ? 10 : 5);
          return v.get();
        })();
      const a = createTask(body("a"));
      const b = createTask(body("b"));
      return [yield* a, yield* b, v.get()];
    });
    expect(out).toEqual(["a", "b", "none"]);
  });

  test("a task can run in a given context; getContext returns it", async () => {
    const v = new ContextVar<string>("v", { default: "none" });
    const ctx = new Context();
    ctx.run(() => v.set("given"));
    const out = await runVirtual(function* () {
      const t = createTask(
        (function* () {
          v.set("changed");
          return v.get();
        })(),
        { context: ctx },
      );
      const r = yield* t;
      return [r, t.getContext() === ctx, ctx.get(v)];
    });
    expect(out).toEqual(["changed", true, "changed"]);
  });

  test("a task created with an empty context still gets a context of its own", async () => {
    const out = await runVirtual(function* () {
      const t = createTask((function* () {})());
      const ctx = t.getContext();
      yield* t;
      return [ctx instanceof Context, t.getContext() === ctx];
    });
    expect(out).toEqual([true, true]);
  });

  test("a callback runs in a copy of the context current when it was scheduled: its sets do not leak back", async () => {
    const v = new ContextVar<string>("v", { default: "none" });
    const out = await runVirtual(function* () {
      const loop = getRunningLoop();
      v.set("task");
      const seen: string[] = [];
      loop.callSoon(() => {
        seen.push(v.get());
        v.set("callback");
      });
      loop.callLater(1, () => {
        seen.push(v.get());
        v.set("timer");
      });
      yield* sleep(5);
      return [seen, v.get()];
    });
    expect(out).toEqual([["task", "task"], "task"]);
  });

  test("a callback scheduled from a Context.run sees that context", async () => {
    const { loop } = virtualLoop();
    const v = new ContextVar<string>("v", { default: "none" });
    const ctx = new Context();
    let seen = "";
    ctx.run(() => {
      v.set("ctx");
      loop.callSoon(() => {
        seen = v.get();
        v.set("leak?");
      });
    });
    loop.callSoon(() => loop.stop());
    await loop.runForever();
    loop.close();
    expect(seen).toBe("ctx");
    expect(ctx.get(v)).toBe("ctx");
  });
});

describe("contexts and done callbacks", () => {
  test("a done callback runs in a copy of the context current when it was added, not when the future completed", async () => {
    const v = new ContextVar<string>("v", { default: "none" });
    const out = await runVirtual(function* () {
      const loop = getRunningLoop();
      const f = loop.createFuture<void>();
      const seen: string[] = [];
      const adder = createTask(
        (function* () {
          v.set("adder");
          f.addDoneCallback(() => {
            seen.push(v.get());
            v.set("callback");
          });
          yield* sleep(10);
          return v.get();
        })(),
      );
      const completer = createTask(
        (function* () {
          v.set("completer");
          yield* sleep(5);
          f.setResult();
          yield* sleep(1);
          return v.get();
        })(),
      );
      return [yield* adder, yield* completer, seen];
    });
    expect(out).toEqual(["adder", "completer", ["adder"]]);
  });

  test("removeDoneCallback finds a callback added with a context", async () => {
    const v = new ContextVar<string>("v", { default: "none" });
    const out = await runVirtual(function* () {
      const f = getRunningLoop().createFuture<void>();
      const log: string[] = [];
      const cb = (): number => log.push("ran");
      v.set("x");
      f.addDoneCallback(cb);
      f.addDoneCallback(cb);
      const removed = f.removeDoneCallback(cb);
      f.setResult();
      yield* sleep(1);
      return [removed, log];
    });
    expect(out).toEqual([2, []]);
  });

  test("removeDoneCallback of another callback leaves the ones added with a context, alone or among others", async () => {
    const v = new ContextVar<string>("v", { default: "none" });
    const out = await runVirtual(function* () {
      const log: string[] = [];
      const a = (): number => log.push(`a ${v.get()}`);
      const b = (): number => log.push(`b ${v.get()}`);
      v.set("x");
      const alone = getRunningLoop().createFuture<void>();
      alone.addDoneCallback(a);
      const notThere = alone.removeDoneCallback(b);
      const among = getRunningLoop().createFuture<void>();
      among.addDoneCallback(a);
      among.addDoneCallback(b);
      const one = among.removeDoneCallback(b);
      alone.setResult();
      among.setResult();
      yield* sleep(1);
      return [notThere, one, log];
    });
    expect(out).toEqual([0, 1, ["a x", "a x"]]);
  });
});

describe("entering a context", () => {
  test("Context.run refuses a context that is already entered, as Python's does, and leaves it usable", () => {
    const v = new ContextVar<string>("v", { default: "none" });
    const ctx = copyContext();
    const other = copyContext();
    expect(() => ctx.run(() => ctx.run(() => 1))).toThrow(
      /already entered.*context\.copy\(\)\.run\(fn\)/,
    );
    // Also through another context entered in between.
    expect(() => ctx.run(() => other.run(() => ctx.run(() => 1)))).toThrow(/already entered/);
    // After the refusal the context is exited properly and can be entered again.
    ctx.run(() => v.set("inside"));
    expect(ctx.get(v)).toBe("inside");
    expect(v.get()).toBe("none");
    // A copy of an entered context can be entered.
    expect(ctx.run(() => ctx.copy().run(() => v.get()))).toBe("inside");
  });

  test("a task's own context cannot be entered again from inside the task", async () => {
    const out = await runVirtual(function* () {
      const task = createTask(
        (function* (): Coroutine<string> {
          yield* sleep(0);
          try {
            (currentTask() as Task<unknown>).getContext().run(() => 0);
            return "entered";
          } catch (error) {
            return (error as Error).message;
          }
        })(),
      );
      return yield* task;
    });
    expect(out).toMatch(/already entered/);
  });
});

describe("a callback's context", () => {
  test("a ContextVar set in a callback run in the empty context holds for that callback only", async () => {
    const v = new ContextVar<number>("v", { default: 0 });
    const { loop } = virtualLoop();
    const seen: number[] = [];
    const errors: unknown[] = [];
    loop.setExceptionHandler((_l, ctx) => errors.push(ctx.exception));
    loop.callSoon(() => {
      v.set(1);
      seen.push(v.get() ?? -1);
    });
    loop.callSoon(() => seen.push(v.get() ?? -1));
    loop.callSoon(() => loop.stop());
    await loop.runForever();
    loop.close();
    expect([seen, errors]).toEqual([[1, 0], []]);
  });
});

describe("a task's context object", () => {
  test("getContext() inside a task that has set nothing yet is the context its later sets go to", async () => {
    const v = new ContextVar<number>("v", { default: 0 });
    const out = await runVirtual(function* () {
      const task = createTask(
        (function* (): Coroutine<number[]> {
          const early = (currentTask() as Task<unknown>).getContext();
          v.set(1);
          const sameStep = early.get(v);
          yield* sleep(0);
          v.set(2);
          return [sameStep ?? -1, early.get(v) ?? -1, (currentTask() as Task<unknown>).getContext() === early ? 1 : 0];
        })(),
      );
      return yield* task;
    });
    expect(out).toEqual([1, 2, 1]);
  });

  test("getContext() right after the task's first set sees that value", async () => {
    const v = new ContextVar<number>("v", { default: 0 });
    const out = await runVirtual(function* () {
      const task = createTask(
        (function* (): Coroutine<number> {
          v.set(7);
          return (currentTask() as Task<unknown>).getContext().get(v) ?? -1;
        })(),
      );
      return yield* task;
    });
    expect(out).toBe(7);
  });

  test("getContext() of a context-less task called inside another context's run is kept after the step", async () => {
    const v = new ContextVar<number>("v", { default: 0 });
    const other = copyContext();
    const out = await runVirtual(function* () {
      const task = createTask(
        (function* (): Coroutine<boolean> {
          const seen = other.run(() => (currentTask() as Task<unknown>).getContext());
          seen._set(v as never, 5, false);
          yield* sleep(0);
          return (currentTask() as Task<unknown>).getContext() === seen && v.get() === 5;
        })(),
      );
      return yield* task;
    });
    expect(out).toBe(true);
  });

  test("a set at the step's top level after getContext() was asked inside another context's run goes to that task context", async () => {
    const v = new ContextVar<number>("v", { default: 0 });
    const other = copyContext();
    const out = await runVirtual(function* () {
      const task = createTask(
        (function* (): Coroutine<number[]> {
          const seen = other.run(() => (currentTask() as Task<unknown>).getContext());
          v.set(1);
          const sameStep = seen.get(v) ?? -1;
          yield* sleep(0);
          return [sameStep, (currentTask() as Task<unknown>).getContext() === seen ? 1 : 0, v.get() ?? -1];
        })(),
      );
      return yield* task;
    });
    expect(out).toEqual([1, 1, 1]);
  });

  test("getContext() of a task that ended by throwing is the context it ran its last step in", async () => {
    const v = new ContextVar<number>("v", { default: 0 });
    const other = copyContext();
    const out = await runVirtual(function* () {
      let seen!: Context;
      const task = createTask(
        (function* (): Coroutine<never> {
          seen = other.run(() => (currentTask() as Task<unknown>).getContext());
          v.set(1);
          throw new Error("done");
        })(),
      );
      yield* catching(task);
      return [task.getContext() === seen ? 1 : 0, task.getContext().get(v) ?? -1];
    });
    expect(out).toEqual([1, 1]);
  });
});

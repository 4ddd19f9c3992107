import { inspect } from "node:util";
import { describe, expect, expectTypeOf, test } from "vitest";
import {
  CancelledError,
  ExceptionGroup,
  TaskGroup,
  createTask,
  currentTask,
  describeWait,
  getRunningLoop,
  taskGroup,
  type Coroutine,
  type Task,
} from "../src/index.js";
import { catching, forever, runVirtual, sleep, virtualLoop } from "./helpers.js";

function* failAfter(ms: number, error: unknown): Coroutine<never> {
  yield* sleep(ms);
  throw error;
}

function* logged(log: string[], name: string, ms: number): Coroutine<string> {
  try {
    yield* sleep(ms);
    log.push(`${name} done`);
    return name;
  } catch (e) {
    log.push(`${name} ${(e as Error).name}`);
    throw e;
  }
}

describe("taskGroup", () => {
  test("waits for every child and returns the body's result", async () => {
    const out = await runVirtual(function* () {
      const log: string[] = [];
      let tasks: Task<string>[] = [];
      const r = yield* taskGroup(function* (tg) {
        tasks = [tg.createTask(logged(log, "a", 20)), tg.createTask(logged(log, "b", 10))];
        expect(tg.tasks().size).toBe(2);
        return "body";
      });
      log.push(`exit at ${getRunningLoop().time()}`);
      return [r, log, tasks.map((t) => t.result())];
    });
    expect(out).toEqual(["body", ["b done", "a done", "exit at 20"], ["a", "b"]]);
  });

  test("the first child error cancels the siblings and the body; errors come as an ExceptionGroup; the parent is not left cancelled", async () => {
    const out = await runVirtual(function* () {
      const log: string[] = [];
      const boom = new Error("boom");
      const e = yield* catching(
        taskGroup(function* (tg) {
          tg.createTask(failAfter(10, boom));
          tg.createTask(logged(log, "sibling", 100));
          try {
            yield* sleep(1000);
          } catch (err) {
            log.push(`body ${(err as Error).name}`);
            throw err;
          }
        }),
      );
      const me = currentTask()!;
      const cancelling = me.cancelling();
      yield* sleep(1); // not cancelled any more: this wait completes
      return [e instanceof ExceptionGroup, (e as ExceptionGroup).exceptions, log.sort(), cancelling, getRunningLoop().time()];
    });
    expect(out[0]).toBe(true);
    expect((out[1] as unknown[]).length).toBe(1);
    expect((out[1] as Error[])[0]?.message).toBe("boom");
    expect(out[2]).toEqual(["body CancelledError", "sibling CancelledError"]);
    expect(out[3]).toBe(0);
    expect(out[4]).toBe(11);
  });

  test("every failing child is collected, including one that fails while being cancelled", async () => {
    const out = await runVirtual(function* () {
      const e = yield* catching(
        taskGroup(function* (tg) {
          tg.createTask(failAfter(10, new Error("one")));
          tg.createTask(failAfter(10, new Error("two")));
          tg.createTask(
            (function* () {
              try {
                yield* sleep(100);
              } finally {
                // eslint-disable-next-line no-unsafe-finally
                throw new Error("three");
              }
            })(),
          );
        }),
      );
      return (e as ExceptionGroup).exceptions.map((x) => (x as Error).message);
    });
    expect(out).toEqual(["one", "two", "three"]);
  });

  test("an error thrown by the body cancels the children and is included in the group", async () => {
    const out = await runVirtual(function* () {
      const log: string[] = [];
      const bodyError = new TypeError("body");
      const e = yield* catching(
        taskGroup(function* (tg) {
          tg.createTask(logged(log, "child", 100));
          tg.createTask(
            (function* () {
              try {
                yield* sleep(100);
              } finally {
                // eslint-disable-next-line no-unsafe-finally
                throw new Error("child error");
              }
            })(),
          );
          yield* sleep(1);
          throw bodyError;
        }),
      );
      const ex = (e as ExceptionGroup).exceptions;
      return [log, ex.length, (ex[0] as Error).message, ex[1] === bodyError];
    });
    expect(out).toEqual([["child CancelledError"], 2, "child error", true]);
  });

  test("an outside cancellation cancels the children and is re-raised once every child has finished", async () => {
    const out = await runVirtual(function* () {
      const log: string[] = [];
      const parent = createTask(
        (function* () {
          yield* taskGroup(function* (tg) {
            tg.createTask(
              (function* () {
                try {
                  yield* sleep(100);
                } finally {
                  yield* sleep(20); // slow cleanup
                  log.push(`child cleaned up at ${getRunningLoop().time()}`);
                }
              })(),
            );
            yield* forever();
          });
        })(),
      );
      yield* sleep(10);
      parent.cancel("outside");
      const e = yield* catching(parent);
      log.push(`parent ${(e as Error).name} ${(e as Error).message} at ${getRunningLoop().time()}`);
      return [log, parent.cancelled(), parent.cancelling()];
    });
    expect(out).toEqual([["child cleaned up at 30", "parent CancelledError outside at 30"], true, 1]);
  });

  test("an outside cancellation while the group waits at its exit is re-raised too", async () => {
    const out = await runVirtual(function* () {
      const children: Task<unknown>[] = [];
      const parent = createTask(
        taskGroup(function* (tg) {
          children.push(tg.createTask(forever()));
          children.push(tg.createTask(forever()));
        }),
      );
      yield* sleep(10); // the body has ended; the group waits for its children
      parent.cancel();
      const e = yield* catching(parent);
      return [e instanceof CancelledError, children.every((c) => c.cancelled()), parent.cancelling()];
    });
    expect(out).toEqual([true, true, 1]);
  });

  test("outside cancellation plus a child error: ExceptionGroup, and the parent stays cancelling (3.13)", async () => {
    const out = await runVirtual(function* () {
      const log: string[] = [];
      const parent = createTask(
        (function* () {
          try {
            yield* taskGroup(function* (tg) {
              tg.createTask(
                (function* () {
                  try {
                    yield* sleep(100);
                  } finally {
                    // eslint-disable-next-line no-unsafe-finally
                    throw new Error("cleanup failed");
                  }
                })(),
              );
              yield* forever();
            });
          } catch (e) { // eslint-disable-line @loop/no-swallowed-cancel -- the test logs the cancellation the group raised, to check its kind and the cancelling() count
            log.push(`caught ${(e as Error).name}; cancelling=${currentTask()!.cancelling()}`);
          }
          // 3.12 would lose the outside cancellation here; 3.13 delivers it at the next wait.
          yield* sleep(1);
          log.push("not reached");
        })(),
      );
      yield* sleep(10);
      parent.cancel();
      const e = yield* catching(parent);
      return [log, e instanceof CancelledError, parent.cancelled()];
    });
    expect(out).toEqual([["caught ExceptionGroup; cancelling=1"], true, true]);
  });

  test("a child error then an outside cancellation: ExceptionGroup, parent still cancelling once", async () => {
    const out = await runVirtual(function* () {
      const log: string[] = [];
      const parent = createTask(
        (function* () {
          try {
            yield* taskGroup(function* (tg) {
              tg.createTask(failAfter(10, new Error("child")));
              tg.createTask(
                (function* () {
                  try {
                    yield* sleep(100);
                  } finally {
                    yield* sleep(20);
                  }
                })(),
              );
              yield* forever();
            });
          } catch (e) { // eslint-disable-line @loop/no-swallowed-cancel -- the test logs the cancellation the group raised, to check its kind and the cancelling() count
            log.push(`caught ${(e as Error).name}; cancelling=${currentTask()!.cancelling()}`);
          }
          yield* sleep(1);
          log.push("not reached");
        })(),
      );
      yield* sleep(15); // the child failed at 10; the group is waiting for the sibling's cleanup
      parent.cancel();
      yield* catching(parent);
      return [log, parent.cancelled()];
    });
    expect(out).toEqual([["caught ExceptionGroup; cancelling=1"], true]);
  });

  test("a child failing after the body returned, while the group waits at its exit: ExceptionGroup, siblings cancelled, parent not left cancelled", async () => {
    const out = await runVirtual(function* () {
      const log: string[] = [];
      const e = yield* catching(
        taskGroup(function* (tg) {
          tg.createTask(logged(log, "sibling", 100));
          tg.createTask(failAfter(10, new Error("late")));
          return "body done";
        }),
      );
      const cancelling = currentTask()!.cancelling();
      yield* sleep(1);
      return [log, (e as ExceptionGroup).exceptions.map((x) => (x as Error).message), cancelling];
    });
    expect(out).toEqual([["sibling CancelledError"], ["late"], 0]);
  });

  test("nested groups: an inner failure propagates as a nested ExceptionGroup and cancels the outer siblings", async () => {
    const out = await runVirtual(function* () {
      const log: string[] = [];
      const e = yield* catching(
        taskGroup(function* (outer) {
          outer.createTask(logged(log, "outer sibling", 100));
          outer.createTask(
            taskGroup(function* (inner) {
              inner.createTask(logged(log, "inner sibling", 100));
              inner.createTask(failAfter(5, new Error("deep")));
            }),
          );
        }),
      );
      const eg = e as ExceptionGroup;
      const nested = eg.exceptions[0] as ExceptionGroup;
      return [log.sort(), nested instanceof ExceptionGroup, (nested.exceptions[0] as Error).message];
    });
    expect(out).toEqual([["inner sibling CancelledError", "outer sibling CancelledError"], true, "deep"]);
  });

  test("createTask after the group finished is an Error, and the coroutine is closed (as asyncio)", async () => {
    await runVirtual(function* () {
      let group: TaskGroup | null = null;
      yield* taskGroup(function* (tg) {
        group = tg;
      });
      let ran = false;
      const coro = (function* () {
        ran = true;
      })();
      expect(() => group!.createTask(coro)).toThrow(/TaskGroup is finished/);
      expect(coro.next()).toEqual({ done: true, value: undefined });
      expect(ran).toBe(false);
    });
  });

  test("createTask while the group is shutting down is an Error, and the coroutine never runs", async () => {
    const out = await runVirtual(function* () {
      let ran = false;
      let error: unknown = null;
      yield* catching(
        taskGroup(function* (tg) {
          tg.createTask(failAfter(1, new Error("x")));
          try {
            yield* forever();
          } finally {
            try {
              tg.createTask(
                (function* () {
                  ran = true;
                })(),
              );
            } catch (e) {
              error = e;
            }
          }
        }),
      );
      return [ran, (error as Error).message];
    });
    expect(out[0]).toBe(false);
    expect(out[1]).toMatch(/TaskGroup is shutting down/);
  });

  test("the group waits for a child that ignores the cancellation once", async () => {
    const out = await runVirtual(function* () {
      const log: string[] = [];
      yield* catching(
        taskGroup(function* (tg) {
          tg.createTask(failAfter(5, new Error("x")));
          tg.createTask(
            (function* () {
              try {
                yield* sleep(100);
              } catch { // eslint-disable-line @loop/no-swallowed-cancel -- a child that ignores its cancellation is what this test is about
                log.push("ignored cancellation");
              }
              yield* sleep(50);
              log.push(`stubborn done at ${getRunningLoop().time()}`);
            })(),
          );
        }),
      );
      log.push(`group exit at ${getRunningLoop().time()}`);
      return log;
    });
    expect(out).toEqual(["ignored cancellation", "stubborn done at 55", "group exit at 55"]);
  });

  test("no child outlives the group, whichever way it ends", async () => {
    const out = await runVirtual(function* () {
      const all: Task<unknown>[] = [];
      const spawn = (tg: TaskGroup) => {
        for (let i = 0; i < 5; i++) all.push(tg.createTask(sleep(10 * i + 1)));
      };
      yield* taskGroup(function* (tg) {
        spawn(tg);
      });
      const ok = all.every((t) => t.done());
      all.length = 0;
      yield* catching(
        taskGroup(function* (tg) {
          spawn(tg);
          yield* sleep(5);
          throw new Error("body");
        }),
      );
      return [ok, all.every((t) => t.done())];
    });
    expect(out).toEqual([true, true]);
  });

  test("a body that throws CancelledError itself, with no outside request, propagates it", async () => {
    const e = await runVirtual(function* () {
      return yield* catching(
        taskGroup(function* () {
          throw new CancelledError("self-made");
        }),
      );
    });
    expect((e as Error).message).toBe("self-made");
  });

  test("argument and context errors", async () => {
    expect(() => taskGroup(5 as never)).toThrow(TypeError);
    const { EventLoop } = await import("../src/index.js");
    const { VirtualPoller } = await import("./helpers.js");
    const loop = new EventLoop({ poller: new VirtualPoller() });
    const coro = taskGroup(function* () {});
    expect(() => coro.next()).toThrow(/must run inside a task/);
    loop.close();
  });
});

describe("ExceptionGroup", () => {
  test("is an AggregateError with exceptions; subgroup filters, descending into nested groups", () => {
    const a = new TypeError("a");
    const b = new RangeError("b");
    const nested = new ExceptionGroup("inner", [b, a]);
    const eg = new ExceptionGroup("outer", [a, nested]);
    expect(eg).toBeInstanceOf(AggregateError);
    expect(eg.errors).toEqual([a, nested]);
    expect(eg.name).toBe("ExceptionGroup");
    const types = eg.subgroup((e) => e instanceof TypeError)!;
    expect(types.exceptions[0]).toBe(a);
    expect((types.exceptions[1] as ExceptionGroup).exceptions).toEqual([a]);
    expect(eg.subgroup(() => true)).toBe(eg);
    expect(eg.subgroup(() => false)).toBe(null);
    expect(() => new ExceptionGroup("m", [])).toThrow(TypeError);
    expect(() => new ExceptionGroup(5 as never, [a])).toThrow(TypeError);
  });

  test("the message says how many errors and what the first one is", () => {
    const one = new ExceptionGroup("unhandled errors in a TaskGroup", [new TypeError("bad input\nsecond line")]);
    expect(one.message).toBe("unhandled errors in a TaskGroup (1 sub-error; first: TypeError: bad input)");
    const two = new ExceptionGroup("outer", [one, new RangeError("r")]);
    expect(two.message).toBe(
      "outer (2 sub-errors; first: ExceptionGroup: unhandled errors in a TaskGroup (1 sub-error; first: TypeError: bad input))",
    );
    expect(new ExceptionGroup("m", ["plain"]).message).toBe("m (1 sub-error; first: plain)");
  });

  test("a TaskGroup's error names the first child's class and message", async () => {
    const e = await runVirtual(function* () {
      return yield* catching(
        taskGroup(function* (tg) {
          tg.createTask(
            (function* () {
              yield* sleep(1);
              throw new RangeError("out of range");
            })(),
          );
        }),
      );
    });
    expect((e as Error).message).toBe("unhandled errors in a TaskGroup (1 sub-error; first: RangeError: out of range)");
  });

  test("split by class keeps the nesting, the message and the cause (Python 3.11 semantics)", () => {
    const t1 = new TypeError("t1");
    const r1 = new RangeError("r1");
    const t2 = new TypeError("t2");
    const inner = new ExceptionGroup("inner", [t2, r1]);
    const eg = new ExceptionGroup("outer", [t1, inner]);
    eg.cause = "why";
    const [match, rest] = eg.split(TypeError);
    expect(match!.exceptions[0]).toBe(t1);
    const matchedInner = match!.exceptions[1] as ExceptionGroup;
    expect(matchedInner.exceptions).toEqual([t2]);
    expect(matchedInner.message).toBe("inner (1 sub-error; first: TypeError: t2)");
    expect(match!.message).toBe("outer (2 sub-errors; first: TypeError: t1)");
    expect(match!.cause).toBe("why");
    expect(rest!.exceptions).toHaveLength(1);
    expect((rest!.exceptions[0] as ExceptionGroup).exceptions).toEqual([r1]);
    expect(rest!.message).toBe("outer (1 sub-error; first: ExceptionGroup: inner (1 sub-error; first: RangeError: r1))");
    // Everything matches: the group itself; nothing matches: null.
    expect(eg.split(Error)).toEqual([eg, null]);
    expect(eg.split(SyntaxError)).toEqual([null, eg]);
    // A list of classes, and a class matching nested groups as a whole.
    expect(eg.subgroup([RangeError, SyntaxError])!.exceptions.map((e) => (e as ExceptionGroup).exceptions)).toEqual([[r1]]);
    expect(eg.subgroup(ExceptionGroup)).toBe(eg);
  });

  test("a predicate sees nested groups too; a group that matches is taken whole", () => {
    const a = new TypeError("a");
    const inner = new ExceptionGroup("inner", [new RangeError("b"), new RangeError("c")]);
    const eg = new ExceptionGroup("outer", [a, inner]);
    const seen: unknown[] = [];
    const [match, rest] = eg.split((e) => {
      seen.push(e);
      return e instanceof ExceptionGroup && e.message.startsWith("inner");
    });
    expect(seen).toEqual([eg, a, inner]);
    expect(match!.exceptions).toEqual([inner]);
    expect(match!.exceptions[0]).toBe(inner);
    expect(rest!.exceptions).toEqual([a]);
    expect(() => eg.split(42 as never)).toThrow(/matcher must be an error class, a list of classes, or a predicate/);
    expect(() => eg.split([() => true] as never)).toThrow(/every entry of the list must be an error class/);
  });

  test("a subclass keeps its class in split parts by overriding derive()", () => {
    class Failures extends ExceptionGroup<Error> {
      override derive<F>(exceptions: readonly (F | ExceptionGroup<F>)[]): ExceptionGroup<F> {
        return new Failures("failures", exceptions as unknown as Error[]) as unknown as ExceptionGroup<F>;
      }
    }
    const eg = new Failures("failures", [new TypeError("a"), new RangeError("b")]);
    const [match, rest] = eg.split(TypeError);
    expect(match).toBeInstanceOf(Failures);
    expect(rest).toBeInstanceOf(Failures);
  });

  test("exceptions and split are typed from the type parameter", () => {
    const eg = new ExceptionGroup<TypeError | RangeError>("m", [new TypeError("a"), new RangeError("b")]);
    expectTypeOf(eg.exceptions).toEqualTypeOf<readonly (TypeError | RangeError | ExceptionGroup<TypeError | RangeError>)[]>();
    const [match, rest] = eg.split(TypeError);
    expectTypeOf(match).toEqualTypeOf<ExceptionGroup<TypeError> | null>();
    expectTypeOf(rest).toEqualTypeOf<ExceptionGroup<TypeError | RangeError> | null>();
    const ranges = eg.subgroup((e): e is RangeError => e instanceof RangeError);
    expectTypeOf(ranges).toEqualTypeOf<ExceptionGroup<RangeError> | null>();
    expect(ranges!.exceptions).toEqual([eg.exceptions[1]]);
  });

  test("console.error prints each sub-error once, indented under the group", () => {
    const a = new TypeError("first-child");
    const eg = new ExceptionGroup("outer", [a, new ExceptionGroup("inner", [new RangeError("second-child")])]);
    const printed = inspect(eg);
    expect(printed.split("first-child").length - 1).toBe(2); // the summary line and its own entry
    expect(printed.split("second-child").length - 1).toBe(2); // the inner group's summary and its own entry
    expect(printed).toContain("\n  [1/2] TypeError: first-child\n");
    expect(printed).toContain("\n      [1/1] RangeError: second-child\n");
    expect(eg.stack).toBe(printed);
  });
});

describe("taskGroup at its exit", () => {
  test("the parent waiting for its children is described as waiting on the TaskGroup exit", async () => {
    const out = await runVirtual(function* () {
      const parent = currentTask() as Task<unknown>;
      let seen = "";
      yield* taskGroup(function* (tg) {
        tg.createTask(
          (function* () {
            yield* sleep(5); // the body has returned by now
            seen = describeWait(parent.waitingOn());
          })(),
        );
      });
      return seen;
    });
    expect(out).toBe("TaskGroup exit");
  });
});

describe("taskGroup's checks", () => {
  test("a body that is not a function is a TypeError at the call that says what a body is", () => {
    expect(() => taskGroup(42 as never)).toThrow(TypeError);
    expect(() => taskGroup(42 as never)).toThrow("taskGroup(body): body must be a function* (tg) => Coroutine that starts tasks with tg.createTask");
  });

  test("the parent waiting at the exit is woken by the last child to finish, not by each", async () => {
    const states = await runVirtual(function* () {
      const parent = currentTask() as Task<unknown>;
      const states: string[] = [];
      yield* taskGroup(function* (tg) {
        const first = tg.createTask(sleep(1));
        tg.createTask(sleep(5));
        // Runs right after the group has seen the first child finish.
        first.addDoneCallback(() => states.push(`${parent.state()} on ${parent.waitingOn()?.label}`));
      });
      states.push(parent.state());
      return states;
    });
    expect(states).toEqual(["waiting on TaskGroup exit", "running"]);
  });

  test("a child failing while the group already shuts down (the body threw) does not cancel the parent", async () => {
    const out = await runVirtual(function* () {
      const parent = currentTask() as Task<unknown>;
      const seen: number[] = [];
      const e = yield* catching(
        taskGroup(function* (tg) {
          const failing = tg.createTask(
            (function* () {
              try {
                yield* forever();
              } catch {
                throw new Error("F");
              }
            })(),
          );
          tg.createTask(
            (function* () {
              try {
                yield* forever();
              } finally {
                yield* sleep(10);
              }
            })(),
          );
          failing.addDoneCallback(() => seen.push(parent.cancelling()));
          yield;
          throw new Error("E");
        }),
      );
      return [seen, (e as ExceptionGroup).exceptions.map((x) => (x as Error).message), parent.cancelling()];
    });
    expect(out).toEqual([[0], ["F", "E"], 0]);
  });

  test("a child failing after its group's parent task finished is reported to the loop's exception handler", async () => {
    const reports = await runVirtual(function* () {
      const loop = getRunningLoop();
      const reports: unknown[] = [];
      loop.setExceptionHandler((_l, ctx) => reports.push(ctx));
      const boom = new Error("late");
      let child!: Task<unknown>;
      // A group driven by hand from a task that then returns without waiting for it.
      const parent = createTask(
        (function* () {
          const group = taskGroup(function* (tg) {
            child = tg.createTask(failAfter(5, boom), { name: "late child" });
          });
          group.next();
        })(),
      );
      yield* parent;
      yield* catching(child);
      return reports.map((r) => {
        const ctx = r as { message: string; exception: unknown; task: unknown };
        return [ctx.message, ctx.exception === boom, ctx.task === child];
      });
    });
    expect(reports).toEqual([['Task "late child" failed after its task group\'s parent task had finished', true, true]]);
  });

  test("an error other than a cancellation thrown into the group's exit wait propagates as it is", async () => {
    const out = await runVirtual(function* () {
      let child!: Task<unknown>;
      const boom = new Error("thrown in");
      const group = taskGroup(function* (tg) {
        child = tg.createTask(forever());
      });
      // Driven by hand: the first step ends waiting at the exit, where the error goes in.
      group.next();
      let thrown: unknown;
      try {
        group.throw(boom);
      } catch (error) {
        thrown = error;
      }
      child.cancel();
      yield* catching(child);
      return thrown === boom;
    });
    expect(out).toBe(true);
  });

  test("run from a loop callback rather than a task, the group refuses to start", async () => {
    const { loop } = virtualLoop();
    const outcome = loop.createFuture<unknown>();
    loop.callSoon(() => {
      // The loop is running but no task is: a group has no parent to cancel.
      const group = taskGroup(function* () {});
      try {
        group.next();
        outcome.setResult("started");
      } catch (error) {
        outcome.setResult(error);
      }
    });
    const error = await loop.runUntilComplete(outcome);
    loop.close();
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe("taskGroup() must run inside a task: yield* it from a coroutine");
  });
});

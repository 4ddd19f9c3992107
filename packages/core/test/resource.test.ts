import { describe, expect, test } from "vitest";
import {
  CancelledError,
  ExceptionGroup,
  ExitStack,
  createTask,
  currentTask,
  defer,
  describeWait,
  exitStack,
  getRunningLoop,
  resource,
  taskGroup,
  use,
  type Coroutine,
  type Task,
} from "../src/index.js";
import { catching, forever, runVirtual, sleep, turns } from "./helpers.js";

function* note(log: string[], line: string): Coroutine<void> {
  yield* sleep(1); // cleanups may wait
  log.push(line);
}

describe("exitStack and defer", () => {
  test("cleanups run last-registered first when the body returns, and may wait", async () => {
    const log: string[] = [];
    const out = await runVirtual(function* () {
      return yield* exitStack(function* (stack) {
        stack.defer(() => note(log, "first registered"));
        yield* defer(() => note(log, "second registered"));
        log.push("body");
        return "result";
      });
    });
    expect(out).toBe("result");
    expect(log).toEqual(["body", "second registered", "first registered"]);
  });

  test("cleanups run when the task is cancelled, and the CancelledError goes on", async () => {
    const log: string[] = [];
    await runVirtual(function* () {
      const task = createTask(
        exitStack(function* () {
          yield* defer(() => note(log, "cleaned up"));
          yield* forever();
        }),
      );
      yield* turns(2);
      task.cancel();
      expect(yield* catching(task)).toBeInstanceOf(CancelledError);
    });
    expect(log).toEqual(["cleaned up"]);
  });

  test("a failing cleanup does not stop the others; errors are collected", async () => {
    const log: string[] = [];
    const errors = await runVirtual(function* () {
      const one = yield* catching(
        exitStack(function* (stack) {
          stack.defer(() => note(log, "a"));
          stack.defer(function* () {
            throw new Error("cleanup b failed");
          });
        }),
      );
      const many = yield* catching(
        exitStack(function* (stack) {
          stack.defer(function* () {
            throw new Error("c");
          });
          throw new Error("body");
        }),
      );
      return [one, many];
    });
    expect(log).toEqual(["a"]);
    expect((errors[0] as Error).message).toBe("cleanup b failed");
    expect(errors[1]).toBeInstanceOf(ExceptionGroup);
    expect((errors[1] as ExceptionGroup).exceptions.map((e) => (e as Error).message)).toEqual(["body", "c"]);
  });

  test("a cleanup failing during a cancellation is reported, and the cancellation is not lost", async () => {
    const reported: unknown[] = [];
    await runVirtual(function* () {
      getRunningLoop().setExceptionHandler((_, ctx) => reported.push(ctx.exception));
      const task = createTask(
        exitStack(function* (stack) {
          stack.defer(function* () {
            throw new Error("cleanup failed");
          });
          yield* forever();
        }),
      );
      yield* turns(2);
      task.cancel();
      expect(yield* catching(task)).toBeInstanceOf(CancelledError);
    });
    expect(reported.map((e) => (e as Error).message)).toEqual(["cleanup failed"]);
  });

  test("a taskGroup is a scope: its cleanups run after every child has finished", async () => {
    const log: string[] = [];
    await runVirtual(function* () {
      yield* taskGroup(function* (tg) {
        yield* defer(() => note(log, "group cleanup"));
        tg.createTask(note(log, "child done"));
      });
    });
    expect(log).toEqual(["child done", "group cleanup"]);
  });

  test("defer outside a scope is an Error naming the fix; a non-function is a TypeError", async () => {
    const e = await runVirtual(function* () {
      return yield* catching(defer(function* () {}));
    });
    expect((e as Error).message).toMatch(/inside exitStack/);
    expect(() => defer(5 as never)).toThrow(TypeError);
    expect(() => exitStack(null as never)).toThrow(TypeError);
  });
});

describe("resource and use", () => {
  function connection(log: string[], name: string) {
    return resource<string>(function* (provide) {
      yield* sleep(1);
      log.push(`open ${name}`);
      try {
        yield* provide(`conn ${name}`);
      } finally {
        yield* sleep(1);
        log.push(`close ${name}`);
      }
    });
  }

  test("the value is lent until the scope ends, then the body's finally runs; LIFO across resources", async () => {
    const log: string[] = [];
    await runVirtual(function* () {
      yield* exitStack(function* (stack) {
        const a = yield* use(connection(log, "a"));
        const b = yield* stack.use(connection(log, "b"));
        log.push(`using ${a} and ${b}`);
      });
      log.push("after");
    });
    expect(log).toEqual(["open a", "open b", "using conn a and conn b", "close b", "close a", "after"]);
  });

  test("a cancelled user still closes the resource", async () => {
    const log: string[] = [];
    await runVirtual(function* () {
      const task = createTask(
        exitStack(function* () {
          yield* use(connection(log, "a"));
          yield* forever();
        }),
      );
      yield* sleep(10);
      task.cancel();
      yield* catching(task);
    });
    expect(log).toEqual(["open a", "close a"]);
  });

  test("a body that fails before provide fails use() with its error", async () => {
    const e = await runVirtual(function* () {
      return yield* catching(
        exitStack(function* () {
          yield* use(
            resource<number>(function* () {
              yield* sleep(1);
              throw new Error("could not open");
            }),
          );
        }),
      );
    });
    expect((e as Error).message).toBe("could not open");
  });
});

describe("scopes: arguments, nesting, ends", () => {
  const outsideScope = (where: string): Error =>
    new Error(`${where} must run inside exitStack(function* (stack) { … }) or a taskGroup body: that is the scope whose end runs the cleanup`);
  const notAResource = (where: string): TypeError => new TypeError(`${where}: resource must be made by resource(function* (provide) { … })`);

  test("bad arguments: a TypeError at the call naming the function and the fix", async () => {
    const badCleanup = new TypeError("defer(cleanup): cleanup must be a function* () => Coroutine that releases something");
    expect(() => defer(5 as never)).toThrow(badCleanup);
    expect(() => exitStack(null as never)).toThrow(new TypeError("exitStack(body): body must be a function* (stack) => Coroutine"));
    expect(() => resource(5 as never)).toThrow(
      new TypeError("resource(body): body must be a function* (provide) => Coroutine that calls yield* provide(value)"),
    );
    // Not an object, null, no _body, and a function that has a _body: none was made by resource().
    for (const bad of [5, null, undefined, {}, Object.assign(() => {}, { _body: function* () {} })]) {
      expect(() => use(bad as never)).toThrow(notAResource("use(resource)"));
    }
    await runVirtual(function* () {
      yield* exitStack(function* (stack) {
        expect(() => stack.defer(5 as never)).toThrow(badCleanup);
        expect(() => stack.use({} as never)).toThrow(notAResource("use(resource)"));
      });
    });
  });

  test("defer and use outside any scope: an Error naming the scope they need", async () => {
    const errors = await runVirtual(function* () {
      return [yield* catching(defer(function* () {})), yield* catching(use(resource<number>(function* (provide) {
        yield* provide(1);
      })))];
    });
    expect(errors[0]).toEqual(outsideScope("defer(cleanup)"));
    expect(errors[0]).not.toBeInstanceOf(TypeError);
    expect(errors[1]).toEqual(outsideScope("use(resource)"));
  });

  test("a scope that has ended refuses new cleanups instead of never running them", async () => {
    let leaked: ExitStack | undefined;
    await runVirtual(function* () {
      yield* exitStack(function* (stack) {
        leaked = stack;
      });
    });
    expect(() => leaked?.defer(function* () {})).toThrow(
      new Error("defer(cleanup): this scope has already ended; register cleanups while it is open"),
    );
  });

  test("when a nested scope ends its outer scope is the innermost again, and after the outermost there is none", async () => {
    const log: string[] = [];
    const after = await runVirtual(function* () {
      yield* exitStack(function* () {
        yield* defer(() => note(log, "outer, registered first"));
        yield* exitStack(function* () {
          yield* defer(() => note(log, "inner"));
        });
        // The inner scope has ended: this goes to the outer one, which is still open.
        yield* defer(() => note(log, "outer, registered after the inner scope"));
        log.push("outer body ends");
      });
      return yield* catching(defer(function* () {}));
    });
    expect(log).toEqual(["inner", "outer body ends", "outer, registered after the inner scope", "outer, registered first"]);
    expect(after).toEqual(outsideScope("defer(cleanup)"));
  });

  test("scopes driven by hand and left out of order: each open scope's cleanups still go to it, and the outer scope stays usable", async () => {
    const log: string[] = [];
    const after = await runVirtual(function* () {
      yield* exitStack(function* () {
        const pushing = (line: string) =>
          function* (): Coroutine<void> {
            log.push(line);
          };
        // Three scopes opened one inside the other by hand, then left in the order a, c, b.
        const a = exitStack(function* (stack) {
          stack.defer(pushing("a cleanup"));
          yield;
        });
        const b = exitStack(function* () {
          yield;
          yield* defer(pushing("b cleanup"));
        });
        const c = exitStack(function* () {
          yield;
          yield* defer(pushing("c cleanup"));
        });
        a.next();
        b.next();
        c.next();
        a.next(); // a ends while b and c are open inside it
        c.next();
        log.push("c done");
        b.next();
        log.push("b done");
        yield* defer(pushing("outer cleanup"));
        log.push("outer body ends");
      });
      return yield* catching(defer(function* () {}));
    });
    expect(log).toEqual(["a cleanup", "c cleanup", "c done", "b cleanup", "b done", "outer body ends", "outer cleanup"]);
    expect(after).toEqual(outsideScope("defer(cleanup)"));
  });

  test("a scope begun in one task and ended in another leaves the second task's scopes alone", async () => {
    const log: string[] = [];
    await runVirtual(function* () {
      const pushing = (line: string) =>
        function* (): Coroutine<void> {
          log.push(line);
        };
      yield* exitStack(function* () {
        yield* defer(pushing("first task's scope cleanup"));
        const moved = exitStack(function* (stack) {
          stack.defer(pushing("moved scope cleanup"));
          yield;
        });
        const alsoMoved = exitStack(function* () {
          yield;
        });
        moved.next();
        alsoMoved.next();
        // Ended by a task with a scope of its own open, and by one with none.
        yield* createTask(
          (function* (): Coroutine<void> {
            yield* exitStack(function* () {
              moved.next();
              yield* defer(pushing("second task's scope cleanup"));
              log.push("second task's body ends");
            });
            // Its one scope has ended: the first task's scope is not taken for one of its own.
            expect(yield* catching(defer(function* () {}))).toEqual(outsideScope("defer(cleanup)"));
          })(),
        );
        yield* createTask(
          (function* (): Coroutine<void> {
            alsoMoved.next();
            log.push("third task done");
            expect(yield* catching(defer(function* () {}))).toEqual(outsideScope("defer(cleanup)"));
          })(),
        );
      });
    });
    expect(log).toEqual([
      "moved scope cleanup",
      "second task's body ends",
      "second task's scope cleanup",
      "third task done",
      "first task's scope cleanup",
    ]);
  });

  test("the errors of several cleanups come as one ExceptionGroup saying where they come from", async () => {
    const error = await runVirtual(function* () {
      return yield* catching(
        exitStack(function* (stack) {
          stack.defer(function* () {
            throw new Error("second");
          });
          stack.defer(function* () {
            throw new Error("first");
          });
        }),
      );
    });
    expect(error).toBeInstanceOf(ExceptionGroup);
    expect((error as ExceptionGroup).message).toMatch(/^errors while leaving a scope \(2 sub-errors; first: /);
    expect((error as ExceptionGroup).exceptions.map((e) => (e as Error).message)).toEqual(["first", "second"]);
  });

  test("the report of a cleanup failing during a cancellation says so", async () => {
    const reported: { message: string; exception: unknown }[] = [];
    await runVirtual(function* () {
      getRunningLoop().setExceptionHandler((_, ctx) => reported.push({ message: ctx.message, exception: ctx.exception }));
      const task = createTask(
        exitStack(function* (stack) {
          stack.defer(function* () {
            throw new Error("cleanup failed");
          });
          yield* forever();
        }),
      );
      yield* turns(2);
      task.cancel();
      yield* catching(task);
    });
    expect(reported).toEqual([{ message: "a cleanup failed while its scope was being cancelled", exception: new Error("cleanup failed") }]);
  });

  test("driven by hand outside a loop: a cancellation still gets through a failing cleanup, and use() says it needs a loop", () => {
    const cancelled = exitStack(function* (stack) {
      stack.defer(function* () {
        throw new Error("cleanup failed");
      });
      yield;
    });
    cancelled.next();
    const cancel = new CancelledError("by hand");
    expect(() => cancelled.throw(cancel)).toThrow(cancel);

    const using = exitStack(function* (stack) {
      yield* stack.use(resource<number>(function* (provide) {
        yield* provide(1);
      }));
    });
    expect(() => using.next()).toThrow(new Error("use(resource) must run inside a coroutine on a loop"));
    // Both scopes were left: none is open outside the loop now.
    const stray = defer(function* () {});
    expect(() => stray.next()).toThrow(outsideScope("defer(cleanup)"));
  });
});

describe("resource: the body's task, provide and release", () => {
  test("the body runs in a task named \"resource\"; the user waits on \"resource provide\", the body on \"resource release\"", async () => {
    const seen = await runVirtual(function* () {
      const seen: string[] = [];
      let body: Task<unknown> | null = null;
      const opening = getRunningLoop().createFuture<void>();
      const user = createTask(
        exitStack(function* () {
          yield* use(
            resource<number>(function* (provide) {
              body = currentTask();
              yield* opening;
              yield* provide(1);
            }),
          );
          yield* forever();
        }),
      );
      yield* turns(2);
      seen.push(body!.getName(), describeWait(user.waitingOn()));
      opening.setResult();
      yield* turns(2);
      seen.push(describeWait(body!.waitingOn()));
      user.cancel();
      yield* catching(user);
      return seen;
    });
    expect(seen).toEqual(["resource", "resource provide", "resource release"]);
  });

  test("provide may be called once: a second call fails the body, and the scope with it", async () => {
    const error = await runVirtual(function* () {
      return yield* catching(
        exitStack(function* () {
          yield* use(
            resource<number>(function* (provide) {
              yield* provide(1);
              yield* provide(2);
            }),
          );
        }),
      );
    });
    expect(error).toEqual(new Error("resource(body): provide(value) may be called once"));
  });

  test("a body that ends without calling provide fails use() saying so", async () => {
    const error = await runVirtual(function* () {
      return yield* catching(
        exitStack(function* () {
          yield* use(resource<number>(function* () {}));
        }),
      );
    });
    expect(error).toEqual(new Error("resource(body): the body ended without calling provide(value)"));
  });

  test("a body whose release fails after provide: the scope's end throws that error as it is", async () => {
    const error = await runVirtual(function* () {
      return yield* catching(
        exitStack(function* () {
          yield* use(
            resource<number>(function* (provide) {
              yield* provide(1);
              throw new RangeError("close failed");
            }),
          );
        }),
      );
    });
    expect(error).toEqual(new RangeError("close failed"));
    expect(error).toBeInstanceOf(RangeError);
  });

  test("a user cancelled while the body opens: the body still provides into nothing, then releases; nothing is reported", async () => {
    const log: string[] = [];
    const reported: unknown[] = [];
    await runVirtual(function* () {
      getRunningLoop().setExceptionHandler((_, ctx) => reported.push(ctx.exception ?? ctx.message));
      const user = createTask(
        exitStack(function* () {
          yield* use(
            resource<string>(function* (provide) {
              yield* sleep(5);
              log.push("open");
              try {
                yield* provide("conn");
                log.push("provide returned");
              } finally {
                log.push("close");
              }
            }),
          );
          log.push("user got it");
        }),
      );
      yield* sleep(1);
      user.cancel();
      expect(yield* catching(user)).toBeInstanceOf(CancelledError);
    });
    expect(log).toEqual(["open", "provide returned", "close"]);
    expect(reported).toEqual([]);
  });

  test("a body cancelled while lent (the loop closing, say) that catches it: the scope still ends cleanly", async () => {
    const log: string[] = [];
    const out = await runVirtual(function* () {
      return yield* exitStack(function* () {
        let body: Task<unknown> | null = null;
        const value = yield* use(
          resource<string>(function* (provide) {
            body = currentTask();
            try {
              yield* provide("conn");
            } catch (error) {
              log.push(error instanceof CancelledError ? "body cancelled" : "other");
            }
          }),
        );
        body!.cancel();
        yield* turns(2);
        return value;
      });
    });
    expect(out).toBe("conn");
    expect(log).toEqual(["body cancelled"]);
  });
});

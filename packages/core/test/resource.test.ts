import { describe, expect, test } from "vitest";
import {
  CancelledError,
  ExceptionGroup,
  createTask,
  defer,
  exitStack,
  getRunningLoop,
  resource,
  taskGroup,
  use,
  type Coroutine,
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

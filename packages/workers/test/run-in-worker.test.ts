import { threadId } from "node:worker_threads";
import { describe, expect, expectTypeOf, test } from "vitest";
import { Future, gather, run, type Awaitable, type Coroutine } from "@loop/core";
import { runInWorker, type Transfer } from "../src/index.js";
import { jobs } from "./helpers.js";

function* thrownBy(body: () => Awaitable<unknown>): Coroutine<Error> {
  try {
    yield* body();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected the job to fail");
}

describe("runInWorker", () => {
  test("runs a module's export in another thread and gives its result", async () => {
    const [sum, later, doubled, worker] = await run(function* () {
      return yield* gather([
        runInWorker(jobs, "add", 2, 3),
        runInWorker(jobs, "addLater", 4, 5),
        runInWorker(jobs, "default", 21),
        runInWorker(jobs, "whoAmI"),
      ]);
    });
    expect([sum, later, doubled]).toEqual([5, 9, 42]);
    // Another thread than the caller's, whichever that is (mutation testing runs the tests
    // themselves on a worker thread, so the caller need not be the main thread).
    expect(worker).not.toBe(threadId);
  });

  test("accepts a URL object, a URL string and an absolute path", async () => {
    const results = await run(function* () {
      return yield* gather([runInWorker(jobs, "add", 1, 1), runInWorker(jobs.href, "add", 1, 2), runInWorker(jobs.pathname, "add", 1, 3)]);
    });
    expect(results).toEqual([2, 3, 4]);
  });

  test("returns a Future labelled with the module file and export", async () => {
    await run(function* () {
      const future = runInWorker(jobs, "add", 1, 2);
      expect(future).toBeInstanceOf(Future);
      expect(future.label).toBe("runInWorker(jobs.mjs#add)");
      expect(yield* future).toBe(3);
    });
  });

  test("types the call from the export's type", () => {
    type Add = (a: number, b: number) => number;
    expectTypeOf(runInWorker<Add>).parameters.toEqualTypeOf<[string | URL, string, number | Transfer<number>, number | Transfer<number>]>();
    expectTypeOf(runInWorker<Add>).returns.toEqualTypeOf<Future<number>>();
    expectTypeOf(runInWorker<(s: string) => Promise<string>>).returns.toEqualTypeOf<Future<string>>();
  });

  describe("errors thrown in the worker", () => {
    test("arrive with their built-in class, message and the worker's stack", async () => {
      const error = await run(() => thrownBy(() => runInWorker(jobs, "fail", "type")));
      expect(error).toBeInstanceOf(TypeError);
      expect(error.message).toBe("not a number");
      expect(error.stack).toMatch(/^TypeError: not a number\n\s+at fail \(.*fixtures\/jobs\.mjs:\d+:\d+\)/);
    });

    test("of a user class arrive named after the class, with their own fields", async () => {
      const error = await run(() => thrownBy(() => runInWorker(jobs, "fail", "custom")));
      expect(error).toBeInstanceOf(Error);
      expect(error.constructor.name).toBe("ValidationError");
      expect(error.name).toBe("ValidationError");
      expect(error.message).toBe("age must be positive");
      expect(String(error)).toBe("ValidationError: age must be positive");
      expect(error.stack).toMatch(/^ValidationError: age must be positive\n\s+at fail /);
      expect(error).toMatchObject({ field: "age", code: "E_VALIDATION" });
    });

    test("keep their cause and, for an AggregateError, the errors it holds", async () => {
      const [withCause, aggregate] = await run(function* () {
        return [yield* thrownBy(() => runInWorker(jobs, "fail", "cause")), yield* thrownBy(() => runInWorker(jobs, "fail", "aggregate"))];
      });
      expect(withCause.message).toBe("outer");
      expect(withCause.cause).toBeInstanceOf(RangeError);
      expect((withCause.cause as Error).message).toBe("inner");
      expect(aggregate).toBeInstanceOf(AggregateError);
      expect(aggregate.message).toBe("both failed");
      const inner = (aggregate as AggregateError).errors as Error[];
      expect(inner.map((e) => [e.constructor, e.message])).toEqual([
        [Error, "one"],
        [TypeError, "two"],
      ]);
    });

    test("a thrown value that is not an Error arrives as that value", async () => {
      const [text, symbol] = await run(function* () {
        return [yield* thrownBy(() => runInWorker(jobs, "fail", "string")), yield* thrownBy(() => runInWorker(jobs, "fail", "uncloneable"))];
      });
      expect(text).toBe("a plain string");
      expect(symbol).toBeInstanceOf(Error);
      expect(symbol.message).toMatch(/cannot be cloned was thrown: Symbol\(nope\)/);
    });

    test("an async export's rejection arrives like a throw", async () => {
      const error = await run(() => thrownBy(() => runInWorker(jobs, "failLater")));
      expect(error).toBeInstanceOf(RangeError);
      expect(error.message).toBe("later");
    });
  });

  describe("bad input is a clear error, never a hang", () => {
    test("a module that does not exist fails the job, naming the module", async () => {
      const missing = new URL("./fixtures/no-such-module.mjs", import.meta.url);
      const error = await run(() => thrownBy(() => runInWorker(missing, "add", 1, 2)));
      expect(error.message).toContain(`cannot load module ${missing.href} in the worker thread`);
      expect(error).toMatchObject({ code: "ERR_MODULE_NOT_FOUND" });
    });

    test("an export that does not exist, or is not a function, fails the job with a TypeError listing the exports", async () => {
      const [missing, notAFunction] = await run(function* () {
        return [yield* thrownBy(() => runInWorker(jobs, "nope")), yield* thrownBy(() => runInWorker(jobs, "notAFunction"))];
      });
      expect(missing).toBeInstanceOf(TypeError);
      expect(missing.message).toMatch(/^export "nope" of file:.*jobs\.mjs does not exist; the module exports .*"add"/);
      expect(notAFunction).toBeInstanceOf(TypeError);
      expect(notAFunction.message).toContain('export "notAFunction" of');
      expect(notAFunction.message).toContain("is a number, not a function");
    });

    test("a function or symbol argument is refused at the call", async () => {
      await run(function* () {
        expect(() => runInWorker(jobs, "add", 1, (() => 2) as never)).toThrow(
          new TypeError(
            "runInWorker(jobs.mjs#add): argument 2 is a function, which cannot be sent to a worker thread; only data crosses threads (plain objects, arrays, strings, numbers, typed arrays…)",
          ),
        );
        expect(() => runInWorker(jobs, "add", Symbol("s") as never)).toThrow(/argument 1 is a symbol/);
      });
    });

    test("an argument that cannot be cloned deeper down fails the job with a TypeError", async () => {
      const error = await run(() => thrownBy(() => runInWorker(jobs, "add", { nested: { callback() {} } }, 1)));
      expect(error).toBeInstanceOf(TypeError);
      expect(error.message).toMatch(/^jobs\.mjs#add: an argument cannot be sent to the worker thread \(.*could not be cloned/);
    });

    test("a result that cannot be sent back fails the job with a TypeError, and the pool goes on", async () => {
      const [fn, nested, after] = await run(function* () {
        return [
          yield* thrownBy(() => runInWorker(jobs, "returnsFunction")),
          yield* thrownBy(() => runInWorker(jobs, "returnsUncloneable")),
          yield* runInWorker(jobs, "add", 1, 1),
        ];
      });
      expect(fn).toBeInstanceOf(TypeError);
      expect(fn.message).toMatch(/^the job's result cannot be sent back from the worker thread: the result is a function; only data crosses threads/);
      expect(nested).toBeInstanceOf(TypeError);
      expect(nested.message).toMatch(/^the job's result cannot be sent back from the worker thread: the result\.callback is a function;/);
      expect(after).toBe(2);
    });

    test("a relative or malformed module URL, and a bad export name, are refused at the call", async () => {
      await run(function* () {
        expect(() => runInWorker("./fixtures/jobs.mjs", "add")).toThrow(RangeError);
        expect(() => runInWorker("./fixtures/jobs.mjs", "add")).toThrow(/use new URL\("\.\/fixtures\/jobs\.mjs", import\.meta\.url\)/);
        expect(() => runInWorker(42 as never, "add")).toThrow(TypeError);
        expect(() => runInWorker(jobs, 7 as never)).toThrow(TypeError);
        expect(() => runInWorker(jobs, "")).toThrow(/use "default" for the default export/);
      });
    });

    test("called outside a running loop, it says where to call it from", () => {
      expect(() => runInWorker(jobs, "add", 1, 2)).toThrow(/must be called from a coroutine running on an event loop/);
    });
  });
});

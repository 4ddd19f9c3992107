import { describe, expect, expectTypeOf, test } from "vitest";
import { Future, gather, run, type Awaitable, type Coroutine } from "@loop/core";
import { toThread } from "../src/index.js";

function* thrownBy(body: () => Awaitable<unknown>): Coroutine<Error> {
  try {
    yield* body();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected the job to fail");
}

describe("toThread", () => {
  test("runs a self-contained function in another thread with the given arguments", async () => {
    const results = await run(function* () {
      return yield* gather([
        toThread((a: number, b: number) => a * b, 6, 7),
        toThread(function countPrimes(limit: number) {
          const sieve = new Uint8Array(limit);
          let count = 0;
          for (let i = 2; i < limit; i++) {
            if (sieve[i]) continue;
            count++;
            for (let j = i * i; j < limit; j += i) sieve[j] = 1;
          }
          return count;
        }, 1000),
        toThread(async (text: string) => `${text}!`, "async"),
        toThread(async () => {
          const { threadId } = await import("node:worker_threads");
          return threadId;
        }),
      ]);
    });
    expect(results.slice(0, 3)).toEqual([42, 168, "async!"]);
    expect(results[3]).toBeGreaterThan(0);
  });

  test("runs method shorthand and nested helper functions", async () => {
    const helpers = {
      sumOfSquares(values: number[]): number {
        const square = (x: number): number => x * x;
        function add(a: number, b: number): number {
          return a + b;
        }
        return values.map(square).reduce(add, 0);
      },
    };
    const result = await run(function* () {
      return yield* toThread(helpers.sumOfSquares, [1, 2, 3]);
    });
    expect(result).toBe(14);
  });

  test("labels its Future with the function's name and types it from the function", async () => {
    await run(function* () {
      const future = toThread(function double(x: number) {
        return x * 2;
      }, 4);
      expectTypeOf(future).toEqualTypeOf<Future<number>>();
      expect(future.label).toBe("toThread(double)");
      expect(toThread(async () => "x").label).toBe("toThread(<anonymous>)");
      expect(yield* future).toBe(8);
    });
  });

  test("a function that uses a variable from outside fails with a ReferenceError naming the variable", async () => {
    const rate = 1.2;
    const error = await run(() => thrownBy(() => toThread(function withTax(price: number) {
      return price * rate;
    }, 10)));
    expect(error).toBeInstanceOf(ReferenceError);
    expect(error.message).toBe(
      'the function withTax uses "rate", which does not exist in the worker thread: toThread and runInExecutor send only a function\'s source text, ' +
        "so it cannot see variables from the scope it was written in (closures, imports). " +
        "Pass rate as an argument, import it inside the function (await import(…)), or put the code in a module and use runInWorker.",
    );
  });

  test("built-in, bound and class functions are refused at the call, saying why", async () => {
    await run(function* () {
      expect(() => toThread(Math.sqrt, 4)).toThrow(
        new TypeError(
          "toThread(fn, …args): sqrt is a built-in or bound function: its source text cannot be sent to a worker thread; wrap the call in a self-contained function, or put it in a module and use runInWorker",
        ),
      );
      const bound = function (this: { x: number }) {
        return this.x;
      }.bind({ x: 1 });
      expect(() => toThread(bound)).toThrow(/is a built-in or bound function/);
      class Job {}
      expect(() => toThread(Job as unknown as () => void)).toThrow(/Job is a class/);
      expect(() => toThread("x => x" as unknown as () => void)).toThrow(TypeError);
    });
  });

  test("a function whose source does not compile alone fails with a SyntaxError saying why", async () => {
    class Counter {
      #count = 0;
      next(): number {
        return ++this.#count;
      }
    }
    const error = await run(() => thrownBy(() => toThread(Counter.prototype.next)));
    expect(error).toBeInstanceOf(SyntaxError);
    expect(error.message).toMatch(/^toThread: the function's source text does not compile on its own in a worker thread \(.*\)\. toThread needs a self-contained function/);
  });
});

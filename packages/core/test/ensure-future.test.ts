import { describe, expect, test } from "vitest";
import { EventLoop, Future, Task, ensureFuture, getRunningLoop, type Awaitable, type Coroutine } from "../src/index.js";
import { VirtualPoller, catching, runVirtual, sleep, turn } from "./helpers.js";

describe("ensureFuture", () => {
  test("a Promise's value is delivered inside the loop", async () => {
    const out = await runVirtual(function* () {
      const loop = getRunningLoop();
      const f = ensureFuture(Promise.resolve(5));
      expect(f).toBeInstanceOf(Future);
      expect(f.getLoop()).toBe(loop);
      const v = yield* f;
      return [v, getRunningLoop() === loop];
    });
    expect(out).toEqual([5, true]);
  });

  test("a rejected Promise fails the future with the same error", async () => {
    const boom = new Error("boom");
    const e = await runVirtual(function* () {
      return yield* catching(ensureFuture(Promise.reject(boom)));
    });
    expect(e).toBe(boom);
  });

  test("a thenable whose then throws fails the future", async () => {
    const boom = new Error("then broke");
    const e = await runVirtual(function* () {
      const thenable: PromiseLike<number> = {
        then: () => {
          throw boom;
        },
      };
      return yield* catching(ensureFuture(thenable));
    });
    expect(e).toBe(boom);
  });

  test("a function with a then method is a thenable too, and is adopted", async () => {
    const callableThenable = Object.assign(() => 0, {
      then: (resolve: (v: number) => void) => resolve(7),
    }) as unknown as PromiseLike<number>;
    const v = await runVirtual(function* () {
      return yield* ensureFuture(callableThenable);
    });
    expect(v).toBe(7);
  });

  test("a thenable that calls back twice settles its own future once, and no other", async () => {
    const out = await runVirtual(function* () {
      let callBack!: (v: number) => void;
      const thenable: PromiseLike<number> = {
        then: ((onFulfilled: (v: number) => void) => void (callBack = onFulfilled)) as never,
      };
      const first = ensureFuture(thenable);
      callBack(1);
      const v1 = yield* first;
      // Promises adopted since then must not take what the thenable calls back with later.
      let resolve!: (v: number) => void;
      const pending = [ensureFuture(new Promise<number>((r) => (resolve = r))), ensureFuture(Promise.resolve(3))];
      callBack(2);
      const v3 = yield* pending[1] as Future<number>;
      const stillPending = !(pending[0] as Future<number>).done();
      resolve(4);
      const v4 = yield* pending[0] as Future<number>;
      return [v1, first.result(), v3, stillPending, v4];
    });
    expect(out).toEqual([1, 1, 3, true, 4]);
  });

  test("a Promise subclass with its own then is a foreign thenable: calling back twice settles its own future once, and no other", async () => {
    const callBacks: ((v: number) => void)[] = [];
    class Twice extends Promise<number> {
      override then<R1, R2>(onFulfilled?: ((v: number) => R1 | PromiseLike<R1>) | null): Promise<R1 | R2> {
        callBacks.push(onFulfilled as (v: number) => void);
        return Promise.resolve(undefined as R1);
      }
    }
    const out = await runVirtual(function* () {
      const first = ensureFuture(new Twice(() => {}));
      (callBacks[0] as (v: number) => void)(1);
      const v1 = yield* first;
      // Neither a native Promise nor another subclass instance adopted since then may take
      // what the first one calls back with later.
      let resolve!: (v: number) => void;
      const pending = [ensureFuture(new Promise<number>((r) => (resolve = r))), ensureFuture(Promise.resolve(3)), ensureFuture(new Twice(() => {}))];
      (callBacks[0] as (v: number) => void)(2);
      const v3 = yield* pending[1] as Future<number>;
      const stillPending = [!(pending[0] as Future<number>).done(), !(pending[2] as Future<number>).done()];
      resolve(4);
      (callBacks[1] as (v: number) => void)(5);
      return [v1, first.result(), v3, stillPending, yield* pending[0] as Future<number>, yield* pending[2] as Future<number>];
    });
    expect(out).toEqual([1, 1, 3, [true, true], 4, 5]);
  });

  test("many Promises settling at once each deliver their own outcome, in order", async () => {
    const out = await runVirtual(function* () {
      const resolvers: ((v: number) => void)[] = [];
      const futures = Array.from({ length: 100 }, () => ensureFuture(new Promise<number>((r) => resolvers.push(r))));
      // Settled in reverse, so that reactions taken from the pool serve other Promises than at first.
      for (let i = resolvers.length - 1; i >= 0; i--) (resolvers[i] as (v: number) => void)(i);
      const values: number[] = [];
      for (const f of futures) values.push(yield* f);
      for (let i = 0; i < 100; i++) values.push(yield* ensureFuture(Promise.resolve(100 + i)));
      return values;
    });
    expect(out).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  test("the loop counts an adopted Promise as outside work until it settles", async () => {
    const out = await runVirtual(function* () {
      let resolve!: (v: number) => void;
      const f = ensureFuture(new Promise<number>((r) => (resolve = r)));
      const loop = getRunningLoop();
      // A timer is pending too, but the virtual clock may not jump to it while the Promise
      // is counted as outside work; the Promise is resolved from outside a little later.
      loop.callLater(100, () => {});
      setImmediate(() => setImmediate(() => resolve(1)));
      const start = loop.time();
      const v = yield* f;
      return [v, loop.time() - start];
    });
    expect(out).toEqual([1, 0]);
  });

  test("cancelling the adopted future drops the Promise's outcome, even a rejection", async () => {
    const out = await runVirtual(function* () {
      let reject!: (e: unknown) => void;
      const f = ensureFuture(new Promise<number>((_r, j) => (reject = j)));
      f.cancel();
      reject(new Error("ignored"));
      yield* sleep(1);
      return f.cancelled();
    });
    expect(out).toBe(true);
  });

  test("a Future is returned as it is; a coroutine becomes a task; an awaitable object too", async () => {
    const out = await runVirtual(function* () {
      const f = new Future<number>();
      const t = ensureFuture(
        (function* () {
          return 1;
        })(),
      );
      const awaitable: Awaitable<number> = {
        *[Symbol.iterator](): Coroutine<number> {
          yield* sleep(1);
          return 2;
        },
      };
      const a = ensureFuture(awaitable);
      return [ensureFuture(f) === f, t instanceof Task, yield* t, a instanceof Task, yield* a];
    });
    expect(out).toEqual([true, true, 1, true, 2]);
  });

  test("a coroutine becomes a task that runs that very coroutine (getCoro), as asyncio's ensure_future", async () => {
    const same = await runVirtual(function* () {
      const coro = (function* () {
        yield;
        return 1;
      })();
      const task = ensureFuture(coro) as Task<number>;
      const ok = task.getCoro() === coro;
      yield* task;
      return ok;
    });
    expect(same).toBe(true);
  });

  test("a non-awaitable is a TypeError, inside the loop or outside it", async () => {
    expect(() => ensureFuture(42 as never)).toThrow(TypeError);
    expect(() => ensureFuture(null as never)).toThrow(TypeError);
    await runVirtual(function* () {
      expect(() => ensureFuture(42 as never)).toThrow(TypeError);
      expect(() => ensureFuture({} as never)).toThrow(/must be a Future, a coroutine/);
      // A string is iterable, a primitive is not awaitable: neither reaches a task.
      expect(() => ensureFuture("abc" as never)).toThrow(/^ensureFuture\(value\): value must be a Future, a coroutine/);
      expect(() => ensureFuture(null as never)).toThrow(/^ensureFuture\(value\): value must be a Future, a coroutine/);
      expect(() => ensureFuture(7 as never)).toThrow(/^ensureFuture\(value\): value must be a Future, a coroutine/);
    });
  });

  test("outside the loop it needs the loop; a future of another loop is refused", () => {
    const a = new EventLoop({ poller: new VirtualPoller() });
    const b = new EventLoop({ poller: new VirtualPoller() });
    expect(() => ensureFuture(Promise.resolve(1))).toThrow(/no running event loop/);
    const f = ensureFuture(Promise.resolve(1), a);
    expect(f.getLoop()).toBe(a);
    expect(() => ensureFuture(f, b)).toThrow(RangeError);
    a.close();
    b.close();
  });

  test("a Promise settling after its loop closed is ignored", async () => {
    const loop = new EventLoop({ poller: new VirtualPoller() });
    let resolve!: (v: number) => void;
    const f = ensureFuture(new Promise<number>((r) => (resolve = r)), loop);
    loop.close();
    resolve(1);
    await Promise.resolve();
    await Promise.resolve();
    expect(f.done()).toBe(false);
  });

  test("an already resolved Promise still costs a trip through the loop (one turn or more)", async () => {
    const d = await runVirtual(function* () {
      const t0 = turn();
      yield* ensureFuture(Promise.resolve(1));
      return turn() - t0;
    });
    expect(d).toBeGreaterThanOrEqual(1);
  });
});

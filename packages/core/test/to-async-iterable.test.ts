import { describe, expect, test } from "vitest";
import {
  CancelledError,
  EventLoop,
  currentTask,
  ensureFuture,
  fromIterable,
  getRunningLoop,
  produce,
  run,
  toAsyncIterable,
  type Coroutine,
  type Stream,
  type Task,
} from "../src/index.js";
import { sleep, turns } from "./helpers.js";

describe("toAsyncIterable", () => {
  test("for await beside the loop reads the stream; break cancels the producing task and releases the source", async () => {
    const log: string[] = [];
    await run(function* () {
      const loop = getRunningLoop();
      const s = produce<number>(function* (send) {
        try {
          for (let i = 0; ; i++) {
            yield* sleep(1);
            yield* send(i);
          }
        } finally {
          log.push("producer finally");
        }
      });
      const iterable = toAsyncIterable(s, loop);
      const consumer = (async () => {
        for await (const v of iterable) {
          log.push(`got ${v}`);
          if (v === 2) break;
        }
        log.push("for await done");
      })();
      yield* ensureFuture(consumer);
      yield* turns(3);
    });
    expect(log).toEqual(["got 0", "got 1", "got 2", "producer finally", "for await done"]);
  });

  test("values are pulled only as for await asks: nothing is read ahead", async () => {
    const pulled: number[] = [];
    await run(function* () {
      const s = produce<number>(function* (send) {
        for (let i = 0; i < 100; i++) {
          pulled.push(i);
          yield* send(i);
        }
      });
      const it = toAsyncIterable(s);
      const first = yield* ensureFuture(it.next());
      expect(first).toEqual({ done: false, value: 0 });
      yield* turns(10);
      expect(pulled.length).toBeLessThanOrEqual(2);
      yield* ensureFuture(it.return!());
    });
  });

  test("a failing stream rejects the pending next() with its error, then ends", async () => {
    await run(function* () {
      const s = produce<number>(function* () {
        yield* sleep(1);
        throw new Error("stream failed");
      });
      const it = toAsyncIterable(s);
      const error = yield* ensureFuture(it.next().then(() => null, (e: unknown) => e));
      expect((error as Error).message).toBe("stream failed");
      expect(yield* ensureFuture(it.next())).toEqual({ done: true, value: undefined });
    });
  });

  test("the loop ending cancels the task; a pending next() rejects with CancelledError", async () => {
    let pending: Promise<unknown> | undefined;
    await run(function* () {
      const never = produce<number>(function* () {
        yield* getRunningLoop().createFuture<void>();
      });
      pending = toAsyncIterable(never).next().then(() => "resolved", (e: unknown) => e);
      yield* turns(2);
    });
    expect(await pending).toBeInstanceOf(CancelledError);
  });

  test("from outside a loop it needs the loop", () => {
    expect(() => toAsyncIterable(fromIterable([1]))).toThrow(/needs the loop/);
    const loop = new EventLoop();
    expect(() => toAsyncIterable(fromIterable([1]), loop)).not.toThrow();
    loop.close();
  });
});

/**
 * A stream that logs what is asked of it: each next() gives the next of `values` after one
 * loop turn (at once if `immediate`; or waits forever once `values` run out and `endless` is set), then the end.
 */
function loggedStream(log: string[], values: number[], options: { endless?: boolean; failAfter?: boolean; immediate?: boolean } = {}): Stream<number> & { task?: Task<unknown> } {
  const stream: Stream<number> & { task?: Task<unknown> } = {
    subscribe() {
      stream.task = currentTask() ?? undefined;
      let i = 0;
      return {
        *next(): Coroutine<IteratorResult<number, undefined>> {
          log.push("next");
          if (options.immediate !== true) yield* turns(1);
          if (i < values.length) return { done: false, value: values[i++] as number };
          if (options.failAfter === true) throw new RangeError("stream failed");
          if (options.endless === true) {
            try {
              yield* getRunningLoop().createFuture<never>();
            } catch (error) {
              log.push(`read cancelled: ${(error as Error).message}`);
              throw error;
            }
          }
          return { done: true, value: undefined };
        },
        return() {
          log.push("released");
        },
      };
    },
  };
  return stream;
}

describe("toAsyncIterable: the pump, ends and returns", () => {
  test("not a stream: a TypeError at the call naming the function and the fix", () => {
    expect(() => toAsyncIterable(5 as never)).toThrow(
      new TypeError(
        "toAsyncIterable(stream): stream must be a Stream (an object with subscribe()), such as fromAsyncIterable(x), queue.stream() or produce(fn)",
      ),
    );
  });

  test("a stream that ends: for await gets every value and ends, the source released before it sees the end", async () => {
    const log: string[] = [];
    await run(function* () {
      const iterable = toAsyncIterable(loggedStream(log, [1, 2, 3]));
      yield* ensureFuture(
        (async () => {
          for await (const v of iterable) log.push(`got ${v}`);
          log.push("for await done");
        })(),
      );
    });
    expect(log).toEqual(["next", "got 1", "next", "got 2", "next", "got 3", "next", "released", "for await done"]);
  });

  test("one read per next(), however long the consumer takes between them", async () => {
    const log: string[] = [];
    const got = await run(function* () {
      const it = toAsyncIterable(loggedStream(log, [1, 2, 3]));
      const got: unknown[] = [];
      for (let n = 0; n < 3; n++) {
        got.push((yield* ensureFuture(it.next())).value);
        yield* turns(5);
        log.push("pause");
      }
      return got;
    });
    expect(got).toEqual([1, 2, 3]);
    // Released when the loop ends, as the consumer never asked for the end.
    expect(log).toEqual(["next", "pause", "next", "pause", "next", "pause", "released"]);
  });

  test("the stream is read by a task named \"toAsyncIterable\", which ends without an error of its own", async () => {
    const stream = loggedStream([], [1]);
    await run(function* () {
      const it = toAsyncIterable(stream);
      expect(yield* ensureFuture(it.next())).toEqual({ done: false, value: 1 });
      expect(yield* ensureFuture(it.next())).toEqual({ done: true, value: undefined });
      yield* turns(1);
    });
    const task = stream.task;
    expect(task?.getName()).toBe("toAsyncIterable");
    expect(task?.done()).toBe(true);
    expect(task?.exception()).toBe(null);
  });

  test("two next() calls waiting when the stream fails: the first rejects with its error, the second ends", async () => {
    const outcomes = await run(function* () {
      const it = toAsyncIterable(loggedStream([], [], { failAfter: true }));
      const settle = (p: Promise<unknown>): Promise<unknown> => p.then((r) => r, (e: unknown) => e);
      const both = Promise.all([settle(it.next()), settle(it.next())]);
      return yield* ensureFuture(both);
    });
    expect(outcomes[0]).toBeInstanceOf(RangeError);
    expect((outcomes[0] as Error).message).toBe("stream failed");
    expect(outcomes[1]).toEqual({ done: true, value: undefined });
  });

  test("return() before any next() ends at once and reads nothing", async () => {
    const log: string[] = [];
    const out = await run(function* () {
      const it = toAsyncIterable(loggedStream(log, [1]));
      const returned = yield* ensureFuture(it.return!());
      return [returned, yield* ensureFuture(it.next())];
    });
    expect(out).toEqual([
      { done: true, value: undefined },
      { done: true, value: undefined },
    ]);
    expect(log).toEqual([]);
  });

  test("after return(), next() gives done at once and a second return() does not wait for the release", async () => {
    const log: string[] = [];
    await run(function* () {
      const it = toAsyncIterable(loggedStream(log, [1, 2]));
      expect(yield* ensureFuture(it.next())).toEqual({ done: false, value: 1 });
      const first = it.return!().then(() => log.push("first return() settled"));
      const second = it.return!().then(() => log.push("second return() settled"));
      const next = it.next().then((r) => log.push(`next() after return(): ${JSON.stringify(r)}`));
      yield* ensureFuture(Promise.all([first, second, next]));
    });
    // The first return() settles once the source is released; the second and the next() at once.
    expect(log.filter((line) => line !== "released")).toEqual([
      "next",
      "second return() settled",
      'next() after return(): {"done":true}',
      "first return() settled",
    ]);
    expect(log.indexOf("released")).toBeLessThan(log.indexOf("first return() settled"));
  });

  test("a return() while a next() waits cancels the read with a CancelledError saying why, and that next() rejects with it", async () => {
    const log: string[] = [];
    const error = await run(function* () {
      const it = toAsyncIterable(loggedStream(log, [], { endless: true }));
      const pending = it.next().then(() => null, (e: unknown) => e);
      yield* turns(3);
      yield* ensureFuture(it.return!());
      return yield* ensureFuture(pending);
    });
    const why = "the async iterator was returned (a break in for await)";
    expect(log).toEqual(["next", `read cancelled: ${why}`, "released"]);
    expect(error).toBeInstanceOf(CancelledError);
    expect((error as Error).message).toBe(why);
  });

  test("a next() asked just before the loop ends rejects with CancelledError saying so; nothing is reported", async () => {
    const reported: unknown[] = [];
    let pending: Promise<unknown> | undefined;
    await run(function* () {
      getRunningLoop().setExceptionHandler((_, ctx) => reported.push(ctx.exception ?? ctx.message));
      const it = toAsyncIterable(loggedStream([], [1, 2]));
      yield* ensureFuture(it.next());
      yield* turns(2); // the pump waits for demand
      pending = it.next().then(() => null, (e: unknown) => e);
      // The main coroutine ends here: the loop cancels the pump before the demand reaches it.
    });
    const error = await pending;
    expect(error).toBeInstanceOf(CancelledError);
    expect((error as Error).message).toBe("the loop cancelled the task reading the stream");
    expect(reported).toEqual([]);
  });

  test("next() calls made while the pump is reading are answered in order; nothing is reported", async () => {
    const reported: unknown[] = [];
    const got = await run(function* () {
      getRunningLoop().setExceptionHandler((_, ctx) => reported.push(ctx.exception ?? ctx.message));
      const it = toAsyncIterable(loggedStream([], [1, 2, 3]));
      const all = Promise.all([it.next(), it.next(), it.next(), it.next()]);
      return yield* ensureFuture(all);
    });
    expect(got.map((r) => r.value)).toEqual([1, 2, 3, undefined]);
    expect(reported).toEqual([]);
  });

  test("a return() made while the first read is under way: that read is answered, and the pump stops by itself without being cancelled", async () => {
    const log: string[] = [];
    const stream = loggedStream(log, [1, 2], { immediate: true });
    const out = await run(function* () {
      const it = toAsyncIterable(stream);
      const first = it.next();
      const returned = it.return!();
      return yield* ensureFuture(Promise.all([first, returned]));
    });
    expect(out).toEqual([
      { done: false, value: 1 },
      { done: true, value: undefined },
    ]);
    expect(log).toEqual(["next", "released"]);
    expect(stream.task?.cancelled()).toBe(false);
  });
});

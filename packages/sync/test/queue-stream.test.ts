import { CancelledError, createTask, each, ensureFuture, filter, take, gather, run, subscribe, toAsyncIterable, type Coroutine } from "@loop/core";
import { describe, expect, test } from "vitest";
import { Queue, fromQueue } from "../src/index.js";
import { thrown, turns } from "./helpers.js";

describe("Queue as a stream", () => {
  test("each gives the items in order until shutdown; the loop then ends without an error", async () => {
    const out = await run(function* () {
      const queue = new Queue<number>(2);
      createTask(
        (function* (): Coroutine<void> {
          for (let i = 0; i < 5; i++) yield* queue.put(i);
          queue.shutdown();
        })(),
      );
      const out: number[] = [];
      for (const n of yield* each(queue.stream())) {
        out.push(n);
        yield* each.next();
      }
      return out;
    });
    expect(out).toEqual([0, 1, 2, 3, 4]);
  });

  test("a pool of workers shares the items, and join() waits for their loop bodies", async () => {
    const log = await run(function* () {
      const queue = new Queue<number>();
      const log: string[] = [];
      function* worker(name: string): Coroutine<void> {
        for (const job of yield* each(fromQueue(queue))) {
          yield* turns(job);
          log.push(`${name} did ${job}`);
          yield* each.next();
        }
      }
      for (const job of [3, 1, 2, 1]) queue.putNowait(job);
      const workers = [createTask(worker("a")), createTask(worker("b"))];
      yield* queue.join();
      log.push("joined");
      queue.shutdown();
      yield* gather(workers);
      return log;
    });
    expect(log.slice(-1)).toEqual(["joined"]);
    expect(log).toHaveLength(5);
  });

  test("a consumer cancelled while waiting takes no item: the next consumer gets it", async () => {
    await run(function* () {
      const queue = new Queue<string>();
      const first = createTask(
        (function* (): Coroutine<void> {
          for (const _ of yield* each(queue.stream())) yield* each.next();
        })(),
      );
      yield* turns(2);
      first.cancel();
      queue.putNowait("item");
      expect(yield* thrown(first)).toBeInstanceOf(CancelledError);
      const sub = yield* subscribe(queue.stream());
      expect(yield* sub.next()).toEqual({ done: false, value: "item" });
      sub.return();
      expect(queue.qsize()).toBe(0);
    });
  });

  test("a body that throws marks its item done, so join() does not hang", async () => {
    await run(function* () {
      const queue = new Queue<number>();
      queue.putNowait(1);
      const error = yield* thrown(
        (function* () {
          for (const _ of yield* each(queue.stream())) throw new Error("job failed");
        })(),
      );
      expect((error as Error).message).toBe("job failed");
      yield* queue.join(); // returns: the item was marked done
    });
  });

  test("toAsyncIterable over a queue feeds for await code; break cancels the reader", async () => {
    const got = await run(function* () {
      const queue = new Queue<number>();
      for (let i = 0; i < 10; i++) queue.putNowait(i);
      const iterable = toAsyncIterable(queue.stream());
      const got: number[] = [];
      const reader = (async () => {
        for await (const n of iterable) {
          got.push(n);
          if (n === 2) break;
        }
      })();
      yield* ensureFuture(reader);
      yield* turns(2);
      // 0, 1, 2 taken (2 marked done on break); nothing read ahead.
      expect(queue.qsize()).toBe(7);
      return got;
    });
    expect(got).toEqual([0, 1, 2]);
  });

  test("through filter and take, queued items are taken just as far as needed", async () => {
    const out = await run(function* () {
      const queue = new Queue<number>();
      for (let i = 0; i < 10; i++) queue.putNowait(i);
      const out: number[] = [];
      for (const n of yield* each(take(filter(queue.stream(), (x) => x % 2 === 0), 3))) {
        out.push(n);
        yield* each.next();
      }
      // 0..4 taken (1 and 3 dropped by the filter), each marked done; 5..9 still queued.
      expect(queue.qsize()).toBe(5);
      for (let i = 0; i < 5; i++) queue.getNowait();
      for (let i = 0; i < 5; i++) queue.taskDone();
      yield* queue.join();
      return out;
    });
    expect(out).toEqual([0, 2, 4]);
  });

  test("a producer and an each() consumer take turns in the same order, item by item (event log)", async () => {
    const log = await run(function* () {
      const queue = new Queue<number>(2);
      const log: string[] = [];
      createTask(
        (function* (): Coroutine<void> {
          for (let i = 0; i < 5; i++) {
            log.push(`put ${i}`);
            yield* queue.put(i);
          }
          log.push("shutdown");
          queue.shutdown();
        })(),
      );
      for (const n of yield* each(queue.stream())) {
        log.push(`got ${n}`);
        yield* each.next();
      }
      log.push("end");
      return log;
    });
    // The producer fills the queue and waits; the consumer drains what is queued without
    // waiting (the slot it frees is promised to the producer, who runs only when the
    // consumer waits), and so on. The order main had before puts were reused.
    expect(log).toEqual([
      "put 0", "put 1", "put 2",
      "got 0", "got 1",
      "put 3", "put 4",
      "got 2", "got 3",
      "shutdown",
      "got 4",
      "end",
    ]);
  });

  test("a consumer cancelled in its loop body between items loses nothing: the rest go to the next consumer", async () => {
    await run(function* () {
      const queue = new Queue<number>(3);
      const seen: number[] = [];
      const producer = createTask(
        (function* (): Coroutine<void> {
          for (let i = 0; i < 8; i++) yield* queue.put(i);
          queue.shutdown();
        })(),
      );
      const first = createTask(
        (function* (): Coroutine<void> {
          for (const n of yield* each(queue.stream())) {
            seen.push(n);
            if (n === 2) yield* turns(100); // cancelled here, holding item 2
            yield* each.next();
          }
        })(),
      );
      while (!seen.includes(2)) yield* turns(1);
      first.cancel();
      expect(yield* thrown(first)).toBeInstanceOf(CancelledError);
      for (const n of yield* each(queue.stream())) {
        seen.push(n);
        yield* each.next();
      }
      yield* producer;
      expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      yield* queue.join(); // item 2 was marked done when the cancelled loop was left
    });
  });

  test("fromQueue of something else is a TypeError", () => {
    expect(() => fromQueue({} as never)).toThrow(TypeError);
  });
});

describe("Queue as a stream, released from another task", () => {
  test("a consumer waiting for an item sees the end; the item put afterwards stays in the queue", async () => {
    const log = await run(function* () {
      const log: string[] = [];
      const queue = new Queue<number>();
      const sub = yield* subscribe(queue.stream());
      const consumer = createTask(
        (function* (): Coroutine<void> {
          const r = yield* sub.next();
          log.push(`consumer got done=${String(r.done)}`);
        })(),
      );
      yield* turns(2);
      sub.return();
      log.push("released");
      yield* consumer;
      queue.putNowait(1);
      log.push(`queue holds ${queue.qsize()}`);
      return log;
    });
    expect(log).toEqual(["released", "consumer got done=true", "queue holds 1"]);
  });

  test("an item already kept for the waiting consumer goes to the next getter, not lost", async () => {
    const got = await run(function* () {
      const queue = new Queue<string>();
      const sub = yield* subscribe(queue.stream());
      const consumer = createTask(
        (function* (): Coroutine<IteratorResult<string, undefined>> {
          return yield* sub.next();
        })(),
      );
      yield* turns(2);
      // The item is promised to the waiting consumer, then the release comes before it runs:
      // the consumer still gets it (nothing is taken from it), and nothing is lost.
      queue.putNowait("a");
      sub.return();
      const r = yield* consumer;
      return { r, left: queue.qsize() };
    });
    expect(got).toEqual({ r: { done: false, value: "a" }, left: 0 });
  });

  test("a cancel() of the consumer's task in the same turn as the release is not swallowed", async () => {
    const outcome = await run(function* () {
      const queue = new Queue<number>();
      const sub = yield* subscribe(queue.stream());
      const consumer = createTask(
        (function* (): Coroutine<string> {
          const r = yield* sub.next();
          return `done=${String(r.done)}`;
        })(),
      );
      yield* turns(2);
      sub.return();
      consumer.cancel();
      return yield* thrown(consumer);
    });
    expect(outcome).toBeInstanceOf(CancelledError);
  });
});

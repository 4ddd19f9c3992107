import { describe, expect, test } from "vitest";
import {
  CancelledError,
  EventLoop,
  ensureFuture,
  fromIterable,
  getRunningLoop,
  produce,
  run,
  toAsyncIterable,
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

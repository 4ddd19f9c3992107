/**
 * Where a `chunks`/`lines` subscription ends: at the end of the stream, at a failed read,
 * at its release; once ended it reads nothing more, so the reader keeps its bytes and a
 * later error of the reader does not reach it. And what each kind hands out.
 */
import { Buffer } from "node:buffer";
import { CancelledError, createTask, type Awaitable, type Coroutine } from "@loop/core";
import { runVirtual } from "@loop/testing";
import { describe, expect, it } from "vitest";
import { LimitOverrunError, StreamReader, chunks, lines } from "../src/index.js";

function* outcome(coro: Coroutine<unknown> | Awaitable<unknown>): Coroutine<unknown> {
  try {
    return yield* coro;
  } catch (error) {
    return error;
  }
}

describe("a reader's subscription, once ended, reads no more", () => {
  it("ended by the end of the stream, it stays ended when the reader fails afterwards", async () => {
    await runVirtual(function* () {
      for (const stream of [(r: StreamReader) => chunks(r), (r: StreamReader) => lines(r)]) {
        const reader = new StreamReader();
        const subscription = stream(reader).subscribe();
        reader.feedEof();
        expect(yield* subscription.next()).toEqual({ done: true, value: undefined });
        reader.setException(new Error("reset after the end"));
        expect(yield* subscription.next()).toEqual({ done: true, value: undefined });
      }
    });
  });

  it("ended by a failed read, the next pull is the end and leaves the rest to the reader", async () => {
    await runVirtual(function* () {
      const reader = new StreamReader({ limit: 4 });
      reader.feedData(Buffer.from("much too long\nok\n"));
      const subscription = lines(reader).subscribe();
      expect(yield* outcome(subscription.next())).toBeInstanceOf(LimitOverrunError);
      expect(yield* subscription.next()).toEqual({ done: true, value: undefined });
      expect(Buffer.from(yield* reader.readline()).toString()).toBe("ok\n");
    });
  });

  it("ended by its release, the next pull is the end and the reader keeps its bytes", async () => {
    await runVirtual(function* () {
      const reader = new StreamReader();
      reader.feedData(Buffer.from("a\nb\n"));
      const subscription = lines(reader).subscribe();
      expect(yield* subscription.next()).toEqual({ done: false, value: "a" });
      subscription.return?.();
      expect(yield* subscription.next()).toEqual({ done: true, value: undefined });
      expect(reader.bufferedSize).toBe(2);
    });
  });
});

describe("what a reader's subscription hands out", () => {
  it("chunks are the bytes (Uint8Array, as read); lines are strings, an empty line and a lone \\r\\n included", async () => {
    await runVirtual(function* () {
      const reader = new StreamReader();
      const fed = Buffer.from("ab");
      reader.feedData(fed);
      const chunk = yield* chunks(reader).subscribe().next();
      expect(chunk.value).toBe(fed);
      reader.feedData(Buffer.from("\n\r\nx\r\n"));
      reader.feedEof();
      const subscription = lines(reader).subscribe();
      const out: unknown[] = [];
      for (let step = yield* subscription.next(); step.done !== true; step = yield* subscription.next()) out.push(step.value);
      expect(out).toEqual(["", "", "x"]);
    });
  });
});

describe("a release from another task", () => {
  it("cancels only the subscription's own wait: a read of the reader by someone else goes on, before or after the subscription read", async () => {
    await runVirtual(function* () {
      const reader = new StreamReader();
      const unused = lines(reader).subscribe();
      const used = lines(reader).subscribe();
      reader.feedData(Buffer.from("first\n"));
      expect(yield* used.next()).toEqual({ done: false, value: "first" });
      const other = createTask(reader.readline());
      yield;
      unused.return?.();
      used.return?.();
      reader.feedData(Buffer.from("other\n"));
      expect(Buffer.from(yield* other).toString()).toBe("other\n");
    });
  });

  it("in the turn data woke the consumer: the consumer gets its line, or the error of its read, then the end", async () => {
    await runVirtual(function* () {
      const reader = new StreamReader({ limit: 4 });
      const subscription = lines(reader).subscribe();
      const woken = createTask(subscription.next());
      yield;
      reader.feedData(Buffer.from("ok\n"));
      subscription.return?.();
      expect(yield* woken).toEqual({ done: false, value: "ok" });
      expect(yield* subscription.next()).toEqual({ done: true, value: undefined });
      const failing = lines(reader).subscribe();
      const overrun = createTask(failing.next());
      yield;
      reader.feedData(Buffer.from("much too long\n"));
      failing.return?.();
      expect(yield* outcome(overrun)).toBeInstanceOf(LimitOverrunError);
    });
  });

  it("a CancelledError that is the reader's own error is thrown, not taken for a release", async () => {
    await runVirtual(function* () {
      const reader = new StreamReader();
      const subscription = chunks(reader).subscribe();
      const consumer = createTask(subscription.next());
      yield;
      const error = new CancelledError("the reader's");
      reader.setException(error);
      expect(yield* outcome(consumer)).toBe(error);
    });
  });

  it("with a cancel() of the consumer's task in the same turn, the consumer's CancelledError says the stream was released", async () => {
    await runVirtual(function* () {
      const reader = new StreamReader();
      const subscription = chunks(reader).subscribe();
      const consumer = createTask(subscription.next());
      yield;
      subscription.return?.();
      consumer.cancel();
      const error = yield* outcome(consumer);
      expect(error).toBeInstanceOf(CancelledError);
      expect((error as Error).message).toBe("the stream was released");
    });
  });
});

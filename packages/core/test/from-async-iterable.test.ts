import { EventEmitter, on } from "node:events";
import { Readable } from "node:stream";
import { describe, expect, test } from "vitest";
import {
  CancelledError,
  createTask,
  each,
  fromAsyncIterable,
  getRunningLoop,
  run,
  type Coroutine,
} from "../src/index.js";
import { catching, runVirtual, turns } from "./helpers.js";

describe("fromAsyncIterable", () => {
  test("iterates an async generator and runs its finally when the consumer breaks", async () => {
    const log: string[] = [];
    async function* source(): AsyncGenerator<number> {
      try {
        for (let i = 0; ; i++) {
          log.push(`yield ${i}`);
          yield i;
        }
      } finally {
        log.push("source finally");
      }
    }
    await runVirtual(function* () {
      for (const v of yield* each(fromAsyncIterable(source()))) {
        if (v === 2) break;
        yield* each.next();
      }
    });
    expect(log).toEqual(["yield 0", "yield 1", "yield 2", "source finally"]);
  });

  test("a rejecting iterator ends the loop with that error at the yield*", async () => {
    async function* source(): AsyncGenerator<number> {
      yield 1;
      throw new Error("async source failed");
    }
    const error = await runVirtual(function* () {
      return yield* catching(
        (function* () {
          for (const _ of yield* each(fromAsyncIterable(source()))) yield* each.next();
        })(),
      );
    });
    expect((error as Error).message).toBe("async source failed");
  });

  test("cancelling the consumer while a read waits destroys a Readable at once", async () => {
    const readable = new Readable({ read() {} }); // never produces by itself
    readable.push("first");
    await run(function* () {
      const consumer = createTask(
        (function* (): Coroutine<void> {
          for (const _ of yield* each(fromAsyncIterable(readable))) yield* each.next();
        })(),
      );
      yield* turns(5);
      expect(readable.destroyed).toBe(false);
      consumer.cancel();
      expect(yield* catching(consumer)).toBeInstanceOf(CancelledError);
      expect(readable.destroyed).toBe(true);
    });
  });

  test("a slow consumer of a large Readable keeps the buffered bytes bounded", async () => {
    const chunk = Buffer.alloc(16 * 1024, 1);
    const total = 64 * 1024 * 1024; // 64 MiB offered
    let produced = 0;
    let mostBuffered = 0;
    const readable = new Readable({
      highWaterMark: 64 * 1024,
      read() {
        if (produced >= total) {
          this.push(null);
          return;
        }
        produced += chunk.length;
        this.push(chunk);
      },
    });
    let consumed = 0;
    await run(function* () {
      for (const c of yield* each(fromAsyncIterable<Buffer>(readable))) {
        consumed += c.length;
        mostBuffered = Math.max(mostBuffered, readable.readableLength);
        // A slow consumer: ten loop turns per chunk, without sleeping.
        yield* turns(10);
        if (consumed >= 4 * 1024 * 1024) break;
        yield* each.next();
      }
    });
    // The source produced only what was pulled plus its high-water mark, not the 64 MiB.
    expect(mostBuffered).toBeLessThanOrEqual(64 * 1024 + chunk.length);
    expect(produced - consumed).toBeLessThanOrEqual(64 * 1024 + 2 * chunk.length);
    expect(readable.destroyed).toBe(true);
  });

  test("a Readable's chunks arrive whole and in order, whether buffered or arriving later", async () => {
    const parts = Array.from({ length: 50 }, (_, i) => `part ${i};`);
    let next = 0;
    const readable = new Readable({
      highWaterMark: 32,
      read() {
        // Alternate: some chunks pushed at once, some from a later macrotask.
        if (next === parts.length) this.push(null);
        else if (next % 3 === 0) setImmediate(() => this.push(parts[next++]));
        else this.push(parts[next++]);
      },
    });
    const text = await run(function* () {
      let text = "";
      for (const chunk of yield* each(fromAsyncIterable<Buffer>(readable))) {
        text += chunk.toString();
        yield* turns(1);
        yield* each.next();
      }
      return text;
    });
    expect(text).toBe(parts.join(""));
  });

  test("a function source gets a signal that aborts when the stream is released", async () => {
    let seen: AbortSignal | undefined;
    await runVirtual(function* () {
      const s = fromAsyncIterable(async function* (signal) {
        seen = signal;
        for (let i = 0; ; i++) yield i;
      });
      for (const v of yield* each(s)) {
        expect(seen?.aborted).toBe(false);
        if (v === 3) break;
        yield* each.next();
      }
    });
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBeInstanceOf(CancelledError);
  });

  test("cancelling a consumer of a fetch body aborts the request, even while a read waits", async () => {
    const { createServer } = await import("node:http");
    let closed: () => void = () => {};
    const serverSawClose = new Promise<void>((resolve) => (closed = resolve));
    const server = createServer((_req, res) => {
      res.write("first chunk"); // then nothing more: the body stays open
      res.on("close", closed);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as import("node:net").AddressInfo;
    try {
      const got = await run(function* () {
        const body = fromAsyncIterable(async function* (signal) {
          const response = await fetch(`http://127.0.0.1:${port}/`, { signal });
          yield* response.body as unknown as AsyncIterable<Uint8Array>;
        });
        const got: string[] = [];
        const firstChunk = getRunningLoop().createFuture<void>();
        const consumer = createTask(
          (function* (): Coroutine<void> {
            for (const chunk of yield* each(body)) {
              got.push(Buffer.from(chunk).toString());
              if (!firstChunk.done()) firstChunk.setResult();
              yield* each.next(); // waits for a chunk that never comes
            }
          })(),
        );
        yield* firstChunk;
        consumer.cancel();
        expect(yield* catching(consumer)).toBeInstanceOf(CancelledError);
        return got;
      });
      expect(got).toEqual(["first chunk"]);
      await serverSawClose; // the request was aborted: the server saw the client go
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test("works with events.on and a fetch-like ReadableStream body", async () => {
    const body = new ReadableStream<string>({
      start(controller) {
        controller.enqueue("a");
        controller.enqueue("b");
        controller.close();
      },
    });
    const out = await runVirtual(function* () {
      const out: string[] = [];
      for (const part of yield* each(fromAsyncIterable(body))) {
        out.push(part);
        yield* each.next();
      }
      return out;
    });
    expect(out).toEqual(["a", "b"]);
  });

  test("not an async iterable: a TypeError at the call", () => {
    expect(() => fromAsyncIterable([1, 2] as never)).toThrow(TypeError);
  });
});

describe("the Node boundary", () => {
  test("events.on iterated through fromAsyncIterable, released on break", async () => {
    const emitter = new EventEmitter();
    await run(function* () {
      const s = fromAsyncIterable(on(emitter, "tick"));
      const consumer = createTask(
        (function* (): Coroutine<unknown[]> {
          const got: unknown[] = [];
          for (const args of yield* each(s)) {
            got.push((args as unknown[])[0]);
            if (got.length === 2) break;
            yield* each.next();
          }
          return got;
        })(),
      );
      yield* turns(2);
      emitter.emit("tick", "a");
      emitter.emit("tick", "b");
      expect(yield* consumer).toEqual(["a", "b"]);
      expect(emitter.listenerCount("tick")).toBe(0);
    });
  });
});

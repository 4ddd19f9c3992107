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
  subscribe,
  type Coroutine,
} from "../src/index.js";
import { catching, releasedWhileWaiting, runVirtual, turn, turns } from "./helpers.js";

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

describe("fromAsyncIterable: arguments and the Readable fast path", () => {
  const notIterable =
    "fromAsyncIterable(source): source must be an async iterable (a Node stream, a fetch body, an async generator) or a function (signal) => AsyncIterable";

  test("not an async iterable (null and undefined included): a TypeError at the call naming the fix", () => {
    for (const bad of [[1, 2], null, undefined, 5, "text", {}]) {
      expect(() => fromAsyncIterable(bad as never)).toThrow(new TypeError(notIterable));
    }
  });

  test("a fn that returns no async iterable: a TypeError when the stream is subscribed; a callable async iterable is taken", async () => {
    for (const bad of [5, null, undefined, [1]]) {
      const s = fromAsyncIterable((() => bad) as never);
      expect(() => s.subscribe()).toThrow(new TypeError("fromAsyncIterable(fn): fn must return an async iterable"));
    }
    // As for `for await`, a function with a [Symbol.asyncIterator]() method is an async iterable.
    const callable = Object.assign(() => {}, {
      async *[Symbol.asyncIterator]() {
        yield "from a callable";
      },
    });
    const out = await runVirtual(function* () {
      const out: string[] = [];
      for (const v of yield* each(fromAsyncIterable(() => callable))) {
        out.push(v);
        yield* each.next();
      }
      return out;
    });
    expect(out).toEqual(["from a callable"]);
  });

  test("a host without AbortController: fromAsyncIterable(fn) says so when subscribed", () => {
    const saved = globalThis.AbortController;
    (globalThis as { AbortController?: unknown }).AbortController = undefined;
    try {
      const s = fromAsyncIterable(async function* () {});
      expect(() => s.subscribe()).toThrow(new Error("fromAsyncIterable(fn) needs AbortController, which this JavaScript host lacks"));
    } finally {
      globalThis.AbortController = saved;
    }
  });

  test("the chunks a Readable already holds are handed over in order without waiting a loop turn each", async () => {
    const readable = new Readable({ objectMode: true, read() {} });
    for (const c of ["a", "b", "c"]) readable.push(c);
    const seen = await runVirtual(function* () {
      const seen: string[] = [];
      const start = turn();
      for (const c of yield* each(fromAsyncIterable<string>(readable))) {
        seen.push(`${c}@${turn() - start}`);
        if (c === "c") break;
        yield* each.next();
      }
      return seen;
    });
    // The first pull already reads "a" itself, as do the pulls of "b" and "c": no turn passes.
    expect(seen).toEqual(["a@0", "b@0", "c@0"]);
    expect(readable.destroyed).toBe(true);
  });

  test("the same read() fast path through subscribe(): buffered chunks are neither lost nor reordered", async () => {
    const readable = new Readable({ objectMode: true, read() {} });
    for (const c of [1, 2, 3]) readable.push(c);
    readable.push(null);
    const got = await runVirtual(function* () {
      const sub = yield* subscribe(fromAsyncIterable<number>(readable));
      const got: unknown[] = [];
      for (let r = yield* sub.next(); !r.done; r = yield* sub.next()) got.push(r.value);
      sub.return();
      return got;
    });
    expect(got).toEqual([1, 2, 3]);
  });

  test("only a Node Readable's read() is called: look-alikes are read through their iterator", async () => {
    function lookAlike(extra: object): AsyncIterable<string> {
      let reads = 0;
      return {
        ...extra,
        // Were it taken for a Readable, the value of its first read() would show up.
        read: "read" in extra ? () => (reads++ === 0 ? "read() was called" : null) : undefined,
        async *[Symbol.asyncIterator]() {
          yield "from the iterator";
        },
      } as AsyncIterable<string>;
    }
    const shapes = [
      { read: true }, // a read() of its own, nothing else of a Readable
      { read: true, readableLength: 1 },
      { read: true, readableObjectMode: true },
      { readableLength: 1, readableObjectMode: true }, // no read()
      { readableObjectMode: true },
    ];
    const out = await runVirtual(function* () {
      const out: string[][] = [];
      for (const shape of shapes) {
        const got: string[] = [];
        for (const v of yield* each(fromAsyncIterable(lookAlike(shape)))) {
          got.push(v);
          yield* each.next();
        }
        out.push(got);
      }
      return out;
    });
    expect(out).toEqual(shapes.map(() => ["from the iterator"]));
  });
});

describe("fromAsyncIterable: releasing the source", () => {
  /** An async iterable that logs what is asked of it; its iterator gives `values`, then done with 42. */
  function logged(log: string[], values: number[], extra: object = {}): AsyncIterable<number> {
    return {
      ...extra,
      [Symbol.asyncIterator]() {
        let i = 0;
        return {
          next: () => {
            log.push("next");
            return Promise.resolve(i < values.length ? { done: false as const, value: values[i++] as number } : { done: true as const, value: 42 });
          },
          return: () => {
            log.push("return");
            return Promise.resolve({ done: true as const, value: undefined });
          },
        };
      },
    };
  }

  test("return() releases once however often it is called; later next() calls give done without reading", async () => {
    const log: string[] = [];
    const source = logged(log, [1, 2], { destroyed: false, destroy: () => log.push("destroy") });
    await runVirtual(function* () {
      const sub = yield* subscribe(fromAsyncIterable(source));
      expect(yield* sub.next()).toEqual({ done: false, value: 1 });
      sub.return();
      sub.return();
      expect(yield* sub.next()).toEqual({ done: true, value: undefined });
    });
    expect(log).toEqual(["next", "destroy", "return"]);
  });

  test("a source that ends by itself is not aborted, destroyed or returned, and next() then gives a bare done", async () => {
    const log: string[] = [];
    let signal: AbortSignal | undefined;
    await runVirtual(function* () {
      const sub = yield* subscribe(
        fromAsyncIterable((s) => {
          signal = s;
          return logged(log, [1], { destroyed: false, destroy: () => log.push("destroy") });
        }),
      );
      expect(yield* sub.next()).toEqual({ done: false, value: 1 });
      // The iterator's own return value (42) is not handed on: a stream ends with { done: true }.
      expect(yield* sub.next()).toEqual({ done: true, value: undefined });
      expect(yield* sub.next()).toEqual({ done: true, value: undefined });
      sub.return();
    });
    expect(log).toEqual(["next", "next"]);
    expect(signal?.aborted).toBe(false);
  });

  test("the abort reason is a CancelledError saying the stream was released", async () => {
    let signal: AbortSignal | undefined;
    await runVirtual(function* () {
      const sub = yield* subscribe(
        fromAsyncIterable((s) => {
          signal = s;
          return (async function* () {
            yield 1;
          })();
        }),
      );
      sub.return();
    });
    expect(signal?.reason).toBeInstanceOf(CancelledError);
    expect((signal?.reason as CancelledError).message).toBe("the stream was released");
  });

  test("a source already destroyed is not destroyed again; its iterator is still returned", async () => {
    const log: string[] = [];
    await runVirtual(function* () {
      const sub = yield* subscribe(fromAsyncIterable(logged(log, [1], { destroyed: true, destroy: () => log.push("destroy") })));
      sub.return();
    });
    expect(log).toEqual(["return"]);
  });

  test("what return() gives is adopted with a rejection handler; a return() or destroy() that throws does not escape", async () => {
    const log: string[] = [];
    const thenable = {
      then(_onFulfilled: unknown, onRejected: unknown) {
        log.push(typeof onRejected === "function" ? "then with a rejection handler" : "then without one");
      },
    };
    const source = {
      destroy() {
        throw new Error("destroy failed");
      },
      [Symbol.asyncIterator]: () => ({ next: () => new Promise<never>(() => {}), return: () => thenable }),
    } as unknown as AsyncIterable<number>;
    const throwing = {
      [Symbol.asyncIterator]: () => ({
        next: () => new Promise<never>(() => {}),
        return: () => {
          throw new Error("return failed");
        },
      }),
    } as unknown as AsyncIterable<number>;
    await runVirtual(function* () {
      fromAsyncIterable(source).subscribe().return();
      expect(() => fromAsyncIterable(throwing).subscribe().return()).not.toThrow();
      yield* turns(1);
    });
    expect(log).toEqual(["then with a rejection handler"]);
  });
});

describe("fromAsyncIterable released from another task", () => {
  test("a consumer waiting in next() on a source that never answers sees done, and the source's return() is called", async () => {
    const calls: string[] = [];
    const source = {
      [Symbol.asyncIterator]: () => ({
        next: () => new Promise<IteratorResult<number>>(() => {}),
        return: () => {
          calls.push("return");
          return Promise.resolve({ done: true as const, value: undefined });
        },
      }),
    };
    const log = await runVirtual(() => releasedWhileWaiting(fromAsyncIterable<number>(source)));
    expect(log).toEqual(["released", "consumer got done=true"]);
    expect(calls).toEqual(["return"]);
  });
});

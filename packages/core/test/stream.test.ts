import { describe, expect, test } from "vitest";
import {
  CancelledError,
  createTask,
  each,
  filter,
  fromIterable,
  map,
  produce,
  subscribe,
  take,
  type Coroutine,
  type Stream,
  type Subscription,
} from "../src/index.js";
import { catching, ready, runVirtual, sleep, turns } from "./helpers.js";

/** A stream of 0..count-1 that records pulls and releases, each value one turn away. */
function counted(count: number, log: string[], opts?: { failAt?: number }): Stream<number> {
  return {
    subscribe(): Subscription<number> {
      let i = 0;
      let released = false;
      log.push("subscribe");
      return {
        *next() {
          if (released) return { done: true, value: undefined };
          yield; // one turn: a real wait
          if (opts?.failAt === i) throw new Error(`source failed at ${i}`);
          if (i >= count) return { done: true, value: undefined };
          log.push(`pull ${i}`);
          return { done: false, value: i++ };
        },
        return() {
          if (released) return;
          released = true;
          log.push("release");
        },
      };
    },
  };
}

/** The message of what `fn` throws. */
function catchSync(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  return "did not throw";
}

describe("each", () => {
  test("iterates every value with for…of and releases the source once at the end", async () => {
    const log: string[] = [];
    const seen = await runVirtual(function* () {
      const seen: number[] = [];
      for (const v of yield* each(counted(3, log))) {
        seen.push(v);
        yield* each.next();
      }
      return seen;
    });
    expect(seen).toEqual([0, 1, 2]);
    expect(log).toEqual(["subscribe", "pull 0", "pull 1", "pull 2", "release"]);
  });

  test("break releases the source exactly once and pulls nothing more", async () => {
    const log: string[] = [];
    await runVirtual(function* () {
      for (const v of yield* each(counted(10, log))) {
        if (v === 1) break;
        yield* each.next();
      }
      log.push("after");
    });
    expect(log).toEqual(["subscribe", "pull 0", "pull 1", "release", "after"]);
  });

  test("a throw in the body releases the source once and the error goes on", async () => {
    const log: string[] = [];
    const error = await runVirtual(function* () {
      return yield* catching(
        (function* () {
          for (const v of yield* each(counted(10, log))) {
            if (v === 2) throw new Error("body failed");
            yield* each.next();
          }
        })(),
      );
    });
    expect((error as Error).message).toBe("body failed");
    expect(log.filter((l) => l === "release")).toHaveLength(1);
    expect(log.at(-1)).toBe("release");
  });

  test("cancelling the consumer mid-stream releases the source exactly once, at either suspension point", async () => {
    for (const where of ["in each.next()", "in the body"]) {
      const log: string[] = [];
      await runVirtual(function* () {
        const consumer = createTask(
          (function* (): Coroutine<void> {
            try {
              for (const v of yield* each(counted(1000, log))) {
                if (where === "in the body") yield* sleep(1000);
                log.push(`got ${v}`);
                yield* each.next();
              }
            } finally {
              log.push("consumer finally");
            }
          })(),
        );
        yield* sleep(where === "in the body" ? 1500 : 0);
        yield* turns(3);
        consumer.cancel();
        expect(yield* catching(consumer)).toBeInstanceOf(CancelledError);
      });
      expect(log.filter((l) => l === "release")).toHaveLength(1);
      expect(log.indexOf("release")).toBeLessThan(log.indexOf("consumer finally"));
    }
  });

  test("a source that throws ends the loop with that error at the yield*, and is released", async () => {
    const log: string[] = [];
    const error = await runVirtual(function* () {
      return yield* catching(
        (function* () {
          for (const _ of yield* each(counted(10, log, { failAt: 2 }))) yield* each.next();
        })(),
      );
    });
    expect((error as Error).message).toBe("source failed at 2");
    expect(log).toEqual(["subscribe", "pull 0", "pull 1", "release"]);
  });

  test("nested loops in one task each pull their own stream", async () => {
    const out = await runVirtual(function* () {
      const out: string[] = [];
      for (const a of yield* each(fromIterable(["a", "b"]))) {
        for (const n of yield* each(fromIterable([1, 2]))) {
          out.push(`${a}${n}`);
          yield* each.next();
        }
        yield* each.next();
      }
      return out;
    });
    expect(out).toEqual(["a1", "a2", "b1", "b2"]);
  });

  test("loops in different tasks do not share state", async () => {
    const out = await runVirtual(function* () {
      const out: string[] = [];
      function* consume(name: string, values: number[]): Coroutine<void> {
        for (const v of yield* each(fromIterable(values))) {
          out.push(`${name}${v}`);
          yield;
          yield* each.next();
        }
      }
      const a = createTask(consume("a", [1, 2, 3]));
      const b = createTask(consume("b", [1, 2, 3]));
      yield* a;
      yield* b;
      return out;
    });
    expect(out).toEqual(["a1", "b1", "a2", "b2", "a3", "b3"]);
  });

  test("a body that forgets each.next() gets an Error saying so, and the source is released", async () => {
    const log: string[] = [];
    const error = await runVirtual(function* () {
      return yield* catching(
        (function* () {
          for (const _ of yield* each(counted(5, log))) {
            // no each.next()
          }
        })(),
      );
    });
    expect((error as Error).message).toMatch(/yield\* each\.next\(\)/);
    expect(log.filter((l) => l === "release")).toHaveLength(1);
  });

  test("a finished task that iterated a stream is not kept alive by each's bookkeeping", async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    expect(gc).toBeTypeOf("function");
    let ref: WeakRef<object> | undefined;
    await runVirtual(function* () {
      function* consume(): Coroutine<void> {
        for (const _ of yield* each(fromIterable([1, 2]))) yield* each.next();
      }
      ref = new WeakRef(createTask(consume()));
      yield* turns(5);
    });
    await new Promise((resolve) => setImmediate(resolve));
    gc?.();
    expect(ref?.deref()).toBeUndefined();
  });

  test("each.next() outside a loop, and bad streams, throw at the call", async () => {
    await runVirtual(function* () {
      expect(() => each.next()).toThrow(/inside a `for/);
    });
    expect(() => each(null as never)).toThrow(TypeError);
    expect(() => subscribe({} as never)).toThrow(/stream must be a Stream/);
  });

  test("bad streams: a TypeError naming the function called", () => {
    const message = "stream must be a Stream (an object with subscribe()), such as fromAsyncIterable(x), queue.stream() or produce(fn)";
    for (const bad of [null, undefined, 5, {}]) {
      expect(() => each(bad as never)).toThrow(new TypeError(`each(stream): ${message}`));
      expect(() => subscribe(bad as never)).toThrow(new TypeError(`subscribe(stream): ${message}`));
    }
  });

  test("a value the source has ready is taken through _poll, without calling next()", async () => {
    const log: string[] = [];
    const out = await runVirtual(function* () {
      const out: number[] = [];
      for (const v of yield* each(ready([1, 2, 3], log))) {
        out.push(v);
        if (out.length > 5) break;
        yield* each.next();
      }
      return out;
    });
    expect(out).toEqual([1, 2, 3]);
    // The first pull is a next() (startEach); then each value is polled, and the end too.
    expect(log).toEqual(["next", "poll", "poll", "poll", "return"]);
  });

  test("a source whose _poll throws ends the loop with that error and is released once", async () => {
    const log: string[] = [];
    function* numbers(): Generator<number> {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        log.push("gen finally");
      }
    }
    const error = await runVirtual(() =>
      catching(
        (function* () {
          const s = map(fromIterable(numbers()), (n) => {
            if (n === 2) throw new Error("fn failed at 2");
            return n;
          });
          for (const v of yield* each(s)) {
            log.push(`got ${v}`);
            yield* each.next();
          }
        })(),
      ),
    );
    expect(error).toEqual(new Error("fn failed at 2"));
    expect(log).toEqual(["got 0", "got 1", "gen finally"]);
  });

  test("a source that fails has its return() called once, not once more when the error leaves the loop", async () => {
    let returns = 0;
    const failing: Stream<number> = {
      subscribe: () => {
        let pulls = 0;
        return {
          *next() {
            yield;
            if (pulls++ === 0) return { done: false, value: 0 };
            throw new Error("source failed");
          },
          return() {
            returns++;
          },
        };
      },
    };
    const error = await runVirtual(() =>
      catching(
        (function* () {
          for (const _ of yield* each(failing)) yield* each.next();
        })(),
      ),
    );
    expect(error).toEqual(new Error("source failed"));
    expect(returns).toBe(1);
  });

  test("loops released out of order (an outer one first): each.next() pulls the innermost loop still open", async () => {
    const out = await runVirtual(function* () {
      const out: unknown[] = [];
      let middle: Iterator<string> | undefined;
      let inner: Iterator<string> | undefined;
      for (const _ of yield* each(fromIterable(["outer"]))) {
        middle = (yield* each(fromIterable(["m1", "m2"])))[Symbol.iterator]();
        inner = (yield* each(fromIterable(["i1", "i2"])))[Symbol.iterator]();
        break; // releases the outer loop while the two inside it are open
      }
      if (middle === undefined || inner === undefined) throw new Error("unreachable");
      out.push(inner.next().value);
      yield* each.next();
      out.push(inner.next().value);
      inner.return?.();
      out.push(middle.next().value);
      yield* each.next();
      out.push(middle.next().value);
      middle.return?.();
      out.push(catchSync(() => each.next()));
      return out;
    });
    expect(out).toEqual(["i1", "i2", "m1", "m2", "each.next() must be called inside a `for (const v of yield* each(stream))` loop, at the end of its body"]);
  });

  test("subscribe gives the primitive: next() until done, then done forever", async () => {
    const log: string[] = [];
    const out = await runVirtual(function* () {
      const sub = yield* subscribe(counted(2, log));
      const results = [yield* sub.next(), yield* sub.next(), yield* sub.next(), yield* sub.next()];
      sub.return();
      return results;
    });
    expect(out).toEqual([
      { done: false, value: 0 },
      { done: false, value: 1 },
      { done: true, value: undefined },
      { done: true, value: undefined },
    ]);
    expect(log.filter((l) => l === "release")).toHaveLength(1);
  });
});

describe("map, filter, take", () => {
  test("are lazy: nothing is pulled before the consumer asks", async () => {
    const log: string[] = [];
    await runVirtual(function* () {
      const s = take(filter(map(counted(100, log), (n) => n * 10), (n) => n % 20 === 0), 2);
      expect(log).toEqual([]);
      const out: number[] = [];
      for (const v of yield* each(s)) {
        out.push(v);
        yield* each.next();
      }
      expect(out).toEqual([0, 20]);
    });
    // take(2) released the source right after the second kept value: 0,1,2 pulled, no 3.
    expect(log).toEqual(["subscribe", "pull 0", "pull 1", "pull 2", "release"]);
  });

  test("over a source with values ready (the fast path), they pull just as far and release the source once", async () => {
    const log: string[] = [];
    function* numbers(): Generator<number> {
      try {
        for (let i = 0; ; i++) {
          log.push(`gen ${i}`);
          yield i;
        }
      } finally {
        log.push("gen finally");
      }
    }
    const out = await runVirtual(function* () {
      const s = take(filter(map(fromIterable(numbers()), (n) => n * 10), (n) => n % 20 === 0), 2);
      const out: number[] = [];
      for (const v of yield* each(s)) {
        out.push(v);
        yield* each.next();
      }
      return out;
    });
    expect(out).toEqual([0, 20]);
    expect(log).toEqual(["gen 0", "gen 1", "gen 2", "gen finally"]);
  });

  test("take(0) releases at once; take validates its count", async () => {
    const log: string[] = [];
    await runVirtual(function* () {
      for (const _ of yield* each(take(counted(5, log), 0))) yield* each.next();
    });
    expect(log).toEqual(["subscribe", "release"]);
    expect(() => take(fromIterable([]), -1)).toThrow(RangeError);
    expect(() => take(fromIterable([]), 1.5)).toThrow(/integer >= 0/);
  });

  test("a throwing map fn releases the source and throws at the pull", async () => {
    const log: string[] = [];
    const error = await runVirtual(function* () {
      return yield* catching(
        (function* () {
          const s = map(counted(5, log), (n) => {
            if (n === 1) throw new Error("fn failed");
            return n;
          });
          for (const _ of yield* each(s)) yield* each.next();
        })(),
      );
    });
    expect((error as Error).message).toBe("fn failed");
    expect(log.filter((l) => l === "release")).toHaveLength(1);
  });

  test("bad arguments are TypeErrors at the call", () => {
    expect(() => map(fromIterable([1]), null as never)).toThrow(TypeError);
    expect(() => filter(fromIterable([1]), 3 as never)).toThrow(TypeError);
    expect(() => fromIterable(5 as never)).toThrow(TypeError);
  });
});

describe("produce", () => {
  test("values sent by a coroutine arrive in order; the producer runs only as the consumer pulls", async () => {
    const log: string[] = [];
    await runVirtual(function* () {
      const s = produce<number>(function* (send) {
        for (let i = 0; i < 3; i++) {
          log.push(`send ${i}`);
          yield* send(i);
          log.push(`sent ${i}`);
        }
      });
      for (const v of yield* each(s)) {
        log.push(`got ${v}`);
        yield* sleep(10);
        yield* each.next();
      }
    });
    // buffer 0: send returns only once the value was taken, so the producer never runs ahead.
    expect(log).toEqual(["send 0", "got 0", "sent 0", "send 1", "got 1", "sent 1", "send 2", "got 2", "sent 2"]);
  });

  test("releasing cancels the producer, whose finally runs", async () => {
    const log: string[] = [];
    await runVirtual(function* () {
      const s = produce<number>(function* (send) {
        try {
          for (let i = 0; ; i++) yield* send(i);
        } catch (error) {
          log.push(error instanceof CancelledError ? "producer cancelled" : "other");
          throw error;
        } finally {
          log.push("producer finally");
        }
      });
      for (const v of yield* each(s)) {
        if (v === 2) break;
        yield* each.next();
      }
      log.push("broke out");
      yield* turns(2);
    });
    expect(log).toEqual(["broke out", "producer cancelled", "producer finally"]);
  });

  test("a producer that throws fails the consumer's pull with its error", async () => {
    const error = await runVirtual(function* () {
      const s = produce<number>(function* (send) {
        yield* send(1);
        throw new Error("producer failed");
      });
      return yield* catching(
        (function* () {
          for (const _ of yield* each(s)) yield* each.next();
        })(),
      );
    });
    expect((error as Error).message).toBe("producer failed");
  });

  test("each takes buffered values without waiting, in order, and a break still cancels the producer once", async () => {
    const log: string[] = [];
    await runVirtual(function* () {
      const s = produce<number>(
        function* (send) {
          try {
            for (let i = 0; ; i++) yield* send(i);
          } finally {
            log.push("producer finally");
          }
        },
        { buffer: 3 },
      );
      const seen: number[] = [];
      for (const v of yield* each(s)) {
        seen.push(v);
        if (v === 7) break;
        yield* each.next();
      }
      yield* turns(2);
      log.push(seen.join(","));
    });
    expect(log).toEqual(["producer finally", "0,1,2,3,4,5,6,7"]);
  });

  test("buffer lets the producer run ahead by that many values and no more", async () => {
    const log: string[] = [];
    await runVirtual(function* () {
      const s = produce<number>(
        function* (send) {
          for (let i = 0; i < 5; i++) {
            yield* send(i);
            log.push(`sent ${i}`);
          }
        },
        { buffer: 2 },
      );
      const sub = yield* subscribe(s);
      expect(yield* sub.next()).toEqual({ done: false, value: 0 });
      yield* sleep(100); // the producer runs as far as it may
      sub.return();
    });
    // 0 was taken; 1 and 2 fill the buffer; send(3) waits for room.
    expect(log).toEqual(["sent 0", "sent 1", "sent 2"]);
    expect(() => produce(function* () {}, { buffer: -1 })).toThrow(RangeError);
  });
});

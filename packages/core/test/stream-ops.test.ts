import { describe, expect, test } from "vitest";
import { each, filter, fromIterable, map, subscribe, take, type Coroutine, type Stream, type Subscription } from "../src/index.js";
import { catching, ready, runVirtual } from "./helpers.js";

/** A source of 0..count-1, each one turn away (no fast path); logs every next() and its release. */
function slow(count: number, log: string[]): Stream<number> {
  return {
    subscribe(): Subscription<number> {
      let i = 0;
      let released = false;
      return {
        *next() {
          log.push("next");
          yield;
          return i < count ? { done: false, value: i++ } : { done: true, value: undefined };
        },
        return() {
          if (!released) log.push("return");
          released = true;
        },
      };
    },
  };
}

/** Collects a stream with each; stops at 10 values so that a wrong "never ends" is a failure, not a hang. */
function* collect<T>(s: Stream<T>): Coroutine<T[]> {
  const out: T[] = [];
  for (const v of yield* each(s)) {
    out.push(v);
    if (out.length > 10) break;
    yield* each.next();
  }
  return out;
}

const STREAM_MESSAGE = "stream must be a Stream (an object with subscribe()), such as fromAsyncIterable(x), queue.stream() or produce(fn)";

describe("map", () => {
  test("takes ready values through the fast path (no next() after the first pull) and ends when the source does", async () => {
    const log: string[] = [];
    const out = await runVirtual(() => collect(map(ready([1, 2], log), (n) => n * 10)));
    expect(out).toEqual([10, 20]);
    expect(log).toEqual(["next", "poll", "poll", "return"]);
  });

  test("over a source that waits, ends when the source ends: fn never sees the end", async () => {
    const log: string[] = [];
    const seen: unknown[] = [];
    const out = await runVirtual(() =>
      collect(
        map(slow(2, log), (n) => {
          seen.push(n);
          return n * 10;
        }),
      ),
    );
    expect(out).toEqual([0, 10]);
    expect(seen).toEqual([0, 1]);
  });

  test("bad arguments: TypeErrors naming map's arguments", () => {
    expect(() => map(null as never, (n) => n)).toThrow(new TypeError(`map(stream, fn): ${STREAM_MESSAGE}`));
    expect(() => map(fromIterable([1]), null as never)).toThrow(new TypeError("map(stream, fn): fn must be a function (value) => newValue"));
  });
});

describe("filter", () => {
  test("takes ready values through the fast path, skipping dropped ones without a next(); the predicate never sees the end", async () => {
    const log: string[] = [];
    const seen: unknown[] = [];
    const out = await runVirtual(() =>
      collect(
        filter(ready([1, 2, 3, 4, 5], log), (n) => {
          seen.push(n);
          return n % 2 === 1;
        }),
      ),
    );
    expect(out).toEqual([1, 3, 5]);
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(log).toEqual(["next", "poll", "poll", "poll", "poll", "poll", "return"]);
  });

  test("over a source that waits, the predicate never sees the end", async () => {
    const log: string[] = [];
    const seen: unknown[] = [];
    const out = await runVirtual(() =>
      collect(
        filter(slow(3, log), (n) => {
          seen.push(n);
          return n !== 1;
        }),
      ),
    );
    expect(out).toEqual([0, 2]);
    expect(seen).toEqual([0, 1, 2]);
  });

  test("a throwing predicate releases the source once and its error ends the loop", async () => {
    const log: string[] = [];
    const error = await runVirtual(() =>
      catching(
        collect(
          filter(slow(5, log), (n) => {
            if (n === 1) throw new Error("predicate failed");
            return true;
          }),
        ),
      ),
    );
    expect(error).toEqual(new Error("predicate failed"));
    expect(log.filter((l) => l === "return")).toHaveLength(1);
    expect(log.at(-1)).toBe("return");
  });

  test("a throwing predicate releases the source by itself: the subscription's user need not call return()", async () => {
    const log: string[] = [];
    const error = await runVirtual(function* () {
      const sub = yield* subscribe(filter(slow(5, log), () => {
        throw new Error("predicate failed");
      }));
      return yield* catching(sub.next());
    });
    expect(error).toEqual(new Error("predicate failed"));
    expect(log).toEqual(["next", "return"]);
  });

  test("bad arguments: TypeErrors naming filter's arguments", () => {
    expect(() => filter(null as never, () => true)).toThrow(new TypeError(`filter(stream, predicate): ${STREAM_MESSAGE}`));
    expect(() => filter(fromIterable([1]), 3 as never)).toThrow(new TypeError("filter(stream, predicate): predicate must be a function (value) => boolean"));
  });
});

describe("take", () => {
  test("over ready values: releases the source with the last value and never polls it again", async () => {
    const log: string[] = [];
    const out = await runVirtual(() => collect(take(ready([1, 2, 3, 4], log), 2)));
    expect(out).toEqual([1, 2]);
    expect(log).toEqual(["next", "poll", "return"]);
  });

  test("over a source that waits: once count values were pulled, later pulls are done without asking the source", async () => {
    const log: string[] = [];
    const results = await runVirtual(function* () {
      const sub = yield* subscribe(take(slow(10, log), 1));
      const results = [yield* sub.next(), yield* sub.next(), yield* sub.next()];
      sub.return();
      return results;
    });
    expect(results).toEqual([{ done: false, value: 0 }, { done: true, value: undefined }, { done: true, value: undefined }]);
    expect(log).toEqual(["next", "return"]);
  });

  test("a source shorter than count: take ends with it and never asks it again", async () => {
    const log: string[] = [];
    const results = await runVirtual(function* () {
      const sub = yield* subscribe(take(slow(1, log), 5));
      return [yield* sub.next(), yield* sub.next(), yield* sub.next(), yield* sub.next()];
    });
    expect(results).toEqual([{ done: false, value: 0 }, { done: true, value: undefined }, { done: true, value: undefined }, { done: true, value: undefined }]);
    expect(log).toEqual(["next", "next"]);
  });

  test("after return(), next() is done without asking the source", async () => {
    const log: string[] = [];
    const results = await runVirtual(function* () {
      const sub = yield* subscribe(take(slow(10, log), 5));
      const first = yield* sub.next();
      sub.return();
      return [first, yield* sub.next()];
    });
    expect(results).toEqual([{ done: false, value: 0 }, { done: true, value: undefined }]);
    expect(log).toEqual(["next", "return"]);
  });

  test("take(0) releases the source at subscription, before any pull", async () => {
    const log: string[] = [];
    await runVirtual(function* () {
      const sub = yield* subscribe(take(slow(5, log), 0));
      expect(log).toEqual(["return"]);
      expect(yield* sub.next()).toEqual({ done: true, value: undefined });
    });
    expect(log).toEqual(["return"]);
  });

  test("breaking out before count releases the source", async () => {
    const log: string[] = [];
    await runVirtual(function* () {
      for (const v of yield* each(take(slow(10, log), 5))) {
        if (v === 1) break;
        yield* each.next();
      }
    });
    expect(log).toEqual(["next", "next", "return"]);
  });

  test("bad arguments: a RangeError for any count that is not an integer >= 0, a TypeError for a bad stream", () => {
    expect(() => take(null as never, 1)).toThrow(new TypeError(`take(stream, count): ${STREAM_MESSAGE}`));
    expect(() => take(fromIterable([]), Symbol("n") as never)).toThrow(new RangeError("take(stream, count): count must be an integer >= 0, got Symbol(n)"));
    expect(() => take(fromIterable([]), "2" as never)).toThrow(new RangeError("take(stream, count): count must be an integer >= 0, got 2"));
  });
});

describe("fromIterable", () => {
  /** An iterator that logs next() and return() calls. */
  function logged(log: string[], opts: { throwAt?: number; returns?: unknown; length?: number } = {}): Iterable<number> {
    return {
      [Symbol.iterator]() {
        let i = 0;
        return {
          next() {
            log.push("next");
            if (opts.throwAt === i) throw new Error(`iterator failed at ${i}`);
            if (i >= (opts.length ?? 3)) return { done: true, value: opts.returns };
            return { done: false, value: i++ };
          },
          return() {
            log.push("return");
            return { done: true, value: undefined };
          },
        } as Iterator<number>;
      },
    };
  }

  test("released, it gives done and never pulls the iterator again (an array iterator has no return())", async () => {
    const results = await runVirtual(function* () {
      const sub = yield* subscribe(fromIterable([1, 2, 3]));
      const first = yield* sub.next();
      sub.return();
      return [first, yield* sub.next()];
    });
    expect(results).toEqual([{ done: false, value: 1 }, { done: true, value: undefined }]);
  });

  test("return() calls the iterator's return() once, however often it is called", async () => {
    const log: string[] = [];
    await runVirtual(function* () {
      const sub = yield* subscribe(fromIterable(logged(log)));
      yield* sub.next();
      sub.return();
      sub.return();
    });
    expect(log).toEqual(["next", "return"]);
  });

  test("an iterator that ran out is not returned (as for…of does not), and its return value is not a value", async () => {
    const log: string[] = [];
    const results = await runVirtual(function* () {
      const sub = yield* subscribe(fromIterable(logged(log, { length: 1, returns: 42 })));
      const results = [yield* sub.next(), yield* sub.next(), yield* sub.next()];
      sub.return();
      return results;
    });
    expect(results).toEqual([{ done: false, value: 0 }, { done: true, value: undefined }, { done: true, value: undefined }]);
    expect(log).toEqual(["next", "next"]);
  });

  test("an iterator that throws: the error ends the loop, and the iterator is not returned (as for…of does not)", async () => {
    const log: string[] = [];
    const error = await runVirtual(() => catching(collect(fromIterable(logged(log, { throwAt: 1 })))));
    expect(error).toEqual(new Error("iterator failed at 1"));
    expect(log).toEqual(["next", "next"]);
  });

  test("anything but an object with [Symbol.iterator]() is a TypeError at the call, strings included", () => {
    const message = new TypeError("fromIterable(iterable): iterable must be an iterable (an array, a Set, a generator of values)");
    for (const bad of [null, undefined, 5, "abc", {}]) expect(() => fromIterable(bad as never)).toThrow(message);
  });
});

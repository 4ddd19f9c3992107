import type { Coroutine } from "./types.js";
import { checkStream, DONE, type PollableSubscription, type Stream, type Subscription } from "./stream.js";

/**
 * A stream of `fn(value)` for each value of `stream`, computed as each is pulled. `fn` is
 * plain and synchronous; for work that waits, use `mapConcurrent(stream, 1, fn)`.
 * @example
 * const lengths = map(lines(reader), (line) => line.length);
 */
export function map<T, U>(stream: Stream<T>, fn: (value: T) => U): Stream<U> {
  checkStream("map(stream, fn)", stream);
  if (typeof fn !== "function") throw new TypeError("map(stream, fn): fn must be a function (value) => newValue");
  return { subscribe: () => new MapSubscription(stream.subscribe(), fn) };
}

/** A value of `sub` that is ready now (see `PollableSubscription`), or undefined. */
function pollSource<T>(sub: Subscription<T>): IteratorResult<T, undefined> | undefined {
  const poll = (sub as Partial<PollableSubscription<T>>)._poll;
  return poll === undefined ? undefined : poll.call(sub);
}

class MapSubscription<T, U> implements PollableSubscription<U> {
  constructor(
    readonly _source: Subscription<T>,
    readonly _fn: (value: T) => U,
  ) {}

  _poll(): IteratorResult<U, undefined> | undefined {
    const result = pollSource(this._source);
    if (result === undefined || result.done === true) return result;
    return this._apply(result.value);
  }

  _apply(value: T): IteratorResult<U, undefined> {
    try {
      return { done: false, value: this._fn(value) };
    } catch (error) {
      this._source.return();
      throw error;
    }
  }

  *next(): Coroutine<IteratorResult<U, undefined>> {
    const result = yield* this._source.next();
    if (result.done === true) return DONE;
    return this._apply(result.value);
  }

  return(): void {
    this._source.return();
  }
}

/**
 * The values of `stream` for which `predicate` is true; the others are pulled and dropped.
 * A type guard narrows the stream's type.
 * @example
 * const errors = filter(lines(reader), (line) => line.startsWith("ERROR"));
 */
export function filter<T, S extends T>(stream: Stream<T>, predicate: (value: T) => value is S): Stream<S>;
/** The values of `stream` for which `predicate` is true; the others are pulled and dropped. */
export function filter<T>(stream: Stream<T>, predicate: (value: T) => boolean): Stream<T>;
export function filter<T>(stream: Stream<T>, predicate: (value: T) => boolean): Stream<T> {
  checkStream("filter(stream, predicate)", stream);
  if (typeof predicate !== "function") throw new TypeError("filter(stream, predicate): predicate must be a function (value) => boolean");
  return { subscribe: () => new FilterSubscription(stream.subscribe(), predicate) };
}

class FilterSubscription<T> implements PollableSubscription<T> {
  constructor(
    readonly _source: Subscription<T>,
    readonly _predicate: (value: T) => boolean,
  ) {}

  _poll(): IteratorResult<T, undefined> | undefined {
    for (;;) {
      const result = pollSource(this._source);
      if (result === undefined || result.done === true || this._keep(result.value)) return result;
    }
  }

  *next(): Coroutine<IteratorResult<T, undefined>> {
    for (;;) {
      const result = yield* this._source.next();
      if (result.done === true || this._keep(result.value)) return result;
    }
  }

  _keep(value: T): boolean {
    try {
      return this._predicate(value);
    } catch (error) {
      this._source.return();
      throw error;
    }
  }

  return(): void {
    this._source.return();
  }
}

/**
 * The first `count` values of `stream`. The source is released as soon as the last of them
 * is pulled, before the consumer asks for more, and is never asked for value `count + 1`.
 * @example
 * const firstTen = take(fromEvent(button, "click"), 10);
 */
export function take<T>(stream: Stream<T>, count: number): Stream<T> {
  checkStream("take(stream, count)", stream);
  if (typeof count !== "number" || !(count >= 0) || !Number.isInteger(count)) {
    throw new RangeError(`take(stream, count): count must be an integer >= 0, got ${String(count)}`);
  }
  return { subscribe: () => new TakeSubscription(stream.subscribe(), count) };
}

class TakeSubscription<T> implements PollableSubscription<T> {
  _left: number;

  constructor(
    readonly _source: Subscription<T>,
    count: number,
  ) {
    this._left = count;
    if (count === 0) _source.return();
  }

  _poll(): IteratorResult<T, undefined> | undefined {
    if (this._left <= 0) return DONE;
    const result = pollSource(this._source);
    return result === undefined ? undefined : this._count(result);
  }

  *next(): Coroutine<IteratorResult<T, undefined>> {
    if (this._left <= 0) return DONE;
    return this._count(yield* this._source.next());
  }

  _count(result: IteratorResult<T, undefined>): IteratorResult<T, undefined> {
    if (result.done === true) {
      this._left = 0;
      return DONE;
    }
    if (--this._left === 0) this._source.return();
    return result;
  }

  return(): void {
    this._left = 0;
    this._source.return();
  }
}

/**
 * A stream of the values of a plain (synchronous) iterable: an array, a Set, a generator
 * of values. Each pull takes one value; release calls the iterator's `return()`.
 * @example
 * const pages = mapConcurrent(fromIterable(urls), 10, fetchPage);
 */
export function fromIterable<T>(iterable: Iterable<T>): Stream<T> {
  if (typeof iterable !== "object" || iterable === null || typeof (iterable as Iterable<T>)[Symbol.iterator] !== "function") {
    throw new TypeError("fromIterable(iterable): iterable must be an iterable (an array, a Set, a generator of values)");
  }
  return { subscribe: () => new IterableSubscription(iterable[Symbol.iterator]()) };
}

class IterableSubscription<T> implements PollableSubscription<T> {
  _released = false;

  constructor(readonly _iterator: Iterator<T>) {}

  // A plain iterator never waits: every pull is the fast path.
  *next(): Coroutine<IteratorResult<T, undefined>> {
    return this._poll();
  }

  _poll(): IteratorResult<T, undefined> {
    if (this._released) return DONE;
    let result: IteratorResult<T>;
    try {
      result = this._iterator.next();
    } catch (error) {
      this._released = true;
      throw error;
    }
    if (result.done === true) {
      this._released = true;
      return DONE;
    }
    return result as IteratorYieldResult<T>;
  }

  return(): void {
    if (this._released) return;
    this._released = true;
    try {
      // Stryker disable next-line OptionalChaining: an iterator without return() makes the plain call throw a TypeError, which the catch below swallows just the same
      this._iterator.return?.();
    } catch {
      // Releasing never throws.
    }
  }
}

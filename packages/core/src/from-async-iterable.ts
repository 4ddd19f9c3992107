import type { Coroutine } from "./types.js";
import { ensureFuture } from "./ensure-future.js";
import { CancelledError } from "./errors.js";
import type { Future } from "./future.js";
import { hostGlobals as host, type AbortControllerLike } from "./host-globals.js";
import type { TaskAbortSignal } from "./signal.js";
import { DONE, type Stream, type Subscription } from "./stream.js";

/**
 * A stream of the values of an async iterable: a Node `Readable`, a `fetch` body, the
 * iterator of `events.on`, an async generator. One value is read per pull, so the source's
 * own buffering (a Readable's `highWaterMark`) is all that is read ahead.
 *
 * Pass a function of an `AbortSignal` instead of the iterable to have a signal that aborts
 * when the stream is released: that is how a `fetch` is aborted even while a read waits.
 * On release the iterator's `return()` is called (a late rejection of it is marked
 * handled), and a source with a `destroy()` method (a Node stream) is destroyed at once,
 * since `return()` of an async generator waits for a read already under way.
 * @example
 * const lines = fromAsyncIterable(readline.createInterface({ input: fs.createReadStream(path) }));
 * for (const line of yield* each(lines)) { console.log(line); yield* each.next(); }
 * @example
 * const body = fromAsyncIterable(async function* (signal) {
 *   const response = await fetch(url, { signal });
 *   yield* response.body!;
 * });
 */
export function fromAsyncIterable<T>(source: AsyncIterable<T> | ((signal: TaskAbortSignal) => AsyncIterable<T>)): Stream<T> {
  if (typeof source !== "function" && !isAsyncIterable(source)) {
    throw new TypeError("fromAsyncIterable(source): source must be an async iterable (a Node stream, a fetch body, an async generator) or a function (signal) => AsyncIterable");
  }
  return { subscribe: () => new AsyncIterableSubscription<T>(source) };
}

// As for `for await`: any value with a [Symbol.asyncIterator]() method, a callable one too
// (no primitive has one, so only null and undefined need the guard).
function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof (value as Partial<AsyncIterable<unknown>> | null | undefined)?.[Symbol.asyncIterator] === "function";
}

/** The part of a Node `Readable` that the fast path reads (duck-typed: core imports no `node:`). */
interface ReadableLike {
  read(): unknown;
  readonly readableLength: number;
  readonly readableObjectMode: boolean;
  readonly destroyed: boolean;
}

function asReadable(value: unknown): ReadableLike | null {
  const r = value as Partial<ReadableLike>;
  return typeof r.read === "function" && typeof r.readableLength === "number" && typeof r.readableObjectMode === "boolean" ? (r as ReadableLike) : null;
}

class AsyncIterableSubscription<T> implements Subscription<T> {
  readonly _iterable: AsyncIterable<T>;
  readonly _iterator: AsyncIterator<T>;
  readonly _abort: AbortControllerLike | null = null;
  /**
   * The source when it is a Node Readable. Its async iterator is a loop of `read()` calls
   * that waits for 'readable' when `read()` gives null; while bytes are buffered we make
   * the same `read()` call ourselves, which yields the same chunks in the same order
   * without a Promise and a loop wake-up per chunk. Waiting still goes through the iterator.
   */
  readonly _readable: ReadableLike | null;
  _released = false;
  /** The iterator's `next()` a consumer waits on, until it settles. */
  _pending: Future<IteratorResult<T>> | null = null;

  constructor(source: AsyncIterable<T> | ((signal: TaskAbortSignal) => AsyncIterable<T>)) {
    if (typeof source === "function") {
      const Controller = host.AbortController;
      if (Controller === undefined) throw new Error("fromAsyncIterable(fn) needs AbortController, which this JavaScript host lacks");
      this._abort = new Controller();
      this._iterable = source(this._abort.signal as TaskAbortSignal);
      if (!isAsyncIterable(this._iterable)) throw new TypeError("fromAsyncIterable(fn): fn must return an async iterable");
    } else {
      this._iterable = source;
    }
    this._iterator = this._iterable[Symbol.asyncIterator]();
    this._readable = asReadable(this._iterable);
  }

  /** The fast path (see `_readable`): a chunk a Readable already holds. */
  _poll(): IteratorResult<T, undefined> | undefined {
    if (this._released) return DONE;
    const readable = this._readable;
    if (readable === null || readable.destroyed) return undefined;
    // read() with nothing buffered asks the source for more (_read), which a synchronous
    // source answers at once; null means "wait", which the iterator does.
    const chunk = readable.read();
    return chunk === null ? undefined : { done: false, value: chunk as T };
  }

  *next(): Coroutine<IteratorResult<T, undefined>> {
    const ready = this._poll();
    if (ready !== undefined) return ready;
    let result: IteratorResult<T>;
    const pending = (this._pending = ensureFuture(this._iterator.next()));
    try {
      result = yield* pending;
    } catch (error) {
      this._release(error instanceof CancelledError);
      throw error;
    } finally {
      this._pending = null;
    }
    if (result.done === true) {
      this._release(false);
      return DONE;
    }
    return result as IteratorYieldResult<T>;
  }

  return(): void {
    this._release(true);
  }

  /** `early`: the iterator did not finish by itself, so it must be told to stop. */
  _release(early: boolean): void {
    if (this._released) return;
    this._released = true;
    if (!early) return;
    // A consumer waiting in next() (a release from another task) sees the end now: the
    // source's answer, should one still come, is dropped with its Future.
    const pending = this._pending;
    if (pending !== null && !pending.done()) pending.setResult(DONE as IteratorResult<T>);
    if (this._abort !== null) this._abort.abort(new CancelledError("the stream was released"));
    // A Node stream is destroyed at once, since return() of its iterator waits for a read
    // already under way.
    const source = this._iterable as { destroy?: unknown; destroyed?: unknown };
    if (source.destroyed !== true) callQuietly(source, source.destroy);
    // Nobody waits for the release; a rejection of return() must not surface as unhandled.
    Promise.resolve(callQuietly(this._iterator, this._iterator.return)).then(undefined, ignore);
  }
}

/** Calls `method` on `target` when it is a function; what it throws is dropped, as releasing never throws. */
function callQuietly(target: object, method: unknown): unknown {
  // Stryker disable next-line ConditionalExpression: calling a non-function throws a TypeError, which the catch below drops just as this return does
  if (typeof method !== "function") return undefined;
  try {
    return (method as (this: object) => unknown).call(target);
  } catch {
    // A source that fails to release is still released as far as we are concerned.
  }
  return undefined;
}

function ignore(): void {}

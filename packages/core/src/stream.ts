import type { Coroutine } from "./types.js";
import { current } from "./state.js";
import type { Task } from "./task.js";

/**
 * A source of values that a coroutine pulls from, one value per `yield*` (the value-level
 * counterpart of an async iterable, which a generator coroutine cannot be). A stream is
 * cold and reusable: each `subscribe()` starts one independent read of it.
 *
 * Pull-based: a source reads (or lets its producer run) only as far as the consumer has
 * asked, plus at most a bounded buffer that the source documents.
 */
export interface Stream<T> {
  /**
   * Starts one subscription. Called inside the consuming task (so a source may start
   * tasks on the running loop); `subscribe(stream)` and `each(stream)` call it for you.
   */
  subscribe(): Subscription<T>;
}

/**
 * One read of a `Stream`: `next()` pulls the next value, `return()` releases the source.
 *
 * Invariants every source keeps: after `next()` gave `{ done: true }` or threw, the
 * source is released and later `next()` calls give `{ done: true }`; `return()` may be
 * called any number of times, releases at most once, and never throws; `next()` is not
 * called again while one call is still pending (one consumer per subscription).
 */
export interface Subscription<T> {
  /** Pulls one value: `{ done: false, value }`, or `{ done: true }` at the end. */
  next(): Coroutine<IteratorResult<T, undefined>>;
  /**
   * Releases the source now (a Node stream destroyed, a listener removed, a producing
   * task cancelled). Synchronous, so that it can run from a `for … of` loop's exit; work
   * the release starts (a cancelled producer's `finally` blocks) completes on later turns.
   * Called from another task while the consumer waits in `next()`, it ends that `next()`
   * with done (nothing is taken from the source for it).
   */
  return(): void;
}

/**
 * @internal A subscription that can sometimes give its next value without waiting (an item
 * already queued): `_poll()` returns it, or `undefined` to say `next()` must be used.
 * `each` takes this fast path so that a buffered value costs no coroutine at all. A result
 * of `_poll()` is read before the next `_poll()` and never kept, so a source may reuse one
 * result object (the `Queue` stream does); `next()` results are the caller's to keep.
 */
export interface PollableSubscription<T> extends Subscription<T> {
  _poll(): IteratorResult<T, undefined> | undefined;
}

/** A coroutine that is already finished: what `each.next()` returns after a fast pull. */
const FINISHED: Coroutine<void> = {
  next: () => DONE,
  throw: (error: unknown) => {
    throw error;
  },
  return: () => DONE,
  [Symbol.iterator]() {
    return this;
  },
} as unknown as Coroutine<void>;

/** The `{ done: true }` result, shared: it carries nothing. */
export const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined }) as IteratorReturnResult<undefined>;

/**
 * Subscribes to `stream`: the primitive under `each`. Release the subscription with
 * `sub.return()` in a `finally`, or it stays open until the source ends.
 * @example
 * const sub = yield* subscribe(stream);
 * try {
 *   for (let r = yield* sub.next(); !r.done; r = yield* sub.next()) console.log(r.value);
 * } finally {
 *   sub.return();
 * }
 */
export function subscribe<T>(stream: Stream<T>): Coroutine<Subscription<T>> {
  checkStream("subscribe(stream)", stream);
  return subscribeNow(stream);
}

// A coroutine, though subscribing never waits, as Effection's `yield* stream` is.
function* subscribeNow<T>(stream: Stream<T>): Coroutine<Subscription<T>> {
  return stream.subscribe();
}

/** @internal Throws the TypeError for something that is not a Stream. */
export function checkStream(where: string, stream: unknown): void {
  if (typeof stream !== "object" || stream === null || typeof (stream as Stream<unknown>).subscribe !== "function") {
    throw new TypeError(`${where}: stream must be a Stream (an object with subscribe()), such as fromAsyncIterable(x), queue.stream() or produce(fn)`);
  }
}

/**
 * The state of one `for (const v of yield* each(s))` loop. Invariant: `current` is the
 * value the loop's iterator hands out next; `stale` is true once it was handed out and
 * `each.next()` has not pulled another; `released` is true once the subscription was
 * released, which happens exactly once (at the end, on an error, or at the loop's exit).
 */
class EachLoop<T> implements Iterable<T>, Iterator<T, undefined> {
  readonly _sub: Subscription<T>;
  /** The same subscription when it can give a value without waiting, else null. */
  readonly _pollable: PollableSubscription<T> | null;
  readonly _task: Task<unknown> | null;
  _current: IteratorResult<T, undefined> = DONE;
  // Stryker disable next-line BooleanLiteral: startEach's first _pull() sets it before the loop is handed to `for … of`, and a failed first pull never hands it out
  _stale = false;
  _released = false;
  /** The loop this one is nested in, in the same task. */
  _outer: EachLoop<unknown> | null;

  constructor(sub: Subscription<T>, task: Task<unknown> | null, outer: EachLoop<unknown> | null) {
    this._sub = sub;
    this._pollable = typeof (sub as Partial<PollableSubscription<T>>)._poll === "function" ? (sub as PollableSubscription<T>) : null;
    this._task = task;
    this._outer = outer;
  }

  [Symbol.iterator](): Iterator<T, undefined> {
    return this;
  }

  next(): IteratorResult<T, undefined> {
    if (this._stale) {
      this._release();
      throw new Error("each(stream): the loop body must end with `yield* each.next()` to pull the next value (a `continue` skips it)");
    }
    this._stale = true;
    return this._current;
  }

  /** Called by `for … of` on `break`, on a throw out of the body, and on cancellation. */
  return(): IteratorResult<T, undefined> {
    this._release();
    return DONE;
  }

  /** Pulls the next value: without a coroutine when the source has one ready. */
  _next(): Coroutine<void> {
    const pollable = this._pollable;
    if (pollable !== null && !this._released) {
      let result: IteratorResult<T, undefined> | undefined;
      try {
        result = pollable._poll();
      } catch (error) {
        this._current = DONE;
        this._release();
        throw error;
      }
      if (result !== undefined) {
        this._current = result;
        this._stale = false;
        if (result.done === true) this._release();
        return FINISHED;
      }
    }
    return this._pull();
  }

  *_pull(): Coroutine<void> {
    try {
      this._current = yield* this._sub.next();
    } catch (error) {
      this._current = DONE;
      this._release();
      throw error;
    }
    this._stale = false;
    if (this._current.done === true) this._release();
  }

  _release(): void {
    if (this._released) return;
    this._released = true;
    this._current = DONE;
    this._stale = false;
    popLoop(this as EachLoop<unknown>);
    this._sub.return();
  }
}

/**
 * The innermost open `each` loop of each task. One entry is cached, since the task that
 * calls `each.next()` is nearly always the one that called it last.
 */
const loopsByTask = new WeakMap<object, EachLoop<unknown>>();
const OUTSIDE_TASKS = {};
let cachedTask: object | null = null;
let cachedLoop: EachLoop<unknown> | null = null;

function innermostLoop(task: object): EachLoop<unknown> | null {
  // Stryker disable next-line ConditionalExpression: the cache only saves a WeakMap lookup; loopsByTask holds the same loop
  if (task === cachedTask) return cachedLoop;
  const loop = loopsByTask.get(task);
  // Only a task with a loop is cached: one without is either done with streams or never
  // used them, and the cache must not keep it alive (see setInnermost).
  if (loop === undefined) return null;
  cachedTask = task;
  cachedLoop = loop;
  return loop;
}

function setInnermost(task: object, loop: EachLoop<unknown> | null): void {
  if (loop === null) {
    loopsByTask.delete(task);
    // Forget the task too: the cache must not keep a finished task (and its unretrieved
    // error, reported when it is collected) alive.
    cachedTask = null;
    cachedLoop = null;
    return;
  }
  loopsByTask.set(task, loop);
  cachedTask = task;
  cachedLoop = loop;
}

function popLoop(loop: EachLoop<unknown>): void {
  const task = loop._task ?? OUTSIDE_TASKS;
  const innermost = innermostLoop(task);
  if (innermost === loop) {
    setInnermost(task, loop._outer);
    return;
  }
  // An outer loop released before an inner one (an error thrown through both): unlink it.
  for (let l = innermost; l !== null; l = l._outer) {
    if (l._outer === loop) {
      l._outer = loop._outer;
      return;
    }
  }
}

/**
 * Iterates a stream with a plain `for … of` inside a coroutine (Effection's shape): the
 * body ends with `yield* each.next()`, which pulls the next value. Leaving the loop in any
 * way — the end of the stream, `break`, `return`, a throw, a cancellation at any `yield*`
 * in the body — releases the source exactly once.
 *
 * A pull that finds a value ready (an item already queued, bytes a Readable holds) does
 * not suspend, as `yield*` of a done Future does not: a consumer of a source that is never
 * empty runs without letting other tasks in until it waits, so give the loop a turn with a
 * bare `yield` in the body if others must run meanwhile.
 * @example
 * for (const line of yield* each(lines(reader))) {
 *   if (line === "") break;   // releases the source
 *   yield* handle(line);
 *   yield* each.next();
 * }
 */
export function each<T>(stream: Stream<T>): Coroutine<Iterable<T>> {
  checkStream("each(stream)", stream);
  return startEach(stream);
}

function* startEach<T>(stream: Stream<T>): Coroutine<Iterable<T>> {
  const task = current.task as Task<unknown> | null;
  const key = task ?? OUTSIDE_TASKS;
  const loop = new EachLoop<T>(stream.subscribe(), task, innermostLoop(key));
  setInnermost(key, loop as EachLoop<unknown>);
  yield* loop._pull();
  return loop;
}

/** What goes with `each`: `each.next()`, which ends the body of each `for … of` over it. */
// eslint-disable-next-line @typescript-eslint/no-namespace -- the only way to document a function's property in its declarations
export declare namespace each {
  /**
   * Pulls the next value of the innermost `each` loop of the running task: the last
   * statement of the loop's body. Throws an `Error` outside such a loop.
   */
  const next: () => Coroutine<void>;
}

// Through a cast: a plain `each.next =` would declare `next` a second time.
(each as { next: () => Coroutine<void> }).next = function next(): Coroutine<void> {
  const loop = innermostLoop(current.task ?? OUTSIDE_TASKS);
  if (loop === null) throw new Error("each.next() must be called inside a `for (const v of yield* each(stream))` loop, at the end of its body");
  return loop._next();
};

import type { Coroutine } from "./types.js";
import type { Future } from "./future.js";
import type { EventLoop } from "./loop.js";
import { current } from "./state.js";
import { checkStream, DONE, type PollableSubscription, type Stream } from "./stream.js";
import type { Task } from "./task.js";

/** Options of `mapConcurrent`. */
export interface MapConcurrentOptions {
  /**
   * true (default): results come in the order of the source's values; false: in the order
   * they finish (`asCompleted`).
   */
  ordered?: boolean;
}

/**
 * Runs `fn` on the values of `stream`, at most `limit` at a time, each in a task of its
 * own, and streams the results: the Semaphore(50) crawler of asyncio tutorials in one line.
 * Bounded: a value is pulled from the source only while fewer than `limit` results are
 * running or waiting for the consumer, so a slow consumer stops the source. The first `fn`
 * to fail (or the source failing) cancels every other running `fn`, and the consumer's
 * next pull throws that error. Releasing the stream cancels the running `fn`s and releases
 * the source.
 * @example
 * const pages = mapConcurrent(fromIterable(urls), 50, (url) =>
 *   call((signal) => fetch(url, { signal }).then((r) => r.text())),
 * );
 * for (const page of yield* each(pages)) { console.log(page.length); yield* each.next(); }
 */
export function mapConcurrent<T, U>(stream: Stream<T>, limit: number, fn: (value: T, index: number) => Coroutine<U>, opts?: MapConcurrentOptions): Stream<U> {
  checkStream("mapConcurrent(stream, limit, fn)", stream);
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`mapConcurrent(stream, limit, fn): limit must be an integer >= 1, got ${String(limit)}`);
  }
  if (typeof fn !== "function") throw new TypeError("mapConcurrent(stream, limit, fn): fn must be a function* (value, index) => Coroutine");
  const ordered = opts?.ordered ?? true;
  if (typeof ordered !== "boolean") throw new TypeError("mapConcurrent(stream, limit, fn, { ordered }): ordered must be a boolean");
  return { subscribe: () => new MapConcurrent(stream, limit, fn, ordered) };
}

/** One value being mapped: its task, then its outcome. */
class Entry<U> {
  task: Task<void> | null = null;
  finished = false;
  value: U | undefined = undefined;
}

/**
 * Invariant: `outstanding` counts the entries pulled from the source and not yet handed to
 * the consumer (running, or finished and waiting), never more than `limit`; the feeder task
 * sleeps on `feederWaiter` while it is at `limit`, the consumer on `consumerWaiter` while
 * nothing is ready. `results` holds the entries in source order (ordered) or the finished
 * ones in finishing order (unordered). Once `failed`, every task is being cancelled and the
 * next pull throws `error`.
 */
class MapConcurrent<T, U> implements PollableSubscription<U> {
  readonly _loop: EventLoop;
  readonly _stream: Stream<T>;
  readonly _limit: number;
  readonly _fn: (value: T, index: number) => Coroutine<U>;
  readonly _ordered: boolean;
  readonly _results: Entry<U>[] = [];
  readonly _running = new Set<Entry<U>>();
  _outstanding = 0;
  _index = 0;
  _feeder: Task<void> | null = null;
  _feederWaiter: Future<void> | null = null;
  _consumerWaiter: Future<void> | null = null;
  _sourceDone = false;
  _failed = false;
  _error: unknown = undefined;
  _released = false;

  constructor(stream: Stream<T>, limit: number, fn: (value: T, index: number) => Coroutine<U>, ordered: boolean) {
    const loop = current.loop as EventLoop | null;
    if (loop === null) throw new Error("a mapConcurrent() stream must be subscribed inside a coroutine running on a loop");
    this._loop = loop;
    this._stream = stream;
    this._limit = limit;
    this._fn = fn;
    this._ordered = ordered;
  }

  /** The fast path of `each`: a result that is ready (or the end, or the failure) now. */
  _poll(): IteratorResult<U, undefined> | undefined {
    if (this._released) return DONE;
    if (this._feeder === null) this._feeder = this._loop.createTask(this._feed(), { name: "mapConcurrent feeder" });
    if (this._failed) {
      const error = this._error;
      this._release();
      throw error;
    }
    const head = this._results[0];
    if (head !== undefined && head.finished) {
      this._results.shift();
      this._outstanding--;
      wake(this._feederWaiter);
      return { done: false, value: head.value as U };
    }
    if (this._sourceDone && this._outstanding === 0) {
      this._release();
      return DONE;
    }
    return undefined;
  }

  *next(): Coroutine<IteratorResult<U, undefined>> {
    for (;;) {
      const ready = this._poll();
      if (ready !== undefined) return ready;
      const waiter = (this._consumerWaiter = this._loop.createFuture<void>());
      try {
        yield* waiter;
      } catch (error) {
        this._release();
        throw error;
        // Stryker disable next-line BlockStatement: the future is done once yield* ends (set or cancelled), and wake() skips a done one; clearing only drops the reference
      } finally {
        this._consumerWaiter = null;
      }
    }
  }

  return(): void {
    this._release();
  }

  *_feed(): Coroutine<void> {
    const sub = this._stream.subscribe();
    try {
      for (;;) {
        while (this._outstanding >= this._limit) {
          yield* (this._feederWaiter = this._loop.createFuture<void>());
          this._feederWaiter = null;
        }
        const result = yield* sub.next();
        if (result.done === true) {
          this._sourceDone = true;
          wake(this._consumerWaiter);
          return;
        }
        const entry = new Entry<U>();
        this._outstanding++;
        if (this._ordered) this._results.push(entry);
        entry.task = this._loop.createTask(this._work(entry, result.value, this._index++), { name: "mapConcurrent" });
        this._running.add(entry);
      }
    } catch (error) {
      // After a release this is the cancellation it sent, which _fail ignores.
      this._fail(error);
    } finally {
      sub.return();
    }
  }

  *_work(entry: Entry<U>, value: T, index: number): Coroutine<void> {
    try {
      entry.value = yield* this._fn(value, index);
      entry.finished = true;
      if (!this._ordered) this._results.push(entry);
    } catch (error) {
      // A cancellation we sent (release, or another fn failing) is not a failure of its own:
      // _fail ignores anything after either.
      this._fail(error);
    } finally {
      this._running.delete(entry);
      wake(this._consumerWaiter);
    }
  }

  _fail(error: unknown): void {
    if (this._failed || this._released) return;
    this._failed = true;
    this._error = error;
    this._cancelAll();
    wake(this._consumerWaiter);
  }

  _release(): void {
    if (this._released) return;
    this._released = true;
    this._results.length = 0;
    this._cancelAll();
    // A consumer waiting in next() (a release from another task, with no fn running whose
    // end would wake it) sees the end.
    wake(this._consumerWaiter);
  }

  _cancelAll(): void {
    const feeder = this._feeder;
    if (feeder !== null && !feeder.done()) feeder.cancel();
    // Stryker disable next-line OptionalChaining: an entry joins `running` only once its task is set
    for (const entry of this._running) entry.task?.cancel();
  }
}

function wake(waiter: Future<void> | null): void {
  if (waiter !== null && !waiter.done()) waiter.setResult(undefined);
}

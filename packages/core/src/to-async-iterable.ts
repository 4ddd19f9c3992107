import type { Coroutine } from "./types.js";
import { CancelledError } from "./errors.js";
import type { Future } from "./future.js";
import type { EventLoop } from "./loop.js";
import { current } from "./state.js";
import { checkStream, DONE, type Stream } from "./stream.js";
import type { Task } from "./task.js";

/**
 * An async iterable over `stream` for `for await` code running beside the loop (an
 * async/await library, a Node API that takes an async iterable). Values are pulled on the
 * loop by a task of its own, one per `next()` of the iterator, so nothing is read ahead.
 * `break` (the iterator's `return()`) releases the source and cancels that task; the loop
 * closing cancels it too, and a pending `next()` then rejects with `CancelledError`.
 * Call it inside a coroutine, or pass the loop from outside.
 * @example
 * const iterable = toAsyncIterable(queue.stream(), loop);
 * for await (const job of iterable) {
 *   if (job === "stop") break; // cancels the task that reads the queue
 * }
 */
export function toAsyncIterable<T>(stream: Stream<T>, loop?: EventLoop): AsyncIterableIterator<T> {
  checkStream("toAsyncIterable(stream)", stream);
  const target = loop ?? (current.loop as EventLoop | null);
  if (target === null) throw new Error("toAsyncIterable(stream) outside a coroutine needs the loop as its second argument");
  return new LoopAsyncIterator(stream, target);
}

interface Pending<T> {
  resolve(result: IteratorResult<T, undefined>): void;
  reject(error: unknown): void;
}

/**
 * Invariant: `pending` holds the `next()` calls not yet answered, in order; the pump task
 * (started on the first `next()`) answers them one at a time, waiting on `demand` while
 * none is pending. `finished` is set once the stream ended, failed or was returned; then
 * every `next()` answers `{ done: true }` at once.
 */
class LoopAsyncIterator<T> implements AsyncIterableIterator<T> {
  readonly _stream: Stream<T>;
  readonly _loop: EventLoop;
  readonly _pending: Pending<T>[] = [];
  _demand: Future<void> | null = null;
  _task: Task<void> | null = null;
  _finished = false;

  constructor(stream: Stream<T>, loop: EventLoop) {
    this._stream = stream;
    this._loop = loop;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this._finished) return Promise.resolve(DONE);
    return new Promise<IteratorResult<T, undefined>>((resolve, reject) => {
      this._pending.push({ resolve, reject });
      if (this._task === null) {
        // createTask from outside the loop's turn wakes the loop (EventLoop._enqueue).
        this._task = this._loop.createTask(this._pump(), { name: "toAsyncIterable" });
      } else {
        this._loop.callSoonThreadsafe(wakeDemand, this as LoopAsyncIterator<unknown>);
      }
    });
  }

  return(): Promise<IteratorResult<T, undefined>> {
    if (this._finished) return Promise.resolve(DONE);
    this._finished = true;
    const task = this._task;
    if (task === null || task.done()) return Promise.resolve(DONE);
    this._loop.callSoonThreadsafe(cancelTask, task);
    // Settles once the pump's cleanup (the source's release) has run.
    return new Promise((resolve) => task.addDoneCallback(() => resolve(DONE)));
  }

  *_pump(): Coroutine<void> {
    const sub = this._stream.subscribe();
    try {
      for (;;) {
        while (this._pending.length === 0) {
          if (this._finished) return;
          yield* (this._demand = this._loop.createFuture<void>());
          this._demand = null;
        }
        let result: IteratorResult<T, undefined>;
        try {
          result = yield* sub.next();
        } catch (error) {
          this._finish(error);
          return;
        }
        if (result.done === true) {
          this._finish(null);
          return;
        }
        (this._pending.shift() as Pending<T>).resolve(result);
      }
    } finally {
      sub.return();
      this._finish(new CancelledError("the loop cancelled the task reading the stream"));
    }
  }

  /** Answers every pending `next()`: `{ done: true }`, or rejects with `error`. */
  _finish(error: unknown): void {
    this._finished = true;
    const pending = this._pending.splice(0);
    // Like an async generator that threw: the first waiting next() rejects, the rest end.
    for (let i = 0; i < pending.length; i++) {
      const p = pending[i] as Pending<T>;
      if (error === null || i > 0) p.resolve(DONE);
      else p.reject(error);
    }
  }
}

function wakeDemand(iterator: LoopAsyncIterator<unknown>): void {
  const demand = iterator._demand;
  if (demand !== null && !demand.done()) demand.setResult(undefined);
}

function cancelTask(task: Task<unknown>): void {
  task.cancel("the async iterator was returned (a break in for await)");
}

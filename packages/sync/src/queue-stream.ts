import { CancelledError, currentTask, type Coroutine, type Stream, type Subscription } from "@loop/core";
import { QueueShutDown } from "./errors.js";
import type { Queue } from "./queue.js";
import type { QueueGet } from "./queue-operations.js";

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined }) as IteratorReturnResult<undefined>;

/**
 * A stream of the items of `queue`, taken with `get()` one per pull, until the queue is
 * shut down and empty (asyncio's `QueueShutDown` ends the stream instead of being thrown).
 * Several subscribers share the items, each taking the next one: a pool of workers.
 *
 * Like `Queue.consume`, each item counts as done (`taskDone()`) once the consumer pulls
 * the next one or leaves the loop, so `queue.join()` waits for the loop bodies; a consumer
 * cancelled while waiting for an item takes none, so no item is lost.
 * @example
 * for (const job of yield* each(fromQueue(jobs))) {
 *   yield* handleJob(job);
 *   yield* each.next(); // job done
 * }
 */
export function fromQueue<T>(queue: Queue<T>): Stream<T> {
  if (typeof queue !== "object" || queue === null || typeof (queue as Queue<T>).get !== "function" || typeof (queue as Queue<T>).taskDone !== "function") {
    throw new TypeError("fromQueue(queue): queue must be a Queue, LifoQueue or PriorityQueue of @loop/sync");
  }
  return { subscribe: () => new QueueSubscription(queue) };
}

/**
 * Invariants: `holding` is true while the consumer holds an item it has not finished;
 * `get` is the `Queue.get` the consumer waits in, while it does.
 */
class QueueSubscription<T> implements Subscription<T> {
  _holding = false;
  _released = false;
  _get: QueueGet<T> | null = null;
  /** The result `_poll` hands out, reused: `each` reads it before it polls again. */
  readonly _ready: IteratorYieldResult<T> = { done: false, value: undefined as T };

  constructor(readonly _queue: Queue<T>) {}

  *next(): Coroutine<IteratorResult<T, undefined>> {
    this._finishHeld();
    if (this._released) return DONE;
    let item: T;
    const get = this._queue.get();
    this._get = get as unknown as QueueGet<T>;
    try {
      item = yield* get;
    } catch (error) {
      const released = this._released;
      this._released = true;
      if (error instanceof QueueShutDown) return DONE;
      // A return() from another task cancelled the wait, and no cancel() of the consumer's
      // task came with it: the end of the stream.
      if (released && error instanceof CancelledError && currentTask()?.cancelling() === 0) return DONE;
      throw error;
    } finally {
      this._get = null;
    }
    this._holding = true;
    return { done: false, value: item };
  }

  /** The fast path of `each`: an item already queued (and not promised to a waiting getter). */
  _poll(): IteratorResult<T, undefined> | undefined {
    this._finishHeld();
    if (this._released) return DONE;
    const queue = this._queue;
    // Queue.empty(): every item is promised to a woken getter, or there is none.
    // Stryker disable next-line ConditionalExpression: without the fast path every pull goes through next(), which takes the same item
    if (queue._items.size <= queue._promisedItems) return undefined;
    const result = this._ready;
    result.value = queue._take();
    this._holding = true;
    return result;
  }

  return(): void {
    this._finishHeld();
    this._released = true;
    // A consumer waiting for an item (a release from another task) sees the end: its get
    // is cancelled, which takes no item. An item already kept for it (its future done)
    // still reaches it, and the next pull ends the stream.
    const future = this._get?.future;
    if (future !== null && future !== undefined && !future.done()) future.cancel("the stream was released");
  }

  _finishHeld(): void {
    if (!this._holding) return;
    this._holding = false;
    this._queue.taskDone();
  }
}

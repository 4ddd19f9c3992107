import type { Future } from "@loop/core";
import { QueueShutDown } from "./errors.js";
import type { Queue } from "./queue.js";
import {
  DONE_VOID,
  FINISHED,
  FRESH,
  GRANTED,
  OperationBase,
  outcomeOf,
  SHUT_DOWN,
  stepOperation,
} from "./waiters.js";

/*
 * The two blocking operations of a queue, as state machines (see `Operation`): on the
 * fast path — an item to take, room to put — `yield* queue.get()` and
 * `yield* queue.put(item)` finish inside the first `next()` without a future.
 */

/** `queue.get()`: see `Operation`. */
export class QueueGet<T> extends OperationBase<T> {
  constructor(private readonly _queue: Queue<T>) {
    super();
  }

  next(): IteratorResult<Future<unknown> | undefined, T> {
    const queue = this._queue;
    // Pending getters only exist while every item is promised, so this check is enough for FCFS.
    // Stryker disable next-line BlockStatement: an emptied fast path falls through to stepOperation, whose _tryNow() does the same thing one call later
    if (this._state === FRESH && queue._items.size > queue._promisedItems) {
      this._state = FINISHED;
      return { done: true, value: queue._take() };
    }
    return stepOperation(this, "Queue.get");
  }

  _tryNow(): IteratorReturnResult<T> | null {
    const queue = this._queue;
    if (queue._items.size > queue._promisedItems) return { done: true, value: queue._take() };
    if (queue._isShutdown) throw new QueueShutDown("Queue.get(): the queue was shut down and is empty");
    return null;
  }

  _wait(): void {
    this._queue._getters.push(this);
  }

  _resume(outcome: number): IteratorReturnResult<T> {
    const queue = this._queue;
    if (outcome === SHUT_DOWN) throw new QueueShutDown("Queue.get(): the queue was shut down and is empty");
    if (queue._discarded) throw new QueueShutDown("Queue.get(): the queue was shut down with immediate=true");
    queue._promisedItems--;
    return { done: true, value: queue._take() };
  }

  _abandon(): void {
    const queue = this._queue;
    const outcome = outcomeOf(this);
    if (outcome === GRANTED) {
      // An item was kept for us: it goes to the next getter, or back to everyone.
      if (!queue._discarded) {
        queue._promisedItems--;
        queue._promiseItems();
      }
    } else if (outcome !== SHUT_DOWN) {
      queue._getters.remove(this);
    }
  }
}

/**
 * The state of a put that finished on its fast path: finished (the operation helpers treat
 * any state but FRESH and WAITING so), and free for `Queue.put` to re-arm.
 */
export const SPARE = 3;

/** @internal `queue.put(item)`: see `Operation`. */
export class QueuePut<T> extends OperationBase<void> {
  constructor(
    private readonly _queue: Queue<T>,
    private _item: T | undefined,
  ) {
    super();
  }

  /** Makes a put that finished on the fast path (the queue's spare) a fresh put of `item`. */
  _rearm(item: T): void {
    this._item = item;
    this._state = FRESH;
  }

  next(): IteratorResult<Future<unknown> | undefined, void> {
    const queue = this._queue;
    // Pending putters only exist while every free place is promised, so this check is enough for FCFS.
    // Stryker disable next-line BlockStatement: an emptied fast path falls through to stepOperation, whose _tryNow() does the same thing one call later
    if (this._state === FRESH && !queue._isShutdown && queue._hasRoom()) {
      this._state = FINISHED;
      queue._put(this._item as T);
      this._item = undefined;
      // Finished without a future or a place in a line, so there is nothing to clear: the
      // queue's next put() may hand it out again (see Queue.put). Not before _put returned.
      this._state = SPARE;
      return DONE_VOID;
    }
    return stepOperation(this, "Queue.put");
  }

  _tryNow(): IteratorReturnResult<void> | null {
    const queue = this._queue;
    if (queue._isShutdown) throw new QueueShutDown("Queue.put(): the queue was shut down");
    if (!queue._hasRoom()) return null;
    queue._put(this._item as T);
    this._item = undefined;
    return DONE_VOID;
  }

  _wait(): void {
    this._queue._putters.push(this);
  }

  _resume(outcome: number): IteratorReturnResult<void> {
    const queue = this._queue;
    if (outcome === SHUT_DOWN) throw new QueueShutDown("Queue.put(): the queue was shut down");
    queue._promisedSlots--;
    // Shut down after the place was promised: nobody waits for it any more (shutdown woke them all).
    if (queue._isShutdown) throw new QueueShutDown("Queue.put(): the queue was shut down");
    queue._put(this._item as T);
    this._item = undefined;
    return DONE_VOID;
  }

  _abandon(): void {
    const queue = this._queue;
    const outcome = outcomeOf(this);
    this._item = undefined;
    if (outcome === GRANTED) {
      // A place was kept for us: it goes to the next putter, or back to everyone.
      queue._promisedSlots--;
      if (!queue._isShutdown) queue._promiseSlots();
    } else if (outcome !== SHUT_DOWN) {
      queue._putters.remove(this);
    }
  }
}

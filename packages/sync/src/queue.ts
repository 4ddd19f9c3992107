import type { Coroutine, Future, Stream } from "@loop/core";
import { checkCount, startBody } from "./checks.js";
import { QueueEmpty, QueueFull, QueueShutDown } from "./errors.js";
import { Event } from "./event.js";
import { Heap, RingBuffer, Stack, naturalOrder, type ItemStore } from "./item-stores.js";
import { QueueGet, QueuePut, SPARE } from "./queue-operations.js";
import { fromQueue } from "./queue-stream.js";
import { GRANTED, SHUT_DOWN, WaiterList } from "./waiters.js";

/**
 * A first-in, first-out queue for passing items between tasks (asyncio.Queue, 3.13,
 * with `shutdown`). `maxsize` 0 means unbounded; otherwise `put()` waits for room.
 *
 * Strictly first-come first-served, where asyncio is not: an item that arrives while
 * getters wait is promised to the oldest getter before any other task runs, and a slot
 * that frees up while putters wait is promised to the oldest putter. A newcomer finds the
 * queue empty (or full) until those promises are kept. A waiter cancelled after it was
 * promised something passes the promise on, so no item is lost or taken twice.
 * @example
 * const queue = new Queue<string>(100);
 * createTask((function* () {
 *   for (const line of textLines) yield* queue.put(line);
 *   queue.shutdown();
 * })());
 * yield* queue.consume(function* (line) {
 *   yield* write(line);
 * });
 */
export class Queue<T> {
  /** @internal */ _items: ItemStore<T>;
  /** @internal */ readonly _maxsize: number;
  /** @internal */ readonly _getters = new WaiterList();
  /** @internal */ readonly _putters = new WaiterList();
  /** @internal Items kept for getters that were woken but have not run yet. Never more than `_items.size`. */ _promisedItems = 0;
  /** @internal Free places kept for putters that were woken but have not run yet. */ _promisedSlots = 0;
  /** @internal */ _unfinished = 0;
  /** @internal */ readonly _finished = new Event();
  /** @internal */ _isShutdown = false;
  /** @internal `shutdown(true)` threw the items away, promised ones included. */ _discarded = false;
  /** @internal The put made last: `put()` hands it out again once it finished without waiting (see `QueuePut`). */ _lastPut: QueuePut<T> | null = null;

  constructor(maxsize = 0) {
    checkCount(`new ${new.target.name}(maxsize)`, "maxsize", maxsize, 0);
    this._maxsize = maxsize;
    this._items = new RingBuffer<T>();
    this._finished.set();
  }

  /** The most items the queue holds; 0 for unbounded. */
  get maxsize(): number {
    return this._maxsize;
  }

  /** The number of items in the queue, including those already promised to woken getters. */
  qsize(): number {
    return this._items.size;
  }

  /** True when a `get()` arriving now would have to wait: no item, or every item promised to a woken getter. */
  empty(): boolean {
    return this._items.size <= this._promisedItems;
  }

  /** True when a `put()` arriving now would have to wait. Never true for an unbounded queue. */
  full(): boolean {
    return this._maxsize > 0 && this._items.size + this._promisedSlots >= this._maxsize;
  }

  /**
   * Puts `item` in the queue, waiting for room if it is full. Throws `QueueShutDown` if
   * the queue is (or gets) shut down first. Cancelled while waiting, the item is not put.
   *
   * Nothing happens until the coroutine is run (`yield*`), as with asyncio's `put`. A put
   * that found room at once is reused by the queue's next `put()`, so that a producer
   * allocates nothing per item: like any finished coroutine, it must not be resumed again.
   */
  put(item: T): Coroutine<void> {
    const last = this._lastPut;
    // Only a put that finished on its fast path is SPARE: one handed out and not yet
    // finished, or one that waited, never is, so no put is ever handed out twice.
    if (last !== null && last._state === SPARE) {
      last._rearm(item);
      return last as unknown as Coroutine<void>;
    }
    const put = new QueuePut<T>(this, item);
    this._lastPut = put;
    return put as unknown as Coroutine<void>;
  }

  /**
   * Removes and returns the next item, waiting for one if the queue is empty. Throws
   * `QueueShutDown` when the queue was shut down and nothing is left to take.
   */
  get(): Coroutine<T> {
    return new QueueGet<T>(this) as unknown as Coroutine<T>;
  }

  /** Puts `item` without waiting: `QueueFull` if there is no room, `QueueShutDown` after `shutdown()`. */
  putNowait(item: T): void {
    if (this._isShutdown) throw new QueueShutDown("Queue.putNowait(): the queue was shut down");
    if (!this._hasRoom()) throw new QueueFull(`Queue.putNowait(): the queue is full (maxsize ${this._maxsize})`);
    this._put(item);
  }

  /** Takes an item without waiting: `QueueEmpty` if none is free, `QueueShutDown` if shut down and drained. */
  getNowait(): T {
    if (this._items.size > this._promisedItems) return this._take();
    if (this._isShutdown) throw new QueueShutDown("Queue.getNowait(): the queue was shut down and is empty");
    throw new QueueEmpty("Queue.getNowait(): the queue is empty");
  }

  /**
   * Tells the queue that an item taken earlier has been processed; when every item put
   * has been, `join()` returns. Throws `RangeError` when called more often than items
   * were put.
   */
  taskDone(): void {
    if (this._unfinished <= 0) throw new RangeError("Queue.taskDone(): called more times than items were put");
    this._unfinished--;
    if (this._unfinished === 0) this._finished.set();
  }

  /** Waits until every item put has been taken and marked with `taskDone()`. */
  join(): Coroutine<void> {
    return this._join();
  }

  /**
   * Shuts the queue down (3.13): `put()` now throws `QueueShutDown`, and so do blocked
   * putters and getters; `get()` goes on taking what is left, then throws too. With
   * `immediate`, what is left is dropped (counted as done for `join()`) and `get()`
   * throws at once.
   */
  shutdown(immediate = false): void {
    if (typeof immediate !== "boolean") {
      throw new TypeError(`Queue.shutdown(immediate): immediate must be a boolean, got ${immediate === null ? "null" : typeof immediate}`);
    }
    this._isShutdown = true;
    if (immediate) {
      const dropped = this._items.size;
      this._items.clear();
      this._promisedItems = 0;
      this._discarded = true;
      this._unfinished = Math.max(0, this._unfinished - dropped);
      if (this._unfinished === 0) this._finished.set();
    }
    wakeAll(this._getters);
    wakeAll(this._putters);
  }

  /**
   * Takes items until the queue is shut down and drained, running `body` for each and
   * calling `taskDone()` after it, however it ends. The worker loop of asyncio's guides
   * (`while True: item = await q.get(); …; q.task_done()`) that ends cleanly.
   * @example
   * yield* queue.consume(function* (job) {
   *   yield* handle(job);
   * });
   */
  consume(body: (item: T) => Coroutine<void>): Coroutine<void> {
    if (typeof body !== "function") {
      throw new TypeError(`Queue.consume(body): body must be a function* taking an item, got ${body === null ? "null" : typeof body}`);
    }
    return this._consume(body);
  }

  /** A stream of the items, until shutdown: `each(queue.stream())` (see `fromQueue`). */
  stream(): Stream<T> {
    return fromQueue(this);
  }

  /** A short description for diagnostics, like asyncio's repr: `<Queue maxsize=… qsize=…>`. */
  toString(): string {
    const parts = [`maxsize=${this._maxsize}`, `qsize=${this._items.size}`];
    const getters = this._getters.countPending();
    const putters = this._putters.countPending();
    if (getters > 0) parts.push(`getters=${getters}`);
    if (putters > 0) parts.push(`putters=${putters}`);
    if (this._unfinished > 0) parts.push(`tasks=${this._unfinished}`);
    if (this._isShutdown) parts.push("shutdown");
    return `<${this.constructor.name} ${parts.join(" ")}>`;
  }

  /** @internal Room for a newcomer: the waiting putters (if any) were promised every free place. */
  _hasRoom(): boolean {
    return this._maxsize === 0 || this._items.size + this._promisedSlots < this._maxsize;
  }

  /** @internal asyncio's `put_nowait` after the checks. */
  _put(item: T): void {
    this._items.put(item);
    this._unfinished++;
    this._finished.clear();
    if (this._getters.length > 0) this._promiseItems();
  }

  /** @internal asyncio's `get_nowait` after the checks. */
  _take(): T {
    const item = this._items.take();
    if (this._putters.length > 0) this._promiseSlots();
    return item;
  }

  /** @internal Promises the free items to the oldest pending getters. */
  _promiseItems(): void {
    while (this._items.size > this._promisedItems) {
      const getter = this._getters.takePending();
      if (getter === null) return;
      this._promisedItems++;
      (getter.future as Future<number>).setResult(GRANTED);
    }
  }

  /** @internal Promises the free places to the oldest pending putters. */
  _promiseSlots(): void {
    while (this._hasRoom()) {
      const putter = this._putters.takePending();
      if (putter === null) return;
      this._promisedSlots++;
      (putter.future as Future<number>).setResult(GRANTED);
    }
  }

  private *_join(): Coroutine<void> {
    if (this._unfinished > 0) yield* this._finished.wait();
  }

  private *_consume(body: (item: T) => Coroutine<void>): Coroutine<void> {
    for (;;) {
      let item: T;
      try {
        item = yield* this.get();
      } catch (error) {
        if (error instanceof QueueShutDown) return;
        throw error;
      }
      try {
        yield* startBody("Queue.consume(body)", () => body(item));
      } finally {
        this.taskDone();
      }
    }
  }
}

/**
 * A last-in, first-out queue (asyncio.LifoQueue): `get()` takes the item put last.
 * @example
 * const stack = new LifoQueue<number>();
 */
export class LifoQueue<T> extends Queue<T> {
  constructor(maxsize = 0) {
    super(maxsize);
    this._items = new Stack<T>();
  }
}

/**
 * A queue that gives out the smallest item first (asyncio.PriorityQueue). Items are
 * ordered by `compare` (negative: `a` first), or without one by `naturalOrder`:
 * numbers, strings, and arrays element by element, like Python tuples. Unlike asyncio,
 * items that compare equal come out in the order they were put.
 * @example
 * const jobs = new PriorityQueue<[number, string]>();
 * jobs.putNowait([2, "later"]);
 * jobs.putNowait([1, "first"]);
 * jobs.getNowait(); // [1, "first"]
 */
export class PriorityQueue<T> extends Queue<T> {
  constructor(maxsize = 0, compare: (a: T, b: T) => number = naturalOrder) {
    super(maxsize);
    if (typeof compare !== "function") {
      throw new TypeError(`new PriorityQueue(maxsize, compare): compare must be a function (a, b) => number, got ${compare === null ? "null" : typeof compare}`);
    }
    this._items = new Heap<T>(compare);
  }
}

/** Wakes every pending waiter of a shut-down queue. */
function wakeAll(waiters: WaiterList): void {
  for (let node = waiters.takePending(); node !== null; node = waiters.takePending()) {
    (node.future as Future<number>).setResult(SHUT_DOWN);
  }
}

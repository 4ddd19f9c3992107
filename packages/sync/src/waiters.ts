import { getRunningLoop, InvalidStateError, type Future } from "@loop/core";

/**
 * What a waiter's future resolves to. A waiter is only ever woken with something in its
 * hands — the lock, a permit, a promised item or slot — or with the news that the queue
 * shut down; it never wakes up to "have a look", so a newcomer can never overtake it.
 */
export const GRANTED = 1;
export const SHUT_DOWN = 2;

/**
 * A place in a line of waiters: a node of an intrusive doubly linked list, so that a
 * waiter that gives up leaves the line in O(1) (asyncio's `deque.remove` is O(n)) and
 * nothing is ever shifted. The blocking operations below are their own nodes (one object
 * per wait besides the future); `SimpleWaiterNode` serves the generator-based waits.
 */
export interface WaiterNode {
  /** The future the waiter sleeps on: resolved with GRANTED or SHUT_DOWN, or cancelled. Set before the node is queued. */
  future: Future<number> | null;
  before: WaiterNode | null;
  after: WaiterNode | null;
  /** True while the node is in a list. */
  queued: boolean;
}

/** A waiter of its own, for the waits written as generators (Event, Condition). */
export class SimpleWaiterNode implements WaiterNode {
  future: Future<number>;
  before: WaiterNode | null = null;
  after: WaiterNode | null = null;
  queued = false;

  constructor(label: string) {
    this.future = makeFuture(label);
  }
}

/** A future for a waiter, labelled for task dumps and deadlock reports. */
export function makeFuture(label: string): Future<number> {
  const future = getRunningLoop().createFuture<number>();
  future.label = label;
  return future;
}

/** What a waiter was handed: GRANTED, SHUT_DOWN, or 0 while pending or when cancelled. */
export function outcomeOf(waiter: WaiterNode): number {
  const future = waiter.future;
  return future !== null && future.done() && !future.cancelled() ? future.result() : 0;
}

/**
 * Waiters in arrival order. Invariant kept by every primitive of this package: a waiter
 * whose future is still pending is owed nothing yet, and whatever becomes free is handed
 * to the oldest such waiter before anyone else can see it.
 */
export class WaiterList {
  private _head: WaiterNode | null = null;
  private _tail: WaiterNode | null = null;
  /** Nodes in the list, including ones whose future was cancelled but not yet unlinked. */
  length = 0;

  push(node: WaiterNode): void {
    node.before = this._tail;
    node.after = null;
    if (this._tail === null) this._head = node;
    else this._tail.after = node;
    this._tail = node;
    node.queued = true;
    this.length++;
  }

  /** Unlinks `node`; a no-op when it is not in the list any more. */
  remove(node: WaiterNode): void {
    if (!node.queued) return;
    const prev = node.before;
    const next = node.after;
    if (prev === null) this._head = next;
    else prev.after = next;
    if (next === null) this._tail = prev;
    else next.before = prev;
    node.before = null;
    node.after = null;
    node.queued = false;
    this.length--;
  }

  /**
   * Unlinks and returns the oldest waiter whose future is still pending, dropping on the
   * way the ones whose future is done (cancelled by their task, which has not yet run to
   * unlink itself). Null when there is none.
   */
  takePending(): WaiterNode | null {
    let node = this._head;
    while (node !== null) {
      this.remove(node);
      if (node.future !== null && !node.future.done()) return node;
      node = this._head;
    }
    return null;
  }

  /** True when some waiter is still pending (cancelled ones do not count). */
  hasPending(): boolean {
    for (let node = this._head; node !== null; node = node.after) {
      if (node.future !== null && !node.future.done()) return true;
    }
    return false;
  }

  /** How many waiters are still pending. */
  countPending(): number {
    let n = 0;
    for (let node = this._head; node !== null; node = node.after) {
      if (node.future !== null && !node.future.done()) n++;
    }
    return n;
  }
}

/** The shared "done" results of operations that finish without suspending. */
export const DONE_TRUE: IteratorReturnResult<true> = Object.freeze({ done: true, value: true }) as IteratorReturnResult<true>;
export const DONE_VOID: IteratorReturnResult<void> = Object.freeze({ done: true, value: undefined }) as IteratorReturnResult<void>;

export const FRESH = 0;
export const WAITING = 1;
export const FINISHED = 2;

/** @internal
 * A blocking operation written out as a small state machine instead of a `function*`,
 * so that `yield* lock.acquire()` costs one small object and, when the lock is free, no
 * future, no generator and no suspension. Each operation class is flat (no base class:
 * V8 builds derived objects several times slower), is its own `WaiterNode` node, and
 * implements the generator protocol (`next`, `throw`, `return`, iterable, usable as a
 * task's coroutine) through the functions below:
 *
 * - the first `next()` calls `_tryNow()`; if that cannot finish at once, the operation
 *   gets a future and `_wait()` queues it, and the future is yielded to the task;
 * - the `next()` after the future is done calls `_resume(outcome)` with what the waiter
 *   was handed (GRANTED or SHUT_DOWN);
 * - a `throw()` or `return()` while waiting — a cancellation, mostly — or a resumption
 *   on a cancelled future calls `_abandon()`, which gives back anything the waiter had
 *   already been handed, so that nothing is lost.
 */
export interface Operation<T> extends WaiterNode {
  _state: number;
  _tryNow(): IteratorReturnResult<T> | null;
  _wait(): void;
  _resume(outcome: number): IteratorReturnResult<T>;
  _abandon(): void;
}

/** @internal
 * What every operation shares: its place in a waiter line and the iterator protocol around
 * `stepOperation`. A subclass writes its own `next()` — the fast path, then
 * `stepOperation` — and the four hooks.
 */
export abstract class OperationBase<T> implements Operation<T> {
  _state = FRESH;
  future: Future<number> | null = null;
  before: WaiterNode | null = null;
  after: WaiterNode | null = null;
  queued = false;

  abstract next(): IteratorResult<Future<unknown> | undefined, T>;
  abstract _tryNow(): IteratorReturnResult<T> | null;
  abstract _wait(): void;
  abstract _resume(outcome: number): IteratorReturnResult<T>;
  abstract _abandon(): void;

  throw(error: unknown): never {
    return throwIntoOperation(this, error);
  }

  return(value: T): IteratorReturnResult<T> {
    return returnFromOperation(this, value);
  }

  [Symbol.iterator](): this {
    return this;
  }
}

/** `next()` of an operation, after its own fast path. */
export function stepOperation<T>(op: Operation<T>, label: string): IteratorResult<Future<unknown> | undefined, T> {
  if (op._state === FRESH) {
    op._state = FINISHED; // until it waits: a throw in _tryNow ends the operation
    const now = op._tryNow();
    if (now !== null) return now;
    const future = makeFuture(label);
    op.future = future;
    op._wait();
    op._state = WAITING;
    return { done: false, value: future as Future<unknown> };
  }
  if (op._state === WAITING) {
    const future = op.future as Future<number>;
    if (!future.done()) {
      throw new InvalidStateError(
        "a coroutine was resumed while the future it waits on is still pending: only a Task may drive a coroutine that waits on futures",
      );
    }
    op._state = FINISHED;
    if (future.cancelled()) {
      op._abandon();
      return future.result() as never; // throws the CancelledError
    }
    return op._resume(future.result());
  }
  return { done: true, value: undefined as T };
}

/** `throw(error)` of an operation. */
export function throwIntoOperation<T>(op: Operation<T>, error: unknown): never {
  if (op._state === WAITING) leave(op);
  op._state = FINISHED;
  throw error;
}

/** `return(value)` of an operation. */
export function returnFromOperation<T>(op: Operation<T>, value: T): IteratorReturnResult<T> {
  if (op._state === WAITING) leave(op);
  op._state = FINISHED;
  return { done: true, value };
}

function leave<T>(op: Operation<T>): void {
  op._abandon();
  // Left from outside a task's cancellation (a throw or return by hand): the future
  // must not stay pending, or a later hand-over could pick this waiter.
  const future = op.future as Future<number>;
  if (!future.done()) future.cancel();
}

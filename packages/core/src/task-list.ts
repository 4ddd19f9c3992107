import type { Task } from "./task.js";

/**
 * The loop's pending tasks, in creation order: a doubly linked list threaded through the
 * tasks themselves (`_prevTask`/`_nextTask`). A `Set` would do, but adding and deleting
 * a task there costs a hash-table entry and its rehashing, a fifth of a task's
 * create-yield-finish cycle when 100,000 of them run at once; two fields in the task cost
 * less memory too. It offers the subset of `Set` the loop uses.
 */
export class TaskList {
  private _first: Task<unknown> | null = null;
  private _last: Task<unknown> | null = null;
  private _size = 0;

  get size(): number {
    return this._size;
  }

  add(task: Task<unknown>): void {
    if (this.has(task)) return;
    const last = this._last;
    task._prevTask = last;
    task._nextTask = null;
    if (last === null) this._first = task;
    else last._nextTask = task;
    this._last = task;
    this._size++;
  }

  has(task: Task<unknown>): boolean {
    return task._prevTask !== null || this._first === task;
  }

  /** Removes `task`; false if it was not in the list. */
  delete(task: Task<unknown>): boolean {
    const prev = task._prevTask;
    const next = task._nextTask;
    if (prev === null) {
      if (this._first !== task) return false;
      this._first = next;
    } else {
      prev._nextTask = next;
    }
    if (next === null) this._last = prev;
    else next._prevTask = prev;
    task._prevTask = null;
    task._nextTask = null;
    this._size--;
    return true;
  }

  /** Iterates in creation order. Copy it (`[...list]`) before adding or deleting tasks while iterating. */
  *[Symbol.iterator](): Generator<Task<unknown>, void, undefined> {
    let task = this._first;
    while (task !== null) {
      const next = task._nextTask;
      yield task;
      task = next;
    }
  }
}

import { CancelledError, ExceptionGroup } from "./errors.js";
import { Future, FutureState } from "./future.js";
import type { EventLoop } from "./loop.js";
import { current } from "./state.js";
import type { Task } from "./task.js";
import type { AbstractTaskGroup, Coroutine, TaskOptions } from "./types.js";
import { enterScope, ExitStack, leaveScope, settleScope } from "./resource.js";

/**
 * The handle a `taskGroup` body gets for starting children (asyncio.TaskGroup, 3.13).
 * @example
 * yield* taskGroup(function* (tg) {
 *   tg.createTask(download("a"));
 *   tg.createTask(download("b"));
 * }); // both done here, or both cancelled and the errors raised together
 */
export class TaskGroup implements AbstractTaskGroup {
  /** @internal */ _loop: EventLoop;
  /** @internal */ _parent: Task<unknown>;
  /** @internal */ readonly _tasks = new Set<Task<unknown>>();
  /** @internal */ readonly _errors: unknown[] = [];
  /** @internal */ _exiting = false;
  /** @internal */ _aborting = false;
  /** @internal We cancelled the parent ourselves and owe it an uncancel(). */ _parentCancelRequested = false;
  /** @internal Resolved when the last child finishes while the group waits at its exit. */ _allDone: Future<void> | null = null;

  /** @internal */
  constructor(loop: EventLoop, parent: Task<unknown>) {
    this._loop = loop;
    this._parent = parent;
  }

  /**
   * Starts a child task. Throws if the group has finished, or is shutting down because a
   * child failed or the parent was cancelled.
   */
  createTask<T>(coro: Coroutine<T>, opts?: TaskOptions): Task<T> {
    if (this._exiting && this._tasks.size === 0) {
      closeQuietly(coro);
      throw new Error("TaskGroup is finished: createTask() must be called while the group is open");
    }
    if (this._aborting) {
      closeQuietly(coro);
      throw new Error("TaskGroup is shutting down: a child failed or the group was cancelled, so it takes no new tasks");
    }
    const task = this._loop.createTask(coro, opts);
    task._group = this;
    this._tasks.add(task as Task<unknown>);
    task.addDoneCallback(this._onTaskDone);
    return task;
  }

  /** The task that runs the group's body and waits for the children at its end. */
  parentTask(): Task<unknown> {
    return this._parent;
  }

  /** The children still running. */
  tasks(): ReadonlySet<Task<unknown>> {
    return this._tasks;
  }

  /** @internal Cancels every child still running. */
  _abort(): void {
    this._aborting = true;
    // Stryker disable next-line ConditionalExpression: cancel() on a done task returns false and changes nothing; the check only skips the call
    for (const task of this._tasks) if (!task.done()) task.cancel();
  }

  private readonly _onTaskDone = (task: Future<unknown>): void => {
    const child = task as Task<unknown>;
    this._tasks.delete(child);
    if (this._allDone !== null && this._tasks.size === 0 && !this._allDone.done()) this._allDone.setResult();
    if (child.cancelled() || child._state !== FutureState.FAILED) return;
    const error = child.exception();
    this._errors.push(error);
    if (this._parent.done()) {
      this._loop.callExceptionHandler({
        message: `Task ${JSON.stringify(child.name)} failed after its task group's parent task had finished`,
        exception: error,
        task: child,
      });
      return;
    }
    if (!this._aborting && !this._parentCancelRequested) {
      // The first failure stops the body: cancel the parent (to interrupt whatever the body
      // waits on) and remember to withdraw that cancellation when the group exits.
      this._abort();
      this._parentCancelRequested = true;
      this._parent.cancel();
    }
  };

  /** @internal The group's exit (asyncio's `TaskGroup.__aexit__`); `bodyError` is what the body threw, if it threw. */
  *_exit(threw: boolean, bodyError: unknown): Coroutine<void> {
    this._exiting = true;
    let propagateCancel: CancelledError | null = threw && bodyError instanceof CancelledError ? bodyError : null;
    if (threw && !this._aborting) this._abort();

    // Wait for every child. The wait itself can be cancelled again and again if the parent
    // is cancelled repeatedly; each time, the children are (still) being cancelled.
    while (this._tasks.size > 0) {
      // Stryker disable next-line ConditionalExpression: always true, the end of every pass sets _allDone back to null
      if (this._allDone === null) {
        this._allDone = this._loop.createFuture<void>();
        this._allDone.label = "TaskGroup exit";
      }
      try {
        yield* this._allDone;
      } catch (error) {
        if (!(error instanceof CancelledError)) throw error;
        if (!this._aborting) {
          propagateCancel = error;
          this._abort();
        }
      }
      this._allDone = null;
    }

    if (this._parentCancelRequested) {
      // The cancellation we sent ourselves is withdrawn; if it was the only one, the
      // CancelledError it caused is not propagated.
      // Stryker disable next-line EqualityOperator: the group cancels its parent only after a child failed, and with an error collected propagateCancel is never thrown
      if (this._parent.uncancel() === 0) propagateCancel = null;
    }
    if (propagateCancel !== null && this._errors.length === 0) throw propagateCancel;
    if (threw && !(bodyError instanceof CancelledError)) this._errors.push(bodyError);
    if (this._errors.length > 0) {
      // A cancellation from outside is kept pending (3.13): withdraw and re-send it, so the
      // parent's cancel count is unchanged and it is cancelled at its next suspension.
      if (this._parent.cancelling() > 0) {
        this._parent.uncancel();
        this._parent.cancel();
      }
      throw new ExceptionGroup("unhandled errors in a TaskGroup", this._errors);
    }
  }
}

/**
 * Runs `body` with a task group: structured concurrency as asyncio.TaskGroup (3.13).
 * When the body ends, the group waits for every child. The first child to fail cancels
 * the body and the other children; the errors are then thrown together as an
 * `ExceptionGroup`. A cancellation of the parent from outside cancels the children and is
 * re-thrown as `CancelledError` once they have all finished. No child outlives the group.
 * @example
 * const results = yield* taskGroup(function* (tg) {
 *   const a = tg.createTask(fetchOne("a", 100));
 *   const b = tg.createTask(fetchOne("b", 50));
 *   yield* sleep(10);
 *   return [a, b];
 * });
 */
export function taskGroup<T>(body: (tg: TaskGroup) => Coroutine<T>): Coroutine<T> {
  if (typeof body !== "function") {
    throw new TypeError("taskGroup(body): body must be a function* (tg) => Coroutine that starts tasks with tg.createTask");
  }
  return runGroup(body);
}

function* runGroup<T>(body: (tg: TaskGroup) => Coroutine<T>): Coroutine<T> {
  const parent = current.task as Task<unknown> | null;
  if (parent === null) throw new Error("taskGroup() must run inside a task: yield* it from a coroutine");
  // A task's steps run on its own loop.
  const loop = parent._loop as EventLoop;
  const group = new TaskGroup(loop, parent);
  // The group is a scope for defer() and use(): its cleanups run once every child is done.
  const stack = new ExitStack();
  enterScope(stack);
  let result: T | undefined;
  let threw = false;
  let bodyError: unknown;
  try {
    result = yield* body(group);
  } catch (error) {
    threw = true;
    bodyError = error;
  }
  let exitThrew = false;
  let exitError: unknown;
  try {
    yield* group._exit(threw, bodyError);
  } catch (error) {
    exitThrew = true;
    exitError = error;
  }
  settleScope(loop, exitThrew, exitError, yield* leaveScope(stack));
  return result as T;
}

function closeQuietly(coro: Coroutine<unknown>): void {
  try {
    coro.return(undefined as never);
  } catch {
    // A coroutine that was never started has nothing to clean up; ignore what it throws.
  }
}

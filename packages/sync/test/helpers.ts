/**
 * Test helpers for @loop/sync: nothing here waits on time; tests count loop turns.
 */
import { createTask, type Awaitable, type Coroutine, type Task } from "@loop/core";

/** Gives the loop `n` turns (bare yields, `asyncio.sleep(0)` each). */
export function* turns(n = 1): Coroutine<void> {
  for (let i = 0; i < n; i++) yield;
}

/** Starts `body` as a task; its first step runs next turn. */
export function spawn<T>(body: () => Coroutine<T>, name?: string): Task<T> {
  return createTask(body(), name === undefined ? undefined : { name });
}

/** How a finished task ended: `"ok:<result>"`, `"cancelled"` or `"<ErrorName>"`. */
export function outcome(task: Task<unknown>): string {
  if (!task.done()) return "pending";
  if (task.cancelled()) return "cancelled";
  const error = task.exception();
  if (error === null) return `ok:${String(task.result())}`;
  return error instanceof Error ? error.name : String(error);
}

/** Waits for every task to finish, whatever the outcome. */
export function* settle(tasks: readonly Task<unknown>[]): Coroutine<void> {
  for (const task of tasks) {
    try {
      yield* task;
    } catch { // eslint-disable-line @loop/no-swallowed-cancel -- each task's outcome, cancellation included, is read with outcome(task)
      // the outcome is read with outcome(task)
    }
  }
}

/** The error `body` throws; fails when it does not throw. */
export function* thrown(body: Awaitable<unknown>): Coroutine<unknown> {
  try {
    yield* body;
  } catch (error) {
    return error;
  }
  throw new Error("expected the coroutine to throw");
}

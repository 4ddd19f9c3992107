import { getRunningLoop } from "./loop.js";
import type { Task } from "./task.js";
import type { Coroutine, TaskOptions } from "./types.js";

/**
 * Schedules a coroutine as a task on the running loop (asyncio.create_task). Its first
 * step runs on the next turn; the loop keeps it alive until it is done.
 * @example
 * const task = createTask(fetchOne("a", 100));
 * // …other work…
 * const result = yield* task;
 */
export function createTask<T>(coro: Coroutine<T>, opts?: TaskOptions): Task<T> {
  return getRunningLoop().createTask(coro, opts);
}

/** The pending tasks of the running loop (asyncio.all_tasks). */
export function allTasks(): Set<Task<unknown>> {
  return getRunningLoop().allTasks();
}

import { isCoroutine, notACoroutineMessage } from "./coroutine.js";
import { gather } from "./gather.js";
import { EventLoop } from "./loop.js";
import type { Poller } from "./poller.js";
import { current } from "./state.js";
import type { Coroutine } from "./types.js";

/** Options of `run()`. */
export interface RunOptions {
  /** Debug mode (see `EventLoop.setDebug`); defaults to LOOP_DEBUG from the environment. */
  debug?: boolean;
  /** The poller of the new loop; the default poller otherwise. */
  poller?: Poller;
}

/**
 * Runs a coroutine on a new event loop and resolves with its result (asyncio.run):
 * creates the loop, runs `main` to completion, cancels every task still pending and lets
 * them finish their cleanup, shuts down the default executor, and closes the loop.
 * @example
 * await run(function* () {
 *   yield* sleep(100);
 *   return "done";
 * });
 */
export function run<T>(main: Coroutine<T> | (() => Coroutine<T>), opts?: RunOptions): Promise<T> {
  if (current.loop !== null) {
    return Promise.reject(
      new Error(
        "run() cannot be called from a running event loop. Inside a coroutine, run the work in this task with `yield* main()`, or concurrently with createTask(main())",
      ),
    );
  }
  let coro: Coroutine<T>;
  try {
    coro = typeof main === "function" ? main() : main;
    if (!isCoroutine(coro)) throw new TypeError(notACoroutineMessage("run(main)", coro));
  } catch (error) {
    return Promise.reject(error);
  }
  return runOnNewLoop(coro, opts);
}

async function runOnNewLoop<T>(coro: Coroutine<T>, opts?: RunOptions): Promise<T> {
  const loop = new EventLoop({ poller: opts?.poller, debug: opts?.debug });
  try {
    return await loop.runUntilComplete(coro);
  } finally {
    try {
      await cancelAllTasks(loop);
      await loop.shutdownDefaultExecutor();
    } finally {
      loop.close();
    }
  }
}

/** asyncio.runners._cancel_all_tasks: cancel what is left, wait for it, report its errors. */
async function cancelAllTasks(loop: EventLoop): Promise<void> {
  const leftovers = [...loop._tasks];
  if (leftovers.length === 0) return;
  for (const task of leftovers) task.cancel();
  await loop.runUntilComplete(gatherOn(loop, leftovers));
  for (const task of leftovers) {
    if (task.cancelled()) continue;
    const error = task.exception();
    if (error !== null) {
      loop.callExceptionHandler({ message: "unhandled exception during run() shutdown", exception: error, task });
    }
  }
}

function* gatherOn(_loop: EventLoop, tasks: readonly import("./task.js").Task<unknown>[]): Coroutine<unknown> {
  return yield* gather(tasks, { returnExceptions: true });
}

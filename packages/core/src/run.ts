import { isCoroutine, notACoroutineMessage } from "./coroutine.js";
import { gather } from "./gather.js";
import { hostSignalDriver } from "./host-signals.js";
import { EventLoop } from "./loop.js";
import type { Poller } from "./types.js";
import { RunInterrupts, checkAbortSignal, signalsToHandle } from "./run-interrupts.js";
import type { TaskAbortSignal } from "./signal.js";
import { current } from "./state.js";
import type { Task } from "./task.js";
import type { Coroutine } from "./types.js";

/** Options of `run()`. */
export interface RunOptions {
  /** Debug mode (see `EventLoop.setDebug`); defaults to LOOP_DEBUG from the environment. */
  debug?: boolean;
  /** The poller of the new loop; the default poller otherwise. */
  poller?: Poller;
  /**
   * Which signals interrupt the run as Ctrl-C does (asyncio's Runner): the first cancels
   * the main task and, once its cleanup is done, `run()` rejects with `KeyboardInterrupt`;
   * a second ends the process at once. By default SIGINT, when the poller delivers signals
   * (the default poller on Node's main thread) and no other SIGINT listener is installed;
   * `false` turns it off, `["SIGINT", "SIGTERM"]` widens it.
   */
  handleSignals?: boolean | readonly string[];
  /** Aborting it cancels the main task; `run()` then rejects with the signal's reason. */
  signal?: TaskAbortSignal;
}

/**
 * Runs a coroutine on a new event loop and resolves with its result (asyncio.run):
 * creates the loop, runs `main` to completion, cancels every task still pending and lets
 * them finish their cleanup, shuts down the default executor, and closes the loop.
 *
 * Ctrl-C (SIGINT) cancels `main` and lets every `finally` run; `run()` then rejects with
 * `KeyboardInterrupt`, which, left uncaught, ends the process as killed by SIGINT (exit
 * status 130), as Python does. A second Ctrl-C during that cleanup ends the process at
 * once. See `RunOptions.handleSignals` and `RunOptions.signal`.
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
  let signals: readonly string[];
  let abort: ReturnType<typeof checkAbortSignal>;
  try {
    if (opts !== undefined && (typeof opts !== "object" || opts === null)) {
      throw new TypeError("run(main, opts): opts must be an object like { debug, poller, handleSignals, signal }");
    }
    signals = signalsToHandle(opts?.handleSignals, opts?.poller, hostSignalDriver());
    abort = checkAbortSignal(opts?.signal);
    coro = typeof main === "function" ? main() : main;
    if (!isCoroutine(coro)) throw new TypeError(notACoroutineMessage("run(main)", coro));
  } catch (error) {
    return Promise.reject(error);
  }
  return runOnNewLoop(coro, opts, signals, abort);
}

async function runOnNewLoop<T>(coro: Coroutine<T>, opts: RunOptions | undefined, signals: readonly string[], abort: ReturnType<typeof checkAbortSignal>): Promise<T> {
  const loop = new EventLoop({ poller: opts?.poller, debug: opts?.debug });
  const interrupts = new RunInterrupts(loop, signals, abort);
  try {
    const task = loop.createTask(coro);
    interrupts.watch(task as Task<unknown>);
    try {
      return await loop.runUntilComplete(task);
    } catch (error) {
      throw interrupts.explain(task as Task<unknown>, error);
    }
  } finally {
    try {
      await cancelAllTasks(loop);
      await loop.shutdownDefaultExecutor();
    } finally {
      interrupts.close();
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

function* gatherOn(_loop: EventLoop, tasks: readonly Task<unknown>[]): Coroutine<unknown> {
  return yield* gather(tasks, { returnExceptions: true });
}

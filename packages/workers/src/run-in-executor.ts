import { getRunningLoop, type EventLoop, type Executor, type ExecutorJob, type Future } from "@loop/core";
import { defaultExecutorOf } from "./default-executor.js";
import { functionSource } from "./function-source.js";
import { JobFuture, settle } from "./job-future.js";
import { describeType, isModuleFunction, type AnyFunction, type ModuleFunction } from "./module-function.js";
import { unwrapTransfers, type TransferableArgs } from "./transfer.js";

/**
 * Runs `fn(...args)` on `executor` — the running loop's default executor when null — and
 * returns a Future of its result (asyncio's `loop.run_in_executor`). `fn` is a
 * `moduleFunction(url, exportName)` or a self-contained function (see `toThread`).
 *
 * Cancelling the Future (or the task that waits on it) cancels the job: a queued job is
 * dropped, a running one is stopped. An error thrown by the job arrives with its class
 * name, message and stack. Arguments marked with `transfer()` are moved, not copied.
 * @example
 * const pool = new WorkerPoolExecutor({ maxThreads: 2 });
 * const sha = moduleFunction<typeof import("./hash.js").sha>(new URL("./hash.js", import.meta.url), "sha");
 * const digest = yield* runInExecutor(pool, sha, data);
 */
export function runInExecutor<F extends AnyFunction>(
  executor: Executor | null,
  fn: F | ModuleFunction<F>,
  ...args: TransferableArgs<Parameters<F>>
): Future<Awaited<ReturnType<F>>> {
  const where = "runInExecutor(executor, fn, …args)";
  const loop = runningLoop(where);
  if (executor !== null && (typeof executor !== "object" || !runsJobs(executor))) {
    throw new TypeError(`${where}: executor must be an Executor with start() or submit() (a WorkerPoolExecutor), or null for the loop's default, got ${describeType(executor)}`);
  }
  if (isModuleFunction(fn)) return submitJob(loop, executor, `runInExecutor(${fn.name})`, fn.name, null, fn, args);
  checkFunction(where, fn);
  const name = functionName(fn);
  return submitJob(loop, executor, `runInExecutor(${name})`, name, fn, null, args);
}

/** @internal Shared by runInExecutor, runInWorker and toThread. */
export function submitJob<T>(
  loop: EventLoop,
  executor: Executor | null,
  label: string,
  name: string,
  fn: AnyFunction | null,
  module: ModuleFunction | null,
  rawArgs: readonly unknown[],
): Future<T> {
  for (let i = 0; i < rawArgs.length; i++) checkArgument(label, i, rawArgs[i]);
  const target = executor ?? defaultExecutorOf(loop);
  if (!runsJobs(target)) {
    throw new TypeError(`${label}: the loop's default executor has no start() or submit(); set one that runs jobs, such as new WorkerPoolExecutor(), with loop.setDefaultExecutor()`);
  }
  const { args, transfer } = unwrapTransfers(rawArgs);
  const job: ExecutorJob = {
    name,
    fn: fn as ExecutorJob["fn"],
    module,
    args,
    transfer,
    runTimeMs: null,
  };
  const future = new JobFuture<T>(loop, job);
  future.label = label;
  try {
    if (target.start !== undefined) {
      target.start(job, future, (ok, value) => settle(future, ok, value));
    } else {
      (target.submit as NonNullable<Executor["submit"]>)(job, future).then(
        (value) => settle(future, true, value),
        (error: unknown) => settle(future, false, error),
      );
    }
  } catch (error) {
    // Refused at the call (a shut-down executor): the Future never leaves this function.
    future.discard();
    throw error;
  }
  // The job runs outside the loop's turns: count it, so that a virtual-time poller does
  // not jump the clock while a worker is busy. (The executor's promise settles in a later
  // microtask at the earliest, so this comes first.)
  loop.refExternal();
  return future;
}

/** An executor that can be handed jobs, through either form of the contract. */
function runsJobs(executor: Executor): boolean {
  return typeof executor.start === "function" || typeof executor.submit === "function";
}

function runningLoop(where: string): EventLoop {
  try {
    return getRunningLoop();
  } catch {
    throw new Error(`${where} must be called from a coroutine running on an event loop (inside run(…)): it returns a Future to yield*`);
  }
}

/** @internal */
export function requireLoop(where: string): EventLoop {
  return runningLoop(where);
}

/**
 * Arguments are copied to the worker thread (structured clone). The common mistakes are
 * caught here, at the call; anything deeper that cannot be cloned fails the job with a
 * TypeError when it is sent.
 */
function checkArgument(label: string, index: number, arg: unknown): void {
  const type = typeof arg;
  if (type === "function" || type === "symbol") {
    throw new TypeError(
      `${label}: argument ${index + 1} is a ${type}, which cannot be sent to a worker thread; only data crosses threads (plain objects, arrays, strings, numbers, typed arrays…)`,
    );
  }
}

/** @internal What a function given to toThread/runInExecutor must be: its source text is what travels. */
export function checkFunction(where: string, fn: unknown): asserts fn is AnyFunction {
  if (typeof fn !== "function") {
    throw new TypeError(`${where}: fn must be a function, or a moduleFunction(url, exportName), got ${describeType(fn)}`);
  }
  checkSource(where, fn as AnyFunction);
}

function checkSource(where: string, fn: AnyFunction): void {
  const source = functionSource(fn);
  if (source.endsWith("{ [native code] }")) {
    throw new TypeError(
      `${where}: ${functionName(fn)} is a built-in or bound function: its source text cannot be sent to a worker thread; wrap the call in a self-contained function, or put it in a module and use runInWorker`,
    );
  }
  if (source.startsWith("class")) {
    throw new TypeError(`${where}: ${functionName(fn)} is a class; pass a function that does the work instead`);
  }
}

export function functionName(fn: AnyFunction): string {
  return fn.name === "" ? "<anonymous>" : fn.name;
}

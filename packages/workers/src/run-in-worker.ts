import type { Future } from "@loop/core";
import { makeModuleFunction, type AnyFunction } from "./module-function.js";
import { checkFunction, functionName, requireLoop, submitJob } from "./run-in-executor.js";
import type { TransferableArgs } from "./transfer.js";

/**
 * Runs the export `exportName` of the module at `moduleUrl` in a worker thread of the
 * loop's default executor, with `args` copied there (or moved, with `transfer()`), and
 * returns a Future of its result. The worker loads the module once and keeps it.
 *
 * Cancelling the Future, or the task waiting on it, cancels the job: a queued job is
 * dropped; a running one is stopped by terminating its thread, which the pool replaces.
 * An error thrown by the function arrives with its class name, message and stack.
 * `F` types the call: `runInWorker<typeof import("./hash.js").sha>(…)`.
 * @example
 * const hashModule = new URL("./hash.js", import.meta.url);
 * function* main(): Coroutine<void> {
 *   const digest = yield* runInWorker<typeof import("./hash.js").sha>(hashModule, "sha", "some text");
 * }
 */
export function runInWorker<F extends AnyFunction = AnyFunction>(
  moduleUrl: string | URL,
  exportName: string,
  ...args: TransferableArgs<Parameters<F>>
): Future<Awaited<ReturnType<F>>> {
  const where = "runInWorker(moduleUrl, exportName, …args)";
  const loop = requireLoop(where);
  const fn = makeModuleFunction<F>("runInWorker", moduleUrl, exportName);
  return submitJob(loop, null, `runInWorker(${fn.name})`, fn.name, null, fn, args);
}

/**
 * Runs a self-contained function in a worker thread of the loop's default executor and
 * returns a Future of its result (asyncio's `to_thread`). What travels is the function's
 * source text, compiled again in the worker, so the function must not use variables
 * from around it (closures, imports): a function that does fails with a ReferenceError
 * naming the variable. Pass what it needs as arguments, import modules inside it with
 * `await import(…)`, or put it in a module and use `runInWorker`. Built-in, bound and
 * class functions are refused at the call. Unlike asyncio's `to_thread`, the caller's
 * context variables do not travel: the worker is another JavaScript realm.
 * @example
 * const primes = yield* toThread((limit: number) => {
 *   const sieve = new Uint8Array(limit);
 *   let count = 0;
 *   for (let i = 2; i < limit; i++) {
 *     if (sieve[i]) continue;
 *     count++;
 *     for (let j = i * i; j < limit; j += i) sieve[j] = 1;
 *   }
 *   return count;
 * }, 10_000_000);
 */
export function toThread<F extends AnyFunction>(fn: F, ...args: TransferableArgs<Parameters<F>>): Future<Awaited<ReturnType<F>>> {
  const where = "toThread(fn, …args)";
  const loop = requireLoop(where);
  checkFunction(where, fn);
  const name = functionName(fn);
  return submitJob(loop, null, `toThread(${name})`, name, fn, null, args);
}

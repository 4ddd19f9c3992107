/**
 * `@loop/workers` — blocking and CPU-bound work off the loop, on worker threads, from
 * `@loop` coroutines, cancellably. The public surface is listed here, name by name;
 * `test/surface.test.ts` pins it.
 */
import { registerLibraryModule } from "@loop/core";

// Diagnostics (debug-mode reports, task trees) point past this package's frames at the user's code.
registerLibraryModule(import.meta.url);

export { runInWorker, toThread } from "./run-in-worker.js";
export { runInExecutor } from "./run-in-executor.js";
export { moduleFunction } from "./module-function.js";
export type { AnyFunction, ModuleFunction } from "./module-function.js";
export { WorkerPoolExecutor } from "./worker-pool-executor.js";
export type { WorkerPoolOptions } from "./worker-pool-executor.js";
export { defaultExecutor } from "./default-executor.js";
export { transfer } from "./transfer.js";
export type { Transfer, TransferableArgs, TransferItem } from "./transfer.js";
export type { Executor, ExecutorJob, ExecutorSignal } from "@loop/core";

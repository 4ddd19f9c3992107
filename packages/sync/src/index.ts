/**
 * `@loop/sync` — asyncio's synchronisation primitives and queues for @loop, served
 * strictly first-come first-served. The public surface is listed here, name by name;
 * `test/surface.test.ts` pins it.
 */
import { registerLibraryModule } from "@loop/core";

// Diagnostics (debug-mode reports, task trees) point past this package's frames at the user's code.
registerLibraryModule(import.meta.url);

export { Lock } from "./lock.js";
export { Event } from "./event.js";
export { Condition } from "./condition.js";
export { Semaphore, BoundedSemaphore } from "./semaphore.js";
export { Barrier } from "./barrier.js";
export { Queue, LifoQueue, PriorityQueue } from "./queue.js";
export { fromQueue } from "./queue-stream.js";
export { naturalOrder } from "./item-stores.js";
export { Guard } from "./scoped.js";
export { QueueEmpty, QueueFull, QueueShutDown, BrokenBarrierError } from "./errors.js";

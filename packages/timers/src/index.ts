/** `@loop/timers` — sleeps, timeouts and intervals for `@loop` coroutines. */
import { registerLibraryModule } from "@loop/core";

// Diagnostics (debug-mode reports, task trees) point past this package's frames at the user's code.
registerLibraryModule(import.meta.url);

export { sleep, sleepUntil } from "./sleep.js";
export { timeout, timeoutAt, Timeout } from "./timeout.js";
export type { BodyMustBeAFunctionStar } from "./timeout.js";
export { waitFor } from "./wait-for.js";
export { interval, Ticker } from "./interval.js";
export type { IntervalOptions, MissedTicks } from "./interval.js";

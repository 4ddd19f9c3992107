/** `@loop/timers` — sleeps, timeouts and intervals for `@loop` coroutines. */
export { sleep, sleepUntil } from "./sleep.js";
export { timeout, timeoutAt, Timeout } from "./timeout.js";
export { waitFor } from "./wait-for.js";
export { interval, Ticker } from "./interval.js";
export type { IntervalOptions, MissedTicks } from "./interval.js";

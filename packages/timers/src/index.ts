/** @loop/timers — sleeps, timeouts and intervals for @loop coroutines. */
export { sleep, sleepUntil } from "./sleep.js";

// "From async/await to @loop" in packages/core/README.md, program 1: apps/demo/test/guide.test.ts runs both versions.
import { call, type Coroutine } from "@loop/core";
import { timeout } from "@loop/timers";

// #region fetch-async
async function getText(url: string, ms: number, signal?: AbortSignal): Promise<string> {
  // The caller's signal (to cancel) and a timeout, combined by hand and passed down.
  const signals = signal === undefined ? [AbortSignal.timeout(ms)] : [signal, AbortSignal.timeout(ms)];
  const response = await fetch(url, { signal: AbortSignal.any(signals) });
  return await response.text();
}
// #endregion

// #region fetch-loop
function* getTextOnLoop(url: string, ms: number): Coroutine<string> {
  // Cancelling the task, or the timeout expiring, aborts the request: call()'s signal.
  return yield* timeout(ms, () => call(async (signal) => (await fetch(url, { signal })).text()));
}
// #endregion

export { getText, getTextOnLoop };

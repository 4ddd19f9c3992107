// Newcomer mistake: awaiting a coroutine from async code. A generator is not a Promise.
import type { Coroutine } from "@loop/core";
import { sleep } from "@loop/timers";

function* warmUp(): Coroutine<void> {
  yield* sleep(10);
}

export async function start(): Promise<void> {
  await warmUp(); // resolves at once, having run nothing
}

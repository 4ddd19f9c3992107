// Newcomer mistake: `yield` where `yield*` is `await` (a bad yield, a TypeError at run time).
import { createTask, ensureFuture, type Coroutine } from "@loop/core";
import { sleep } from "@loop/timers";

export function* main(): Coroutine<void> {
  yield sleep(10);
  const task = createTask(sleep(5));
  yield task;
  yield Promise.resolve(1);
  yield* ensureFuture(Promise.resolve(2));
}

// A task nobody owns: its error is seen only when it is garbage-collected.
import { createTask, type Coroutine } from "@loop/core";
import { sleep } from "@loop/timers";

export function* main(): Coroutine<void> {
  createTask(sleep(100));
  yield* sleep(10);
}

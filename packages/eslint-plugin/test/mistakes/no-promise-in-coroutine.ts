// A Promise started in a coroutine and left behind: unowned, uncancellable, its error lost.
import type { Coroutine } from "@loop/core";
import { sleep } from "@loop/timers";

export function* report(url: string): Coroutine<void> {
  fetch(url, { method: "POST" });
  yield* sleep(10);
}

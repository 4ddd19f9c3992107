// From the repository's history: the demo's flaky-network client caught everything around
// a request and reconnected, so cancelling the client made it reconnect instead of stop.
import type { Coroutine } from "@loop/core";
import { sleep } from "@loop/timers";

export function* client(request: () => Coroutine<string>): Coroutine<void> {
  for (;;) {
    try {
      console.log(yield* request());
      yield* sleep(400);
    } catch (error) {
      console.log(`request failed: ${String(error)}; reconnecting`);
      yield* sleep(200);
    }
  }
}

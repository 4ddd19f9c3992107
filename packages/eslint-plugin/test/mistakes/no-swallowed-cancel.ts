// From the repository's history: the root README's example (before the lint rule) caught
// every error around a timeout and printed only TimeoutError, so a cancellation of the
// main task ended it quietly.
import { run } from "@loop/core";
import { sleep, timeout, TimeoutError } from "@loop/timers";

await run(function* () {
  try {
    yield* timeout(500, function* () {
      yield* sleep(10_000);
    });
  } catch (e) {
    if (e instanceof TimeoutError) console.log("slow: timed out and cancelled");
  }
});

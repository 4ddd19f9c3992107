// The example of the root README.md, kept runnable: tests/readme.test.ts checks that the two agree.
import { createTask, run, taskGroup, TimeoutError, type Coroutine } from "@loop/core";
import { sleep, timeout } from "@loop/timers";

function* fetchOne(name: string, ms: number): Coroutine<string> {
  try {
    yield* sleep(ms); // suspends here; the loop runs other tasks meanwhile
    return `${name} done`;
  } finally {
    console.log(`${name}: cleaned up`); // runs on cancellation too, and may yield*
  }
}

await run(function* () {
  const slow = createTask(fetchOne("slow", 10_000));
  yield* taskGroup(function* (tg) {
    tg.createTask(fetchOne("a", 100));
    tg.createTask(fetchOne("b", 200));
  }); // both are finished here
  try {
    yield* timeout(500, function* () { return yield* slow; });
  } catch (e) {
    if (!(e instanceof TimeoutError)) throw e; // never swallow a CancelledError
    console.log("slow: timed out and cancelled");
  }
});

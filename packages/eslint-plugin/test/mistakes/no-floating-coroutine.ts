// Newcomer mistake: calling a coroutine like a function. Nothing runs, nothing is said.
import { run, type Coroutine } from "@loop/core";
import { sleep } from "@loop/timers";

function* fetchOne(name: string): Coroutine<string> {
  yield* sleep(10);
  return `${name} done`;
}

await run(function* () {
  fetchOne("a"); // never runs
  const r = fetchOne("b"); // stored, never driven
});

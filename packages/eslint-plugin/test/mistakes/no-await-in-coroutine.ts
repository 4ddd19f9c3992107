// An async generator passed where a coroutine goes: the loop cannot cancel its awaits.
import { run } from "@loop/core";

await run(async function* () {
  await fetch("http://127.0.0.1:1/");
} as never);

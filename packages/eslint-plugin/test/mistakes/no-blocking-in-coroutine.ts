// Blocking the loop's only thread from a coroutine.
import { readFileSync } from "node:fs";
import type { Coroutine } from "@loop/core";
import { sleep } from "@loop/timers";

export function* loadConfig(): Coroutine<string> {
  yield* sleep(0);
  return readFileSync("config.json", "utf8");
}

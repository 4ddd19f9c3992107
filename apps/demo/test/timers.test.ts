import { runVirtual } from "@loop/testing";
import { expect, test } from "vitest";
import { timersTour } from "../src/scenarios/timers.js";

test("the timers tour prints the timeout, both waitFor outcomes and three drift-free ticks", async () => {
  const lines: string[] = [];
  await runVirtual(timersTour((line) => lines.push(line)));
  expect(lines).toEqual([
    "   0 ms  timeout(200): calling a service that takes 1000 ms",
    " 200 ms  the slow call was cancelled; its cleanup ran",
    " 200 ms  caught TimeoutError: timeout(200) expired",
    " 250 ms  waitFor(…, 100): fast service answered after 50 ms",
    " 350 ms  waitFor(…, 100) on a 300 ms call: TimeoutError",
    " 350 ms  tick 1 (scheduled at 350 ms)",
    " 450 ms  tick 2 (scheduled at 450 ms)",
    " 550 ms  tick 3 (scheduled at 550 ms)",
  ]);
});

import { runVirtual } from "@loop/testing";
import { expect, test } from "vitest";
import { sequentialThenGather } from "../src/scenarios/hello.js";

test("awaiting three requests one after another takes their sum; gather takes the longest", async () => {
  const lines: string[] = [];
  const timings = await runVirtual(sequentialThenGather((line) => lines.push(line)));
  expect(timings).toEqual({ sequentialMs: 6000, gatheredMs: 3000 });
  expect(lines).toEqual([
    "  a done",
    "  b done",
    "  c done",
    "one after another: 6.00 s",
    "  a done, b done, c done",
    "with gather:       3.00 s",
  ]);
});

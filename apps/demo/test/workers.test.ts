import { run } from "@loop/core";
import { expect, test } from "vitest";
import { workersTour } from "../src/scenarios/workers.js";

test("the hashing jobs give the same digests on the loop and in workers; debug mode names the steps that blocked the loop; the monitor counts the worker jobs", async () => {
  const lines: string[] = [];
  const result = await run(() => workersTour((line) => lines.push(line)), { debug: true });
  expect(result.inWorkers.digests).toEqual(result.onLoop.digests);
  expect(result.onLoop.digests).toHaveLength(4);
  expect(result.slowStepReports.some((r) => r.includes('name="hash-on-loop-'))).toBe(true);
  expect(lines).toContain("  debug mode names the slow steps:");
  expect(lines.some((l) => l.startsWith("  same digests: yes"))).toBe(true);
  expect(lines.some((l) => l.startsWith("  @loop/debug's LoopMonitor counted 4 worker jobs, "))).toBe(true);
}, 30_000);

import { runVirtual } from "@loop/testing";
import { expect, test } from "vitest";
import { workersWithWriter } from "../src/scenarios/queues-and-semaphores.js";

test("the workers finish every job and the writer writes every line, then all end at shutdown", async () => {
  const lines: string[] = [];
  const report = await runVirtual(() => workersWithWriter((line) => lines.push(line)));
  expect(report.written).toHaveLength(20);
  expect(report.elapsedMs).toBeLessThan(report.totalSleptMs); // three workers in parallel
  expect(lines.at(-1)).toMatch(/^3 workers slept \d+ ms in total/);
});

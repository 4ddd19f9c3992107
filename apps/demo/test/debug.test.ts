import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getRunningLoop, run, type Coroutine } from "@loop/core";
import { expect, test } from "vitest";
import { debugTour, type DebugTourResult } from "../src/scenarios/debug.js";

test("in debug mode the 200 ms blocking step is reported in one line that names it", async () => {
  const dir = mkdtempSync(join(tmpdir(), "loop-demo-debug-"));
  const reports: string[] = [];
  const printed: string[] = [];
  try {
    const result = await run(
      function* (): Coroutine<DebugTourResult> {
        getRunningLoop().debugLogger = { warn: (message) => reports.push(message) };
        return yield* debugTour((line) => printed.push(line), join(dir, "trace.json"));
      },
      { debug: true },
    );
    const slow = reports.filter((r) => r.includes('name="blocking-step"'));
    expect(slow).toHaveLength(1);
    expect(slow[0]).toMatch(/^Executing <Task pending name="blocking-step" coro=<blockingStep\(\) running at .*debug\.ts:\d+:\d+>> created at debugTour .* took \d+\.\d ms$/);
    expect(result.tree).toContain('Task "consumer" waiting on Queue.get');
    expect(result.tree).toMatch(/Task "fetcher" waiting on gather\(2\)[^\n]*\n\s+├── \[gather\] Task "Task-\d+" waiting on sleep\(300\)/);
    expect(result.lagMaxMs).toBeGreaterThanOrEqual(200); // the busy loop runs 200 ms by the clock
    const trace = JSON.parse(readFileSync(result.tracePath, "utf8")) as { traceEvents: { name: string; ph: string }[] };
    expect(trace.traceEvents.some((e) => e.ph === "X" && e.name === "blocking-step")).toBe(true);
    expect(printed.some((l) => l.startsWith("trace written to "))).toBe(true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

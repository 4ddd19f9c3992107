import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTask, gather, getRunningLoop, run, type Coroutine } from "@loop/core";
import { LoopMonitor, TraceRecorder, formatTaskTree } from "@loop/debug";
import { Queue } from "@loop/sync";
import { sleep } from "@loop/timers";
import type { Scenario } from "../scenario.js";

/** A step that forgets it runs on an event loop: 200 ms of synchronous work, no yield. */
function* blockingStep(): Coroutine<void> {
  yield* sleep(10);
  const until = performance.now() + 200;
  // eslint-disable-next-line @loop/no-blocking-in-coroutine -- this scenario blocks the loop on purpose, to show debug mode's slow-step report
  while (performance.now() < until) {
    // busy: every other task waits meanwhile
  }
  yield* sleep(10);
}

function* consumer(queue: Queue<string>): Coroutine<string> {
  return yield* queue.get();
}

function* fetchOne(name: string, ms: number): Coroutine<string> {
  yield* sleep(ms);
  return name;
}

export interface DebugTourResult {
  tree: string;
  lagMaxMs: number;
  tracePath: string;
}

/**
 * What debug mode and @loop/debug show: the task tree (who awaits whom, and on what),
 * the slow-callback report for a step that blocks the loop for 200 ms (in debug mode),
 * the monitor's lag, and a trace file for Perfetto.
 */
export function* debugTour(print: (line: string) => void, tracePath: string): Coroutine<DebugTourResult> {
  const loop = getRunningLoop();
  const monitor = new LoopMonitor(loop).start();
  const trace = new TraceRecorder(loop, { processName: "loop demo: debug" }).start();
  const queue = new Queue<string>();
  const waiting = createTask(consumer(queue), { name: "consumer" });
  const fetching = createTask(
    (function* fetcher(): Coroutine<string[]> {
      return yield* gather([fetchOne("a", 300), fetchOne("b", 400)]);
    })(),
    { name: "fetcher" },
  );
  yield* sleep(1);

  const tree = formatTaskTree(loop);
  print("the task tree (like python -m asyncio pstree):");
  for (const line of tree.split("\n")) print(`  ${line}`);

  print("\na task now blocks the loop for 200 ms with a synchronous busy loop…");
  yield* createTask(blockingStep(), { name: "blocking-step" });
  if (!loop.getDebug()) print("(run with --debug to see the slow-callback report that names it)");

  yield* queue.put("job");
  yield* gather([waiting, fetching]);
  trace.stop();
  monitor.stop();
  const snapshot = monitor.snapshot();
  print(`\nmonitor: ${snapshot.iterations} iterations, ${snapshot.callbacksTotal} callbacks, lag p50 ${snapshot.lagMs.p50.toFixed(1)} ms, max ${snapshot.lagMs.max.toFixed(1)} ms`);
  trace.write(tracePath);
  print(`trace written to ${tracePath} (open it in https://ui.perfetto.dev)`);
  return { tree, lagMaxMs: snapshot.lagMs.max, tracePath };
}

export const debugScenario: Scenario = {
  name: "debug",
  description: "task tree, a 200 ms blocking step (reported with --debug), loop lag and a Perfetto trace",
  async run() {
    // run() takes debug mode from LOOP_DEBUG, which the demo's --debug flag sets.
    await run(debugTour((line) => console.log(line), join(tmpdir(), "loop-demo-trace.json")));
  },
};

/**
 * What @loop's debugging costs, per task step, in one process:
 *
 *   pnpm --filter @loop/bench bench -- debug
 *
 * - debug off, no instrument: the hooks core keeps for debug mode must cost nothing here;
 * - a LoopMonitor started, a TraceRecorder started: the instrument hooks in use;
 * - debug mode on: every step timed, a stack captured at each creation and each wait on a
 *   future (that is what tells where a task is suspended).
 * CPython asyncio with and without debug mode runs the same two workloads when python3 exists.
 *
 * To check that debug-off costs nothing against an older core, build that core and point
 * LOOP_CORE_BASELINE at its dist/index.js; it then runs side by side with the current one:
 *   git archive <rev> packages/core tsconfig.base.json | tar -x -C "$BASE"   # BASE=$(mktemp -d)
 *   (cd "$BASE/packages/core" && npx tsc -p tsconfig.json)
 *   LOOP_CORE_BASELINE="$BASE/packages/core/dist/index.js" pnpm --filter @loop/bench bench -- debug
 */
import * as core from "@loop/core";
import { LoopMonitor, TraceRecorder } from "@loop/debug";
import { fileURLToPath } from "node:url";
import { cpuSince, gcIfPossible, measure, printTable, runPython, type Sample } from "../lib/report.ts";

const TASKS = 5_000;
const STEPS = 10;

type Core = Pick<typeof core, "EventLoop" | "createTask" | "gather" | "getRunningLoop">;
type Setup = (loop: core.EventLoop) => (() => void) | void;

/** 20,000 tasks × 10 bare `yield`s, then gather: ns per step. */
function yieldSteps(lib: Core, debug: boolean, setup?: Setup): () => Promise<number> {
  function* worker(): core.Coroutine<void> {
    for (let i = 0; i < STEPS; i++) yield;
  }
  return () => runWorkload(lib, debug, setup, worker);
}

/** 20,000 tasks × 10 waits on a future resolved by a callback: ns per wait. */
function futureWaits(lib: Core, debug: boolean, setup?: Setup): () => Promise<number> {
  function* worker(): core.Coroutine<void> {
    const loop = lib.getRunningLoop();
    for (let i = 0; i < STEPS; i++) {
      const f = loop.createFuture<void>();
      loop.callSoon(resolve, f);
      yield* f;
    }
  }
  return () => runWorkload(lib, debug, setup, worker);
}

function resolve(f: core.Future<void>): void {
  f.setResult();
}

async function runWorkload(lib: Core, debug: boolean, setup: Setup | undefined, worker: () => core.Coroutine<void>): Promise<number> {
  gcIfPossible();
  const loop = new lib.EventLoop({ debug });
  loop.debugLogger = { warn() {} };
  const teardown = setup?.(loop);
  // CPU time, not wall time: the loop is single-threaded, and on a shared machine the CPU
  // time of this process is what the code costs, whatever else runs meanwhile.
  const t0 = process.cpuUsage();
  await loop.runUntilComplete(
    (function* () {
      const tasks = [];
      for (let i = 0; i < TASKS; i++) tasks.push(lib.createTask(worker()));
      yield* lib.gather(tasks);
    })(),
  );
  const ns = cpuSince(t0) / (TASKS * STEPS);
  teardown?.();
  loop.close();
  return ns;
}

const withMonitor: Setup = (loop) => {
  const monitor = new LoopMonitor(loop).start();
  return () => monitor.stop();
};
const withTrace: Setup = (loop) => {
  const trace = new TraceRecorder(loop).start();
  return () => trace.stop();
};

async function suite(name: string, workload: typeof yieldSteps): Promise<Sample[]> {
  const samples: Sample[] = [];
  const progress = (): void => console.log(`  measured ${samples[samples.length - 1]?.name}`);
  const baselinePath = process.env["LOOP_CORE_BASELINE"];
  const baseline = baselinePath === undefined ? null : ((await import(baselinePath)) as Core);
  // Interleave current and baseline rounds so that drift of the machine hits both alike.
  if (baseline !== null) {
    const current: number[] = [];
    const old: number[] = [];
    const ours = workload(core, false);
    const theirs = workload(baseline, false);
    for (let i = 0; i < 3; i++) {
      await ours();
      await theirs();
    }
    for (let i = 0; i < 25; i++) {
      current.push(await ours());
      old.push(await theirs());
    }
    samples.push({ name: `${name}: debug off`, values: current }, { name: `${name}: debug off, baseline core`, values: old });
  } else {
    samples.push(await measure(`${name}: debug off`, workload(core, false)));
  }
  progress();
  samples.push(await measure(`${name}: LoopMonitor on`, workload(core, false, withMonitor)));
  progress();
  samples.push(await measure(`${name}: TraceRecorder on`, workload(core, false, withTrace), { warmup: 1, rounds: 5 }));
  progress();
  samples.push(await measure(`${name}: debug mode on`, workload(core, true), { warmup: 1, rounds: 3 }));
  progress();
  return samples;
}

const a = await suite("yield", yieldSteps);
const b = await suite("future wait", futureWaits);
const py = runPython(fileURLToPath(new URL("../python/debug_peers.py", import.meta.url)));
if (py !== null) {
  for (const [key, values] of Object.entries(py)) (key.startsWith("yield") ? a : b).push({ name: `CPython asyncio ${key}`, values });
}
printTable(`(a) ${TASKS} tasks × ${STEPS} bare yields`, "CPU ns per step", a, "yield: debug off");
printTable(`(b) ${TASKS} tasks × ${STEPS} waits on a future`, "CPU ns per step", b, "future wait: debug off");

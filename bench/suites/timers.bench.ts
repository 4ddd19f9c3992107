/**
 * @loop/timers against its peers, in one process: 1,000,000 timers scheduled with delays
 * spread over 0–100 ms, every other one cancelled, the rest left to fire. Cost is CPU time
 * (user + system) per timer scheduled, so the 100 ms the timers wait costs nothing.
 *
 *   pnpm --filter @loop/bench bench -- timers
 *
 * Peers: Node's setTimeout/clearTimeout, Effection 4's sleep (one spawned operation per
 * timer, half halted), and CPython asyncio's call_later/cancel through python3 when present
 * (uvloop is not installable here, so it is not measured). Then, in virtual time, how many
 * simulated hours per second @loop/testing's VirtualPoller gets through.
 */
import { createTask, gather, getRunningLoop, run, type Coroutine, type Task } from "@loop/core";
import { runVirtual } from "@loop/testing";
import { interval, sleep } from "@loop/timers";
import { run as effectionRun, sleep as effectionSleep, spawn as effectionSpawn, type Operation, type Task as EffectionTask } from "effection";
import { fileURLToPath } from "node:url";
import { cpuSince, measure, printTable, runPython, summarize, type Sample } from "../lib/report.ts";
import { loopTimerRound, nodeTimerRound, timerDelays } from "../lib/timer-workload.ts";

const TIMERS = Number(process.env["TIMERS"] ?? 1_000_000);
// Effection spends ~0.25 ms of CPU per spawned sleeper: a million would take minutes per
// round and gigabytes, so it runs a tenth as many (cost is per timer either way).
const EFFECTION_TIMERS = Math.min(TIMERS, 100_000);
const pythonScript = fileURLToPath(new URL("../python/timers_peers.py", import.meta.url));

const ROUNDS = { warmup: 1, rounds: 5 };

function progress(sample: Sample): void {
  console.log(`  ${sample.name}: ${sample.values.map((v) => v.toFixed(0)).join(", ")} ns`);
}

async function scheduleAndCancel(): Promise<Sample[]> {
  const ds = timerDelays(TIMERS);
  const half = TIMERS / 2;

  const loopTimers = await measure("@loop loop.callLater / handle.cancel", async () => (await loopTimerRound(ds)) / TIMERS, ROUNDS);
  progress(loopTimers);

  const loopSleep = await measure("@loop sleep() in tasks, half cancelled", async () => {
    let slept = 0;
    const cpu = process.cpuUsage();
    await run(function* () {
      function* sleeper(ms: number): Coroutine<void> {
        yield* sleep(ms);
        slept++;
      }
      const tasks: Task<void>[] = new Array(TIMERS);
      for (let i = 0; i < TIMERS; i++) tasks[i] = createTask(sleeper(ds[i] as number));
      yield; // every task reaches its sleep
      for (let i = 0; i < TIMERS; i += 2) (tasks[i] as Task<void>).cancel();
      yield* gather(tasks, { returnExceptions: true });
    });
    const ns = cpuSince(cpu) / TIMERS;
    if (slept !== half) throw new Error(`@loop sleep fired ${slept}`);
    return ns;
  }, { warmup: 1, rounds: 3 });
  progress(loopSleep);

  const node = await measure("Node setTimeout / clearTimeout", async () => (await nodeTimerRound(ds)) / TIMERS, ROUNDS);
  progress(node);

  const effection = await measure(`effection 4 sleep(), half halted (${EFFECTION_TIMERS.toLocaleString("en")} timers)`, async () => {
    const n = EFFECTION_TIMERS;
    let slept = 0;
    const cpu = process.cpuUsage();
    await effectionRun(function* (): Operation<void> {
      const tasks: EffectionTask<void>[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const ms = ds[i] as number;
        tasks[i] = yield* effectionSpawn(function* () {
          yield* effectionSleep(ms);
          slept++;
        });
      }
      for (let i = 0; i < n; i += 2) yield* (tasks[i] as EffectionTask<void>).halt();
      for (let i = 1; i < n; i += 2) yield* tasks[i] as EffectionTask<void>;
    });
    const ns = cpuSince(cpu) / n;
    if (slept !== n / 2) throw new Error(`effection fired ${slept}`);
    return ns;
  }, { warmup: 1, rounds: 3 });

  const samples = [loopTimers, loopSleep, node, effection];
  progress(effection);
  const python = runPython(pythonScript, [String(TIMERS)]);
  if (python !== null) for (const [name, values] of Object.entries(python)) samples.push({ name, values });
  return samples;
}

/** Simulated time per real second: a day of a 1-second ticker and 1,000 sleepers, in virtual time. */
async function virtualTime(): Promise<Sample[]> {
  const DAY = 86_400_000;
  const hoursPerSecond = await measure("@loop/testing runVirtual: simulated hours per real second", async () => {
    const t0 = process.hrtime.bigint();
    await runVirtual(function* () {
      const ticker = interval(1_000);
      const sleepers = [];
      for (let i = 0; i < 1_000; i++) sleepers.push(createTask(sleep((i * 86_399) % DAY)));
      while (getRunningLoop().time() < DAY) yield* ticker.tick();
      ticker.stop();
      yield* gather(sleepers);
    });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    return 24 / seconds;
  }, { warmup: 1, rounds: 5 });
  return [hoursPerSecond];
}

const samples = await scheduleAndCancel();
printTable(`${TIMERS.toLocaleString("en")} timers scheduled, half cancelled, half fired`, "CPU ns per timer", samples, "Node setTimeout / clearTimeout");
const [virtual] = await virtualTime();
const v = summarize((virtual as Sample).values);
console.log(`\n### virtual time: a day of a 1 s ticker and 1,000 sleepers (simulated hours per real second; higher is better)`);
console.log(`median ${v.median.toFixed(1)}, min ${v.min.toFixed(1)}, max ${v.max.toFixed(1)}`);

import { createTask, gather, getRunningLoop, run, type Coroutine } from "@loop/core";
import { Queue } from "@loop/sync";
import { sleep } from "@loop/timers";
import type { Scenario } from "../scenario.js";
import { crawlAndStop, crawlSite } from "./crawler.js";

/** A small deterministic random source, so that every run prints the same story. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
}

export interface WorkersReport {
  jobs: number;
  written: string[];
  totalSleptMs: number;
  elapsedMs: number;
}

/**
 * The queue example of asyncio's documentation, with a background writer: 20 jobs of
 * random length go into a Queue, three workers take them, and each finished job is
 * handed to one writer task through a second, bounded queue (a slow sink must not make
 * the workers pile up lines). `join()` waits for every job, `shutdown()` ends the
 * workers and the writer cleanly — no cancellation needed.
 */
export function* workersWithWriter(print: (line: string) => void): Coroutine<WorkersReport> {
  const loop = getRunningLoop();
  const random = seeded(7);
  const jobs = new Queue<number>();
  const lines = new Queue<string>(4);
  const written: string[] = [];

  function* worker(name: string): Coroutine<void> {
    yield* jobs.consume(function* (ms) {
      yield* sleep(ms);
      yield* lines.put(`${name} slept ${ms} ms`);
    });
  }

  function* writer(): Coroutine<void> {
    yield* lines.consume(function* (line) {
      yield* sleep(2); // a slow sink: a file, a socket
      written.push(line);
    });
  }

  let totalSleptMs = 0;
  for (let i = 0; i < 20; i++) {
    const ms = 10 + Math.floor(random() * 90);
    totalSleptMs += ms;
    jobs.putNowait(ms);
  }
  const start = loop.time();
  const writerTask = createTask(writer(), { name: "writer" });
  const workers = ["worker-1", "worker-2", "worker-3"].map((name) => createTask(worker(name), { name }));
  yield* jobs.join(); // every job taken and done
  jobs.shutdown(); // the workers' consume() loops end
  yield* gather(workers);
  yield* lines.join(); // every line written
  lines.shutdown();
  yield* writerTask;
  const elapsedMs = loop.time() - start;

  for (const line of written.slice(0, 3)) print(`  ${line}`);
  print(`  … ${written.length} lines written in order of completion by one background writer`);
  print(`3 workers slept ${totalSleptMs} ms in total, in ${Math.round(elapsedMs)} ms of wall time`);
  return { jobs: 20, written, totalSleptMs, elapsedMs };
}

export const queuesAndSemaphores: Scenario = {
  name: "queues-and-semaphores",
  description: "asyncio's worker Queue with a background writer; a crawler of a local HTTP site with mapConcurrent, stopped mid-crawl (--wait-for-ctrl-c to stop it yourself)",
  async run(args) {
    const waitForCtrlC = args.includes("--wait-for-ctrl-c");
    const print = (line: string): void => console.log(line);
    await run(function* () {
      print("-- Queue: 3 workers, 20 jobs, one background writer");
      yield* workersWithWriter(print);
      print("-- Crawler: 300 pages of a local node:http site, fetch through mapConcurrent(urls, 20, …)");
      yield* crawlSite(print);
      print("-- Stop: Ctrl-C (or a hang) cancels the crawl; every request in flight is aborted");
      yield* crawlAndStop(print, 30, 20, { waitForCtrlC });
    });
  },
};

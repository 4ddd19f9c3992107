// "From async/await to @loop" in packages/core/README.md, program 4: apps/demo/test/guide.test.ts runs both versions.
import { each, taskGroup, type Coroutine } from "@loop/core";
import { Queue } from "@loop/sync";
import { sleep } from "@loop/timers";

// #region pool-async
async function work(job: number): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, job));
  return job * 2;
}

async function processAll(jobs: number[], workers: number): Promise<number[]> {
  const queue = [...jobs];
  const results: number[] = [];
  async function worker(): Promise<void> {
    // A failing worker leaves the others running: Promise.all rejects, they go on.
    for (let job = queue.shift(); job !== undefined; job = queue.shift()) results.push(await work(job));
  }
  await Promise.all(Array.from({ length: workers }, worker));
  return results;
}
// #endregion

// #region pool-loop
function* workOnLoop(job: number): Coroutine<number> {
  yield* sleep(job);
  return job * 2;
}

function* processAllOnLoop(jobs: number[], workers: number): Coroutine<number[]> {
  const queue = new Queue<number>();
  for (const job of jobs) queue.putNowait(job);
  queue.shutdown(); // the workers' loops end once the queue is empty
  const results: number[] = [];
  function* worker(): Coroutine<void> {
    for (const job of yield* each(queue.stream())) {
      results.push(yield* workOnLoop(job));
      yield* each.next();
    }
  }
  // A failing worker cancels the others, and the group raises its error.
  yield* taskGroup(function* (tg) {
    for (let i = 0; i < workers; i++) tg.createTask(worker());
  });
  return results;
}
// #endregion

export { processAll, processAllOnLoop };

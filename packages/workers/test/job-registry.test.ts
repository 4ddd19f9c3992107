import { once } from "node:events";
import { describe, expect, test } from "vitest";
import { createTask, ensureFuture, run } from "@loop/core";
import { WorkerPoolExecutor, moduleFunction, runInExecutor } from "../src/index.js";
import { NO_ID, moduleId, sourceId } from "../src/job-registry.js";
import { Gate, jobs } from "./helpers.js";

const otherJobs = new URL("./fixtures/other-jobs.mjs", import.meta.url);

// The worker side, run here: without an executor's workerData it has no registry, so
// it shows what a job named in full does, and what an unknown id does.
const { default: runJob } = (await import(new URL("../worker/entry.mjs", import.meta.url).href)) as {
  default: (job: unknown[]) => [number, unknown, number] | Promise<[number, unknown, number]>;
};

describe("the job registry", () => {
  test("names each module export once, and tells apart exports of the same name in different modules", () => {
    const add = moduleId(jobs.href, "add");
    expect(moduleId(jobs.href, "add")).toBe(add);
    expect(moduleId(otherJobs.href, "add")).not.toBe(add);
    expect(moduleId(jobs.href, "sha")).not.toBe(add);
    for (const id of [add, moduleId(otherJobs.href, "add")]) expect(id).not.toBe(NO_ID);
  });

  test("names each source text once; a very long one is not named, and travels in full", () => {
    const id = sourceId("(a) => a + 1");
    expect(sourceId("(a) => a + 1")).toBe(id);
    expect(sourceId("(a) => a + 2")).not.toBe(id);
    expect(sourceId(`(a) => a /* ${"x".repeat(70_000)} */`)).toBe(NO_ID);
  });

  test("two modules with an export of the same name each run their own, on the same thread", async () => {
    const pool = new WorkerPoolExecutor({ maxThreads: 1, minThreads: 1 });
    const add = moduleFunction<(a: number, b: number) => number>(jobs, "add");
    const otherAdd = moduleFunction<(a: number, b: number) => string>(otherJobs, "add");
    try {
      const results = await run(function* () {
        const results: unknown[] = [];
        for (let i = 0; i < 2; i++) {
          results.push(yield* runInExecutor(pool, add, 5, 3));
          results.push(yield* runInExecutor(pool, otherAdd, 5, 3));
        }
        return results;
      });
      expect(results).toEqual([8, "other: 2", 8, "other: 2"]);
    } finally {
      await pool.shutdown();
    }
  });

  test("the thread that replaces a cancelled one knows every id, old and new", async () => {
    const pool = new WorkerPoolExecutor({ maxThreads: 1, minThreads: 1 });
    const add = moduleFunction<(a: number, b: number) => number>(jobs, "add");
    const spin = moduleFunction<(shared: SharedArrayBuffer) => never>(jobs, "spin");
    const whoAmI = moduleFunction<() => number>(jobs, "whoAmI");
    const gate = new Gate();
    try {
      const outcome = await run(function* () {
        const before = yield* runInExecutor(pool, whoAmI);
        const sum = yield* runInExecutor(pool, add, 1, 2);
        const product = yield* runInExecutor(pool, (a: number, b: number) => a * b, 6, 7);
        const spinning = createTask(
          (function* () {
            yield* runInExecutor(pool, spin, gate.shared);
          })(),
        );
        yield* gate.started();
        const exited = once(pool.threads[0]!, "exit");
        spinning.cancel();
        try {
          yield* spinning;
        } catch { // eslint-disable-line @loop/no-swallowed-cancel -- the job fails on purpose; the test reads what follows
          // cancelled, as wanted
        }
        yield* ensureFuture(exited);
        // The new thread has seen none of these jobs: the ids alone must do.
        return {
          before,
          after: yield* runInExecutor(pool, whoAmI),
          sum,
          sumAgain: yield* runInExecutor(pool, add, 1, 2),
          product,
          productAgain: yield* runInExecutor(pool, (a: number, b: number) => a * b, 6, 7),
          // Named for the first time after the thread started.
          other: yield* runInExecutor(pool, moduleFunction<(a: number, b: number) => string>(otherJobs, "add"), 9, 4),
        };
      });
      expect(outcome.after).not.toBe(outcome.before);
      expect(outcome).toMatchObject({ sum: 3, sumAgain: 3, product: 42, productAgain: 42, other: "other: 5" });
    } finally {
      await pool.shutdown();
    }
  });

  test("a function too long to be named travels in full, and runs", async () => {
    const pool = new WorkerPoolExecutor({ maxThreads: 1 });
    // A function whose source text is longer than the registry takes.
    const long = new Function("n", `/* ${"x".repeat(70_000)} */ return n + 1;`) as (n: number) => number;
    try {
      const result = await run(function* () {
        return yield* runInExecutor(pool, long, 41);
      });
      expect(result).toBe(42);
    } finally {
      await pool.shutdown();
    }
  });

  test("a job named in full still runs (what a full registry falls back to)", async () => {
    const loaded = await runJob([jobs.href, "add", null, [1, 2]]);
    expect(loaded.slice(0, 2)).toEqual([0, 3]);
    // Once the module is loaded, and for a source text, the reply comes synchronously.
    expect((runJob([jobs.href, "add", null, [3, 4]]) as unknown[]).slice(0, 2)).toEqual([0, 7]);
    expect((runJob([null, null, "(a, b) => a * b", [3, 4]]) as unknown[]).slice(0, 2)).toEqual([0, 12]);
  });

  test("an id the worker's registry does not hold fails the job with a clear error", () => {
    const [status, record] = runJob([123_456, []]) as [number, { message: string }, number];
    expect(status).toBe(1);
    expect(record.message).toMatch(/names function #123456, which the executor's job registry does not hold/);
  });
});

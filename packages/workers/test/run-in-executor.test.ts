import { describe, expect, expectTypeOf, test } from "vitest";
import { CancelledError, Future, ensureFuture, getRunningLoop, run, type Executor, type ExecutorJob, type ExecutorJobInfo, type ExecutorSignal } from "@loop/core";
import { WorkerPoolExecutor, moduleFunction, runInExecutor, transfer } from "../src/index.js";
import { jobs } from "./helpers.js";

/**
 * An executor that runs function jobs on the loop's own thread when told to: enough to
 * see what runInExecutor hands an executor and how it treats the outcome.
 */
class ManualExecutor implements Executor {
  readonly submitted: {
    job: ExecutorJob;
    signal: ExecutorSignal;
    promise: Promise<unknown>;
    resolve: (v: unknown) => void;
    reject: (e: unknown) => void;
  }[] = [];
  aborted: string[] = [];

  submit(job: ExecutorJob, signal: ExecutorSignal): Promise<unknown> {
    let resolve!: (v: unknown) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.submitted.push({ job, signal, promise, resolve, reject });
    signal.addEventListener("abort", () => {
      this.aborted.push(job.name);
      reject(signal.reason);
    });
    return promise;
  }

  shutdown(): void {}
}

describe("runInExecutor", () => {
  test("hands the executor a job naming the function, with its arguments and the buffers to move", async () => {
    const executor = new ManualExecutor();
    const buffer = new ArrayBuffer(8);
    const result = await run(function* () {
      const future = runInExecutor(executor, function scale(factor: number, data: ArrayBuffer) {
        return data.byteLength * factor;
      }, 2, transfer(buffer));
      expect(future.label).toBe("runInExecutor(scale)");
      const [{ job, resolve }] = executor.submitted;
      expect(job).toMatchObject({ name: "scale", module: null, args: [2, buffer], transfer: [buffer], runTimeMs: null });
      expect(typeof job.fn).toBe("function");
      resolve((job.fn as (f: number, d: ArrayBuffer) => number)(...(job.args as [number, ArrayBuffer])));
      return yield* future;
    });
    expect(result).toBe(16);
  });

  test("hands a module job its absolute URL and export", async () => {
    const executor = new ManualExecutor();
    await run(function* () {
      const future = runInExecutor(executor, moduleFunction(jobs, "add"), 1, 2);
      expect(future.label).toBe("runInExecutor(jobs.mjs#add)");
      const [{ job, resolve }] = executor.submitted;
      expect(job).toMatchObject({ name: "jobs.mjs#add", fn: null, module: { url: jobs.href, exportName: "add" }, args: [1, 2] });
      resolve(3);
      expect(yield* future).toBe(3);
    });
  });

  test("the result arrives on a later loop turn, never inside the executor's callback", async () => {
    const executor = new ManualExecutor();
    const log = await run(function* () {
      const log: string[] = [];
      const future = runInExecutor(executor, () => 1);
      future.addDoneCallback(() => log.push("done callback"));
      executor.submitted[0]!.resolve(1);
      log.push("resolved by the executor");
      yield* future;
      log.push("awaited");
      return log;
    });
    expect(log).toEqual(["resolved by the executor", "done callback", "awaited"]);
  });

  test("cancelling the Future aborts the job's signal at once, with a CancelledError as its reason", async () => {
    const executor = new ManualExecutor();
    await run(function* () {
      const future = runInExecutor(executor, () => 1);
      const { signal } = executor.submitted[0]!;
      expect(signal.aborted).toBe(false);
      expect(future.cancel("stop")).toBe(true);
      expect(signal.aborted).toBe(true);
      expect(signal.reason).toBeInstanceOf(CancelledError);
      expect(executor.aborted).toEqual(["<anonymous>"]);
      // A second cancel changes nothing.
      expect(future.cancel()).toBe(false);
      expect(executor.aborted).toEqual(["<anonymous>"]);
    });
  });

  test("a job whose outcome arrived keeps it: a cancel right after returns false, and the job is reported once, as ok", async () => {
    const executor = new ManualExecutor();
    const { reports, value, cancelled } = await run(function* () {
      const reports: ExecutorJobInfo[] = [];
      getRunningLoop().addInstrument({ executorJob: (job) => void reports.push(job) });
      const future = runInExecutor(executor, () => 1);
      const { promise, resolve } = executor.submitted[0]!;
      // Reactions to one promise run in the order they were added: runInExecutor's first
      // (the outcome arrives), then this one, before the loop has run a single turn.
      let cancelled: boolean | null = null;
      void promise.then(() => {
        cancelled = future.cancel();
      });
      resolve(1);
      const value = yield* future;
      return { reports, value, cancelled };
    });
    expect(cancelled).toBe(false);
    expect(value).toBe(1);
    expect(executor.aborted).toEqual([]);
    expect(reports.map((r) => r.outcome)).toEqual(["ok"]);
  });

  test("a job cancelled before its outcome arrived is reported once, as cancelled, and a late outcome is dropped", async () => {
    // An executor that ignores the abort and resolves anyway.
    let resolve!: (v: unknown) => void;
    const deaf: Executor = {
      submit: () => new Promise((res) => (resolve = res)),
      shutdown() {},
    };
    const reports = await run(function* () {
      const reports: ExecutorJobInfo[] = [];
      getRunningLoop().addInstrument({ executorJob: (job) => void reports.push(job) });
      const future = runInExecutor(deaf, () => 1);
      expect(future.cancel()).toBe(true);
      resolve(1);
      yield* ensureFuture(new Promise((done) => setImmediate(done)));
      expect(future.cancelled()).toBe(true);
      return reports;
    });
    expect(reports.map((r) => r.outcome)).toEqual(["cancelled"]);
  });

  test("an executor's CancelledError cancels the Future; any other rejection fails it", async () => {
    const executor = new ManualExecutor();
    const outcome = await run(function* () {
      const dropped = runInExecutor(executor, () => 1);
      const failed = runInExecutor(executor, () => 2);
      executor.submitted[0]!.reject(new CancelledError("dropped"));
      executor.submitted[1]!.reject(new RangeError("bad"));
      let error: unknown;
      try {
        yield* failed;
      } catch (e) {
        error = e;
      }
      try {
        yield* dropped;
      } catch {
        // cancelled
      }
      return { dropped: dropped.cancelled(), error };
    });
    expect(outcome.dropped).toBe(true);
    expect(outcome.error).toEqual(new RangeError("bad"));
  });

  test("with null, uses the loop's default executor", async () => {
    const results = await run(function* () {
      return [yield* runInExecutor(null, (a: number) => a + 1, 1), yield* runInExecutor(null, moduleFunction(jobs, "add"), 2, 3)];
    });
    expect(results).toEqual([2, 5]);
  });

  test("types the arguments and the result from the function", () => {
    const pool = null as unknown as WorkerPoolExecutor;
    const fn = (a: number, b: string): Promise<boolean> => Promise.resolve(a > b.length);
    expectTypeOf(() => runInExecutor(pool, fn, 1, "x")).returns.toEqualTypeOf<Future<boolean>>();
    const add = moduleFunction<(a: number, b: number) => number>(jobs, "add");
    expectTypeOf(() => runInExecutor(pool, add, 1, 2)).returns.toEqualTypeOf<Future<number>>();
    // @ts-expect-error a string is not a number
    void (() => runInExecutor(pool, add, 1, "2"));
  });

  test("a bad executor or function is refused at the call", async () => {
    await run(function* () {
      expect(() => runInExecutor({} as Executor, () => 1)).toThrow(/executor must be an Executor with start\(\) or submit\(\)/);
      expect(() => runInExecutor(null, 42 as unknown as () => number)).toThrow(/fn must be a function, or a moduleFunction\(url, exportName\), got number/);
    });
    expect(() => moduleFunction("relative.js", "f")).toThrow(RangeError);
  });
});

/** An executor with only `start`: the promise-free form of the contract, settled by hand. */
class StartOnlyExecutor implements Executor {
  readonly started: { job: ExecutorJob; settle: (ok: boolean, value: unknown) => void }[] = [];

  start(job: ExecutorJob, _signal: ExecutorSignal, settle: (ok: boolean, value: unknown) => void): void {
    this.started.push({ job, settle });
  }

  shutdown(): void {}
}

describe("an executor with start() instead of submit()", () => {
  test("runInExecutor hands it the job and takes the outcome it settles, success or error", async () => {
    const executor = new StartOnlyExecutor();
    const out = await run(function* () {
      const ok = runInExecutor(executor, function double(x: number) {
        return x * 2;
      }, 21);
      const failed = runInExecutor(executor, () => 0);
      expect(executor.started.map((s) => s.job.name)).toEqual(["double", "<anonymous>"]);
      const boom = new RangeError("boom");
      // From outside the loop's turns, as the contract asks.
      yield* ensureFuture(Promise.resolve().then(() => {
        executor.started[0]!.settle(true, 42);
        executor.started[1]!.settle(false, boom);
      }));
      const result = yield* ok;
      let caught: unknown;
      try {
        yield* failed;
      } catch (error) {
        caught = error;
      }
      return [result, caught === boom];
    });
    expect(out).toEqual([42, true]);
  });

  test("an executor with neither start() nor submit() is refused at the call", async () => {
    await run(function* () {
      expect(() => runInExecutor({ shutdown() {} } as Executor, () => 1)).toThrow(/Executor with start\(\) or submit\(\)/);
    });
  });
});

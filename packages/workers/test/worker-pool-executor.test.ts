import { describe, expect, test } from "vitest";
import { CancelledError, ensureFuture, gather, run, type ExecutorJob } from "@loop/core";
import { WorkerPoolExecutor, moduleFunction, runInExecutor } from "../src/index.js";
import { Gate, allExited, jobs } from "./helpers.js";

const block = moduleFunction<(shared: SharedArrayBuffer) => string>(jobs, "block");
const mark = moduleFunction<(shared: SharedArrayBuffer, index: number) => number>(jobs, "mark");
const whoAmI = moduleFunction<() => number>(jobs, "whoAmI");
const add = moduleFunction<(a: number, b: number) => number>(jobs, "add");
const crash = moduleFunction<(code: number) => never>(jobs, "crash");

describe("WorkerPoolExecutor", () => {
  test("runs jobs on at most maxThreads threads at once", async () => {
    const pool = new WorkerPoolExecutor({ maxThreads: 2, minThreads: 2 });
    const first = new Gate();
    const second = new Gate();
    try {
      const ids = await run(function* () {
        // Two blocked jobs hold both threads: a third queues until one is released.
        const a = runInExecutor(pool, block, first.shared);
        const b = runInExecutor(pool, block, second.shared);
        yield* first.started();
        yield* second.started();
        const c = runInExecutor(pool, whoAmI);
        expect(pool.queueSize).toBe(1);
        first.release();
        second.release();
        yield* gather([a, b]);
        return [yield* c, ...(yield* gather([runInExecutor(pool, whoAmI), runInExecutor(pool, whoAmI)]))];
      });
      expect(pool.maxThreads).toBe(2);
      expect(new Set(ids).size).toBeLessThanOrEqual(2);
      expect(pool.threads.length).toBeLessThanOrEqual(2);
    } finally {
      first.release();
      second.release();
      await pool.shutdown();
    }
  });

  test("no worker thread is left after shutdown", async () => {
    const pool = new WorkerPoolExecutor({ maxThreads: 2, minThreads: 2 });
    const workers = await run(function* () {
      yield* gather([runInExecutor(pool, add, 1, 2), runInExecutor(pool, add, 3, 4)]);
      return [...pool.threads];
    });
    expect(workers.length).toBe(2);
    await pool.shutdown();
    expect(pool.threads.length).toBe(0);
    // Every thread has exited (Node sets threadId to -1 once a worker is gone).
    expect(workers.map((w) => w.threadId)).toEqual([-1, -1]);
    expect(pool.isShutdown).toBe(true);
  });

  test("shutdown waits for the jobs that are running", async () => {
    const pool = new WorkerPoolExecutor({ maxThreads: 1 });
    const gate = new Gate();
    const outcome = await run(function* () {
      const job = runInExecutor(pool, block, gate.shared);
      yield* gate.started();
      const closing = pool.shutdown();
      let closed = false;
      void closing.then(() => (closed = true));
      yield* ensureFuture(Promise.resolve());
      const closedWhileRunning = closed;
      gate.release();
      const result = yield* job;
      yield* ensureFuture(closing);
      return { closedWhileRunning, result };
    });
    expect(outcome).toEqual({ closedWhileRunning: false, result: "released" });
    expect(pool.threads.length).toBe(0);
  });

  test("shutdown with cancelFutures drops queued jobs, whose Futures are cancelled", async () => {
    const pool = new WorkerPoolExecutor({ maxThreads: 1 });
    const gate = new Gate();
    const marks = new Gate();
    const outcome = await run(function* () {
      const running = runInExecutor(pool, block, gate.shared);
      yield* gate.started();
      const queued = runInExecutor(pool, mark, marks.shared, 0);
      const closing = pool.shutdown({ cancelFutures: true });
      gate.release();
      let error: unknown;
      try {
        yield* queued;
      } catch (e) {
        error = e;
      }
      yield* ensureFuture(closing);
      return { running: yield* running, cancelled: queued.cancelled(), error };
    });
    expect(outcome.running).toBe("released");
    expect(outcome.cancelled).toBe(true);
    expect(outcome.error).toBeInstanceOf(CancelledError);
    expect((outcome.error as Error).message).toBe("jobs.mjs#mark was dropped: the executor was shut down before it ran");
    expect(marks.marked(0)).toBe(false);
  });

  test("a job submitted after shutdown is refused at the call", async () => {
    const pool = new WorkerPoolExecutor({ maxThreads: 1 });
    await pool.shutdown();
    await run(function* () {
      expect(() => runInExecutor(pool, add, 1, 2)).toThrow(new Error("WorkerPoolExecutor: cannot run jobs.mjs#add after shutdown()"));
    });
  });

  test("a job whose thread dies fails with an Error saying so, and the pool replaces the thread", async () => {
    const pool = new WorkerPoolExecutor({ maxThreads: 1 });
    try {
      const { error, after } = await run(function* () {
        let error: unknown;
        try {
          yield* runInExecutor(pool, crash, 3);
        } catch (e) {
          error = e;
        }
        return { error, after: yield* runInExecutor(pool, add, 2, 2) };
      });
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toBe("jobs.mjs#crash: the worker thread stopped while running the job: worker exited with code: 3");
      expect(after).toBe(4);
    } finally {
      await pool.shutdown();
    }
  });

  test.skipIf(process.platform !== "linux")("niceIncrement lowers the priority of the worker threads only (Linux)", async () => {
    const pool = new WorkerPoolExecutor({ maxThreads: 1, niceIncrement: 5 });
    const plain = new WorkerPoolExecutor({ maxThreads: 1 });
    const priorities = moduleFunction<() => { thread: number; process: number }>(jobs, "priorities");
    try {
      const [niced, normal] = await run(function* () {
        return yield* gather([runInExecutor(pool, priorities), runInExecutor(plain, priorities)]);
      });
      expect(niced.thread).toBe(Math.min(19, niced.process + 5));
      expect(normal.thread).toBe(normal.process);
      expect(niced.process).toBe(normal.process);
    } finally {
      await Promise.all([pool.shutdown(), plain.shutdown()]);
    }
  });

  test("options are checked at construction", () => {
    expect(() => new WorkerPoolExecutor({ niceIncrement: 20 })).toThrow(RangeError);
    expect(() => new WorkerPoolExecutor({ maxThreads: 0 })).toThrow(RangeError);
    expect(() => new WorkerPoolExecutor({ maxThreads: 1.5 })).toThrow(/maxThreads must be an integer >= 1, got 1.5/);
    expect(() => new WorkerPoolExecutor({ maxThreads: "2" as never })).toThrow(TypeError);
    expect(() => new WorkerPoolExecutor({ minThreads: -1 })).toThrow(RangeError);
    expect(() => new WorkerPoolExecutor({ idleTimeoutMs: -5 })).toThrow(RangeError);
    expect(() => new WorkerPoolExecutor(5 as never)).toThrow(TypeError);
  });

  test("threads idle longer than idleTimeoutMs end, down to minThreads", async () => {
    const pool = new WorkerPoolExecutor({ maxThreads: 2, minThreads: 0, idleTimeoutMs: 0 });
    try {
      const workers = await run(function* () {
        yield* gather([runInExecutor(pool, add, 1, 2), runInExecutor(pool, add, 3, 4)]);
        return [...pool.threads];
      });
      await allExited(workers);
      expect(pool.threads.length).toBe(0);
    } finally {
      await pool.shutdown();
    }
  });

  test("submit(job, signal) is start() behind a promise: the result, or the worker's error rebuilt", async () => {
    const pool = new WorkerPoolExecutor({ maxThreads: 1 });
    try {
      const job = (args: unknown[]): ExecutorJob => ({ name: "jobs.mjs#add", fn: null, module: { url: jobs.href, exportName: "add" }, args, transfer: [], runTimeMs: null });
      const signal = new AbortController().signal;
      const ok = job([1, 2]);
      expect(await pool.submit(ok, signal)).toBe(3);
      expect(typeof ok.runTimeMs).toBe("number");
      const failing: ExecutorJob = { ...job([]), name: "thrower", fn: () => { throw new RangeError("no"); }, module: null };
      await expect(pool.submit(failing, signal)).rejects.toThrow(new RangeError("no"));
    } finally {
      await pool.shutdown();
    }
  });
});

import { once } from "node:events";
import { describe, expect, test } from "vitest";
import { CancelledError, createTask, ensureFuture, getRunningLoop, run, type ExecutorJobInfo } from "@loop/core";
import { WorkerPoolExecutor, moduleFunction, runInExecutor, runInWorker } from "../src/index.js";
import { Gate, RecordingPoller, allExited, jobs } from "./helpers.js";

const block = moduleFunction<(shared: SharedArrayBuffer) => string>(jobs, "block");
const spin = moduleFunction<(shared: SharedArrayBuffer) => never>(jobs, "spin");
const mark = moduleFunction<(shared: SharedArrayBuffer, index: number) => number>(jobs, "mark");
const whoAmI = moduleFunction<() => number>(jobs, "whoAmI");

describe("cancelling the awaiting task cancels the job", () => {
  test("a queued job is dropped: it never runs, and the job behind it does", async () => {
    const pool = new WorkerPoolExecutor({ maxThreads: 1, minThreads: 1 });
    const busy = new Gate();
    const marks = new Gate();
    try {
      const log = await run(function* () {
        const log: string[] = [];
        const running = runInExecutor(pool, block, busy.shared);
        yield* busy.started();
        const waiter = createTask(
          (function* () {
            try {
              yield* runInExecutor(pool, mark, marks.shared, 2);
            } catch (error) {
              log.push(`waiter: ${(error as Error).name}`);
              throw error;
            }
          })(),
        );
        yield; // the waiter submits its job, which queues behind the blocked one
        expect(pool.queueSize).toBe(1);
        waiter.cancel();
        yield* ensureFuture(waiter.then(undefined, () => undefined));
        expect(waiter.cancelled()).toBe(true);
        expect(pool.queueSize).toBe(0);
        busy.release();
        log.push(`running: ${yield* running}`);
        log.push(`next: ${yield* runInExecutor(pool, mark, marks.shared, 3)}`);
        return log;
      });
      expect(log).toEqual(["waiter: CancelledError", "running: released", "next: 3"]);
      expect(marks.marked(2)).toBe(false);
      expect(marks.marked(3)).toBe(true);
    } finally {
      busy.release();
      await pool.shutdown();
    }
  });

  test("a running job is stopped: its thread is terminated and replaced", async () => {
    const pool = new WorkerPoolExecutor({ maxThreads: 1, minThreads: 1 });
    const gate = new Gate();
    try {
      const { outcome, before, after } = await run(function* () {
        const task = createTask(
          (function* () {
            yield* runInExecutor(pool, spin, gate.shared);
          })(),
        );
        yield* gate.started();
        const before = [pool.threads[0]!];
        const exited = once(before[0]!, "exit");
        task.cancel("enough");
        let outcome: unknown;
        try {
          yield* task;
        } catch (error) {
          outcome = error;
        }
        yield* ensureFuture(exited);
        // The pool goes on with a new thread.
        const after = yield* runInExecutor(pool, whoAmI);
        return { outcome, before, after };
      });
      expect(outcome).toBeInstanceOf(CancelledError);
      expect((outcome as Error).message).toBe("enough");
      expect(before[0]!.threadId).toBe(-1);
      expect(after).toBeGreaterThan(0);
      expect(pool.threads.length).toBe(1);
    } finally {
      await pool.shutdown();
    }
  });

  test("cancelling the Future itself stops the job the same way", async () => {
    const pool = new WorkerPoolExecutor({ maxThreads: 1 });
    const gate = new Gate();
    try {
      const cancelled = await run(function* () {
        const future = runInExecutor(pool, spin, gate.shared);
        yield* gate.started();
        const worker = pool.threads[0]!;
        future.cancel();
        yield* ensureFuture(allExited([worker]));
        return future.cancelled();
      });
      expect(cancelled).toBe(true);
    } finally {
      await pool.shutdown();
    }
  });

  test("a job cancelled before any thread took it never reaches one", async () => {
    const pool = new WorkerPoolExecutor({ maxThreads: 1, minThreads: 0 });
    const marks = new Gate();
    try {
      await run(function* () {
        const future = runInExecutor(pool, mark, marks.shared, 0);
        future.cancel();
        expect(yield* runInExecutor(pool, mark, marks.shared, 1)).toBe(1);
      });
      expect(marks.marked(0)).toBe(false);
      expect(marks.marked(1)).toBe(true);
    } finally {
      await pool.shutdown();
    }
  });

  test("nothing leaks: every job is counted as outside work until it ends, then no longer", async () => {
    const poller = new RecordingPoller();
    const gate = new Gate();
    const counts = await run(
      function* () {
        const counts: number[] = [poller.externalPending()];
        const done = runInWorker(jobs, "add", 1, 2);
        counts.push(poller.externalPending());
        yield* done;
        counts.push(poller.externalPending());
        const spinning = runInWorker(jobs, "spin", gate.shared);
        counts.push(poller.externalPending());
        yield* gate.started();
        spinning.cancel();
        // The pool rejects the aborted job at once; its count goes with it.
        yield* ensureFuture(Promise.resolve());
        counts.push(poller.externalPending());
        return counts;
      },
      { poller },
    );
    expect(counts).toEqual([0, 1, 0, 1, 0]);
  });

  test("each finished job is reported to the loop's instruments, with its outcome", async () => {
    const gate = new Gate();
    const reports = await run(function* () {
      const reports: ExecutorJobInfo[] = [];
      getRunningLoop().addInstrument({ executorJob: (job) => void reports.push(job) });
      yield* runInWorker(jobs, "add", 1, 2);
      try {
        yield* runInWorker(jobs, "fail", "type");
      } catch { // eslint-disable-line @loop/no-swallowed-cancel -- the job fails on purpose; its report is what the test reads
        // reported as an error
      }
      const spinning = runInWorker(jobs, "spin", gate.shared);
      yield* gate.started();
      spinning.cancel();
      return reports;
    });
    expect(reports.map((r) => [r.name, r.outcome])).toEqual([
      ["jobs.mjs#add", "ok"],
      ["jobs.mjs#fail", "error"],
      ["jobs.mjs#spin", "cancelled"],
    ]);
    for (const report of reports) expect(report.durationMs).toBeGreaterThanOrEqual(0);
  });
});

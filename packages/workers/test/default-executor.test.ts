import type { Worker } from "node:worker_threads";
import { describe, expect, test } from "vitest";
import { EventLoop, getRunningLoop, run } from "@loop/core";
import { WorkerPoolExecutor, defaultExecutor, runInExecutor, runInWorker, toThread } from "../src/index.js";
import { Gate, jobs } from "./helpers.js";

describe("the default executor", () => {
  test("is created on first use, once per loop, and shared by runInWorker, toThread and runInExecutor(null)", async () => {
    const seen = await run(function* () {
      const loop = getRunningLoop();
      const before = loop.getDefaultExecutor();
      yield* runInWorker(jobs, "add", 1, 2);
      const created = loop.getDefaultExecutor();
      yield* toThread(() => 1);
      yield* runInExecutor(null, (x: number) => x, 1);
      return { before, created, after: loop.getDefaultExecutor(), viaFunction: defaultExecutor() };
    });
    expect(seen.before).toBe(null);
    expect(seen.created).toBeInstanceOf(WorkerPoolExecutor);
    expect(seen.after).toBe(seen.created);
    expect(seen.viaFunction).toBe(seen.created);
  });

  test("run() shuts it down before closing the loop: no thread is left", async () => {
    let executor: WorkerPoolExecutor | null = null;
    let workers: Worker[] = [];
    await run(function* () {
      yield* runInWorker(jobs, "add", 1, 2);
      executor = getRunningLoop().getDefaultExecutor() as WorkerPoolExecutor;
      workers = [...executor.threads];
    });
    expect(workers.length).toBeGreaterThan(0);
    expect(executor!.isShutdown).toBe(true);
    expect(executor!.threads.length).toBe(0);
    expect(workers.every((w) => w.threadId === -1)).toBe(true);
  });

  test("run() cancels a job still running at the end and its thread is stopped", async () => {
    let workers: Worker[] = [];
    const gate = new Gate();
    await run(function* () {
      // Left running on purpose: run() cancels the task that waits on it.
      getRunningLoop().createTask(
        (function* () {
          yield* runInWorker(jobs, "spin", gate.shared);
        })(),
      );
      yield* gate.started();
      workers = [...(getRunningLoop().getDefaultExecutor() as WorkerPoolExecutor).threads];
    });
    expect(workers.every((w) => w.threadId === -1)).toBe(true);
  });

  test("is sized with defaultExecutor({ maxThreads }) before its first job", async () => {
    const maxThreads = await run(function* () {
      const executor = defaultExecutor({ maxThreads: 3 }) as WorkerPoolExecutor;
      yield* runInWorker(jobs, "add", 1, 2);
      expect(getRunningLoop().getDefaultExecutor()).toBe(executor);
      return executor.maxThreads;
    });
    expect(maxThreads).toBe(3);
  });

  test("refuses a size once it exists, saying how to replace it", async () => {
    await run(function* () {
      yield* runInWorker(jobs, "add", 1, 2);
      expect(() => defaultExecutor({ maxThreads: 1 })).toThrow(/exists already; size it before its first job, or replace it with loop\.setDefaultExecutor/);
    });
  });

  test("can be replaced with loop.setDefaultExecutor()", async () => {
    const mine = new WorkerPoolExecutor({ maxThreads: 1 });
    await run(function* () {
      getRunningLoop().setDefaultExecutor(mine);
      expect(yield* runInWorker(jobs, "add", 2, 2)).toBe(4);
      expect(mine.threads.length).toBe(1);
    });
    expect(mine.isShutdown).toBe(true);
    expect(mine.threads.length).toBe(0);
  });

  test("a default executor without start() or submit() is a clear error at the call", async () => {
    await run(function* () {
      getRunningLoop().setDefaultExecutor({ shutdown() {} });
      expect(() => runInWorker(jobs, "add", 1, 2)).toThrow(/the loop's default executor has no start\(\) or submit\(\)/);
    });
  });

  test("defaultExecutor() outside a running loop says why it needs one", () => {
    expect(() => defaultExecutor()).toThrow(/must be called inside a running event loop/);
    expect(new EventLoop().getDefaultExecutor()).toBe(null);
  });
});

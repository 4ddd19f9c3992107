/**
 * Behaviours that mutation testing (`pnpm test:mutation workers`) found unpinned: the job
 * registry growing and filling up, a job's abort listeners, and the argument errors that
 * name what was passed.
 */
import { describe, expect, test } from "vitest";
import { EventLoop, ensureFuture, run, type ExecutorJob } from "@loop/core";
import { WorkerPoolExecutor, moduleFunction, runInExecutor, runInWorker } from "../src/index.js";
import { JobFuture } from "../src/job-future.js";
import { rebuildThrown } from "../src/remote-error.js";
import { NO_ID, registryBuffer, sourceId } from "../src/job-registry.js";
import { jobs } from "./helpers.js";

const FIRST_BYTES = 16 * 1024;
const MAX_BYTES = 4 * 1024 * 1024;

/** Where the next record goes: header slot 1 of the registry (see job-registry.ts). */
function used(): number {
  return new Int32Array(registryBuffer(), 0, 2)[1] as number;
}

/** A self-contained function of about `size` characters of source that returns `n`. */
function sourceOf(n: number, size: number): string {
  return `() => ${n} /* ${"x".repeat(size)} */`;
}

describe("the job registry (one per thread, so this file starts with an empty one)", () => {
  test("grows by doubling past its first 16 KiB, keeps every id, and a thread started before the growth runs a job named after it", async () => {
    expect(registryBuffer().byteLength).toBe(FIRST_BYTES);
    const pool = new WorkerPoolExecutor({ maxThreads: 1, minThreads: 1 });
    try {
      await run(function* () {
        // The thread exists (it ran a job) before the registry grows under it.
        expect(yield* runInExecutor(pool, (a: number) => a + 1, 1)).toBe(2);
        const ids: number[] = [];
        for (let n = 0; n < 40; n++) ids.push(sourceId(sourceOf(n, 1000)));
        expect(ids).not.toContain(NO_ID);
        expect(new Set(ids).size).toBe(40);
        // The smallest doubling of 16 KiB that holds every record: not more, not less.
        let expected = FIRST_BYTES;
        while (expected < used()) expected *= 2;
        expect(registryBuffer().byteLength).toBe(expected);
        expect(expected).toBeGreaterThan(FIRST_BYTES);
        // A function registered after the growth is named by id and runs on the old thread.
        const last = (() => "after the growth") as () => string;
        expect(yield* runInExecutor(pool, last)).toBe("after the growth");
      });
    } finally {
      await pool.shutdown();
    }
  });

  test("a source of 64 KiB or less is named, a longer one is not; once 4 MiB are full new ones travel in full, and still run", async () => {
    expect(sourceId(sourceOf(-1, 64 * 1024 - 30))).not.toBe(NO_ID);
    expect(sourceId(`() => 0 /* ${"y".repeat(64 * 1024)} */`)).toBe(NO_ID);
    const ids: number[] = [];
    for (let n = 0; n < 100; n++) {
      const id = sourceId(sourceOf(1000 + n, 60_000));
      ids.push(id);
      if (id === NO_ID) break;
    }
    // Filled to the last record that fits, never past 4 MiB.
    expect(ids.at(-1)).toBe(NO_ID);
    expect(ids.slice(0, -1)).not.toContain(NO_ID);
    expect(registryBuffer().byteLength).toBe(MAX_BYTES);
    expect(used()).toBeLessThanOrEqual(MAX_BYTES);
    expect(used()).toBeGreaterThan(MAX_BYTES - 61_000);
    // A small record still fits in what is left; nothing is named twice.
    const small = sourceId("() => 'small'");
    expect(small).not.toBe(NO_ID);
    expect(sourceId("() => 'small'")).toBe(small);
    const pool = new WorkerPoolExecutor({ maxThreads: 1 });
    try {
      const result = await run(function* () {
        return yield* runInExecutor(pool, (a: number) => a * 3 + 0.5 /* a registry that is full */, 2);
      });
      expect(result).toBe(6.5);
    } finally {
      await pool.shutdown();
    }
  });
});

describe("a job's abort listeners (the JobFuture is the job's signal)", () => {
  const job = (): ExecutorJob => ({ name: "job", fn: () => 0, module: null, args: [], transfer: [] }) as unknown as ExecutorJob;

  test("cancel() calls every listener still added, once each, in the order they were added", () => {
    const loop = new EventLoop();
    const future = new JobFuture<number>(loop, job());
    const calls: string[] = [];
    const a = () => calls.push("a");
    const b = () => calls.push("b");
    const c = () => calls.push("c");
    const d = () => calls.push("d");
    future.addEventListener("abort", a);
    future.addEventListener("abort", b);
    future.addEventListener("abort", c);
    future.addEventListener("abort", d);
    future.removeEventListener("abort", c);
    future.removeEventListener("abort", () => {}); // never added: changes nothing
    expect(future.cancel("stop")).toBe(true);
    expect(calls).toEqual(["a", "b", "d"]);
    expect(future.aborted).toBe(true);
    expect(future.reason).toBeInstanceOf(Error);
    expect((future.reason as Error).name).toBe("CancelledError");
    // Once aborted, a second cancel aborts nothing again.
    expect(future.cancel()).toBe(false);
    expect(calls).toEqual(["a", "b", "d"]);
    loop.close();
  });

  test("removing the first listener leaves the others to be called", () => {
    const loop = new EventLoop();
    const future = new JobFuture<number>(loop, job());
    const calls: string[] = [];
    const a = () => calls.push("a");
    const b = () => calls.push("b");
    future.addEventListener("abort", a);
    future.addEventListener("abort", b);
    future.removeEventListener("abort", a);
    future.cancel();
    expect(calls).toEqual(["b"]);
    loop.close();
  });

  test("a job whose outcome arrived is not aborted by a cancel: its listeners are not called", () => {
    const loop = new EventLoop();
    const future = new JobFuture<number>(loop, job());
    const calls: string[] = [];
    future.addEventListener("abort", () => calls.push("a"));
    expect(future.markSettled()).toBe(true);
    expect(future.markSettled()).toBe(false);
    future.cancel();
    expect(calls).toEqual([]);
    expect(future.aborted).toBe(false);
    loop.close();
  });

  test("a job discarded at the call is cancelled and never reported", () => {
    const loop = new EventLoop();
    const future = new JobFuture<number>(loop, job());
    const calls: string[] = [];
    future.addEventListener("abort", () => calls.push("a"));
    future.discard();
    expect(future.cancelled()).toBe(true);
    expect(future.markSettled()).toBe(false);
    expect(calls).toEqual([]);
    loop.close();
  });
});

describe("argument errors name what was passed", () => {
  test("a module URL that is not a string or URL: the type, and how to make a URL", () => {
    expect(() => moduleFunction(null as never, "add")).toThrow(
      new TypeError(
        'moduleFunction(moduleUrl, …): moduleUrl must be a URL or an absolute path, got null; for a module next to yours, use new URL("./file.js", import.meta.url)',
      ),
    );
    expect(() => moduleFunction([] as never, "add")).toThrow(/got an array;/);
    expect(() => moduleFunction(jobs, null as never)).toThrow(
      new TypeError("moduleFunction(moduleUrl, exportName): exportName must be the name of a function the module exports, got null"),
    );
  });

  test("runInWorker's errors name runInWorker", async () => {
    await run(function* () {
      expect(() => runInWorker(7 as never, "add")).toThrow(/^runInWorker\(moduleUrl, …\): moduleUrl must be a URL or an absolute path, got number;/);
      yield* ensureFuture(Promise.resolve());
    });
  });

  test("a module function's name is the file's base name and the export, whatever the query or hash", () => {
    expect(moduleFunction(`${jobs.href}?v=2#top`, "add").name).toBe("jobs.mjs#add");
    expect(moduleFunction("file:///srv/jobs/", "add").name).toBe("file:///srv/jobs/#add");
  });
});

describe("new WorkerPoolExecutor(opts) names the option, the rule and the value", () => {
  test("each bad option is refused with its own error; the bounds themselves are accepted", async () => {
    expect(() => new WorkerPoolExecutor(null as never)).toThrow(new TypeError("new WorkerPoolExecutor(opts): opts must be an object like { maxThreads }"));
    expect(() => new WorkerPoolExecutor({ minThreads: "1" as never })).toThrow(new TypeError("new WorkerPoolExecutor({ minThreads }): minThreads must be a number, got string"));
    for (const idleTimeoutMs of [-1, Number.NaN, "5"]) {
      expect(() => new WorkerPoolExecutor({ idleTimeoutMs: idleTimeoutMs as number })).toThrow(
        new RangeError(`new WorkerPoolExecutor({ idleTimeoutMs }): idleTimeoutMs must be a number of milliseconds >= 0, got ${String(idleTimeoutMs)}`),
      );
    }
    for (const niceIncrement of [-1, 20, 1.5, "3"]) {
      expect(() => new WorkerPoolExecutor({ niceIncrement: niceIncrement as number })).toThrow(
        new RangeError(`new WorkerPoolExecutor({ niceIncrement }): niceIncrement must be an integer from 0 to 19, got ${String(niceIncrement)}`),
      );
    }
    // No thread starts (minThreads 0), so these cost nothing to make and shut down.
    for (const opts of [{ niceIncrement: 0 }, { niceIncrement: 19 }, { idleTimeoutMs: 0 }]) {
      const pool = new WorkerPoolExecutor({ ...opts, minThreads: 0, maxThreads: 1 });
      expect(pool.threads).toHaveLength(0);
      await pool.shutdown();
    }
  });
});

describe("an error thrown on a worker thread, rebuilt here", () => {
  test("a user class that kept the name Error is named after its class, in name and stack; its fields are its only enumerable keys", () => {
    const error = rebuildThrown({
      kind: "error",
      className: "ValidationError",
      builtin: false,
      name: "Error",
      message: "bad input",
      stack: "Error: bad input\n    at check (jobs.mjs:1:1)",
      fields: { code: "E_BAD" },
      cause: { kind: "value", value: 5 },
    }) as Error & { code: string };
    expect(error.constructor.name).toBe("ValidationError");
    expect(error.name).toBe("ValidationError");
    expect(error.stack).toBe("ValidationError: bad input\n    at check (jobs.mjs:1:1)");
    expect(error.cause).toBe(5);
    expect(error.code).toBe("E_BAD");
    expect(Object.keys(error)).toEqual(["code"]);
    for (const key of ["name", "stack", "cause"]) {
      expect(Object.getOwnPropertyDescriptor(error, key)).toMatchObject({ writable: true, configurable: true, enumerable: false });
    }
    // One stand-in class per class name.
    const again = rebuildThrown({ kind: "error", className: "ValidationError", builtin: false, name: "Error", message: "", stack: undefined, fields: {} });
    expect((again as Error).constructor).toBe(error.constructor);
  });

  test("a name the worker set itself is kept, and a stack that does not start with it is left alone", () => {
    const error = rebuildThrown({
      kind: "error",
      className: "HttpError",
      builtin: false,
      name: "NotFound",
      message: "no",
      stack: "at somewhere",
      fields: {},
    }) as Error;
    expect(error.name).toBe("NotFound");
    expect(error.stack).toBe("at somewhere");
    const builtin = rebuildThrown({ kind: "error", className: "TypeError", builtin: true, name: "TypeError", message: "t", stack: "TypeError: t", fields: {} }) as Error;
    expect(builtin).toBeInstanceOf(TypeError);
    expect(Object.getOwnPropertyNames(builtin)).not.toContain("name");
    expect(builtin.stack).toBe("TypeError: t");
  });

  test("an AggregateError with no errors listed arrives with none", () => {
    const error = rebuildThrown({ kind: "error", className: "AggregateError", builtin: true, name: "AggregateError", message: "all failed", stack: undefined, fields: {} });
    expect(error).toBeInstanceOf(AggregateError);
    expect((error as AggregateError).errors).toEqual([]);
  });
});

import { MessageChannel } from "node:worker_threads";
import { describe, expect, test } from "vitest";
import { run } from "@loop/core";
import { WorkerPoolExecutor, moduleFunction, runInExecutor, runInWorker, transfer } from "../src/index.js";
import { jobs } from "./helpers.js";

describe("transfer", () => {
  test("an ArrayBuffer argument marked with transfer() is moved, not copied: it is detached here", async () => {
    const buffer = new ArrayBuffer(1 << 20);
    const view = new Uint8Array(1 << 10);
    const copied = new ArrayBuffer(16);
    const lengths = await run(function* () {
      return [
        yield* runInWorker(jobs, "byteLength", transfer(buffer)),
        yield* runInWorker(jobs, "byteLength", transfer(view)),
        yield* runInWorker(jobs, "byteLength", copied),
      ];
    });
    expect(lengths).toEqual([1 << 20, 1 << 10, 16]);
    expect(buffer.byteLength).toBe(0);
    expect(view.byteLength).toBe(0);
    expect(copied.byteLength).toBe(16);
  });

  test("a result the worker marks for moving arrives without a copy: the worker's own buffer is detached", async () => {
    const pool = new WorkerPoolExecutor({ maxThreads: 1 });
    const makeBuffer = moduleFunction<(size: number, move: boolean) => Uint8Array>(jobs, "makeBuffer");
    const keptByteLength = moduleFunction<() => number>(jobs, "keptByteLength");
    try {
      const outcome = await run(function* () {
        const moved = yield* runInExecutor(pool, makeBuffer, 4096, true);
        const keptAfterMove = yield* runInExecutor(pool, keptByteLength);
        const copied = yield* runInExecutor(pool, makeBuffer, 4096, false);
        const keptAfterCopy = yield* runInExecutor(pool, keptByteLength);
        return { moved, keptAfterMove, copied, keptAfterCopy };
      });
      expect(outcome.moved).toBeInstanceOf(Uint8Array);
      expect([outcome.moved.byteLength, outcome.moved[0]]).toEqual([4096, 7]);
      expect(outcome.keptAfterMove).toBe(0);
      expect(outcome.copied.byteLength).toBe(4096);
      expect(outcome.keptAfterCopy).toBe(4096);
    } finally {
      await pool.shutdown();
    }
  });

  test("transfer(value, list) moves the listed buffers of any value", () => {
    const a = new ArrayBuffer(4);
    const { port1, port2 } = new MessageChannel();
    const marked = transfer({ a, port: port1 }, [a, port1]);
    expect(Object.getOwnPropertySymbols(marked).map((s) => s.description)).toEqual(["Piscina.transferable", "Piscina.valueOf"]);
    port1.close();
    port2.close();
  });

  test("a value with no buffer to move, or a bad list, is refused at the call", () => {
    expect(() => transfer({ a: 1 })).toThrow(/pass the buffers to move as the second argument/);
    expect(() => transfer(new ArrayBuffer(1), "x" as never)).toThrow(TypeError);
    expect(() => transfer(new Uint8Array(new SharedArrayBuffer(4)))).toThrow(/SharedArrayBuffer, which is shared with workers as it is/);
  });
});

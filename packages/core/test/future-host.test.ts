import { afterEach, describe, expect, test, vi } from "vitest";
import type { Coroutine, DebugLogger } from "../src/index.js";

// Futures watch for "exception was never retrieved" and (in debug mode) "destroyed while
// pending" with FinalizationRegistry, and point at their loop with WeakRef. A JavaScript
// host may lack either: futures and tasks then work as ever, without those reports.

afterEach(() => {
  vi.unstubAllGlobals();
  vi.resetModules();
});

async function collectGarbage(rounds: number): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("this test needs node --expose-gc (see vitest.config.ts)");
  for (let i = 0; i < rounds; i++) {
    gc();
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

describe("a host without FinalizationRegistry", () => {
  test("runs futures and tasks, failed or not, in debug mode and out of it", async () => {
    vi.stubGlobal("FinalizationRegistry", undefined);
    vi.resetModules();
    // A fresh copy of core, whose module-level registries see the host without it.
    const core = await import("../src/index.js");
    const outcomes: unknown[] = [];
    for (const debug of [true, false]) {
      outcomes.push(
        await core.run(
          function* (): Coroutine<unknown> {
            const loop = core.getRunningLoop();
            const f = loop.createFuture<number>();
            loop.callSoon(() => f.setResult(1));
            const failed = loop.createFuture<number>();
            failed.setException(new Error("x"));
            const task = core.createTask(
              (function* () {
                return (yield* f) + 1;
              })(),
            );
            return [yield* task, (failed.exception() as Error).message];
          },
          { debug },
        ),
      );
    }
    expect(outcomes).toEqual([
      [2, "x"],
      [2, "x"],
    ]);
  });
});

describe("a host without WeakRef", () => {
  test("makes futures in debug mode; one dropped while pending is then not reported", async () => {
    vi.stubGlobal("WeakRef", undefined);
    const core = await import("../src/index.js");
    const loop = new core.EventLoop({ debug: true });
    const reports: string[] = [];
    const logger: DebugLogger = { warn: (message) => reports.push(message) };
    loop.debugLogger = logger;
    let collected = false;
    const sentinel = new FinalizationRegistry<null>(() => (collected = true));
    (function makeGarbage() {
      const future = loop.createFuture<number>(); // dropped pending
      sentinel.register(future, null);
    })();
    // A report that throws does so in the finalizer, outside any test: catch it here too.
    const thrown: unknown[] = [];
    const onUncaught = (error: unknown): number => thrown.push(error);
    process.prependListener("uncaughtException", onUncaught);
    try {
      await collectGarbage(5);
      for (let i = 0; i < 45 && !collected; i++) await collectGarbage(1);
    } finally {
      process.removeListener("uncaughtException", onUncaught);
    }
    expect(collected).toBe(true);
    expect(thrown).toEqual([]);
    expect(reports).toEqual([]);
    loop.close();
  });
});

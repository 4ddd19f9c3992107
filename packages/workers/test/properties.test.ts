import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { createTask, ensureFuture, gather, getRunningLoop, run, type Coroutine, type ExecutorJobInfo } from "@loop/core";
import { WorkerPoolExecutor, moduleFunction, runInExecutor } from "../src/index.js";
import { rebuildThrown, type ThrownRecord } from "../src/remote-error.js";
import { RecordingPoller, jobs } from "./helpers.js";

// The worker side's description of thrown values, run here: what crosses the thread is
// its structured clone.
const { describe: describeThrown } = (await import(new URL("../worker/entry.mjs", import.meta.url).href)) as {
  describe: (thrown: unknown) => ThrownRecord;
};

const builtins = [Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError] as const;

describe("properties", () => {
  test("any built-in error survives the trip with its class, message, stack and fields", () => {
    fc.assert(
      fc.property(fc.constantFrom(...builtins), fc.string(), fc.option(fc.string(), { nil: undefined }), (ErrorClass, message, code) => {
        const original = new ErrorClass(message);
        if (code !== undefined) Object.assign(original, { code });
        const rebuilt = rebuildThrown(structuredClone(describeThrown(original))) as Error & { code?: string };
        expect(rebuilt).toBeInstanceOf(ErrorClass);
        expect(rebuilt.constructor).toBe(ErrorClass);
        expect(rebuilt.message).toBe(message);
        expect(rebuilt.stack).toBe(original.stack);
        expect(rebuilt.code).toBe(code);
      }),
    );
  });

  test("any error of a user class arrives named after its class", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Z][A-Za-z]{0,20}Error$/), fc.string(), (className, message) => {
        const UserError = { [className]: class extends Error {} }[className]!;
        const rebuilt = rebuildThrown(structuredClone(describeThrown(new UserError(message)))) as Error;
        expect(rebuilt.constructor.name).toBe(className);
        expect(rebuilt.name).toBe(className);
        expect(rebuilt.message).toBe(message);
        expect(rebuilt.stack?.startsWith(`${className}: `)).toBe(true);
      }),
    );
  });

  test("whatever jobs are cancelled, and when, every job ends once, is reported once, and nothing stays counted", async () => {
    const pool = new WorkerPoolExecutor({ maxThreads: 2 });
    const add = moduleFunction<(a: number, b: number) => number>(jobs, "add");
    try {
      await fc.assert(
        fc.asyncProperty(
          // For each job: cancel it never (null), or after that many loop turns.
          fc.array(fc.option(fc.nat({ max: 3 }), { nil: null }), { minLength: 1, maxLength: 8 }),
          async (cancelAfter) => {
            const poller = new RecordingPoller();
            const outcome = await run(
              function* () {
                const reports: ExecutorJobInfo[] = [];
                getRunningLoop().addInstrument({ executorJob: (job) => void reports.push(job) });
                const futures = cancelAfter.map((_, i) => runInExecutor(pool, add, i, 1));
                const cancellers = cancelAfter.map((turns, i) =>
                  createTask(
                    (function* (): Coroutine<void> {
                      if (turns === null) return;
                      for (let t = 0; t < turns; t++) yield;
                      futures[i]!.cancel();
                    })(),
                  ),
                );
                yield* gather(cancellers);
                const results = yield* gather(futures, { returnExceptions: true });
                // An aborted job's rejection comes in a microtask, and the loop may run several
                // turns in one host callback: wait for one Promise to be sure it has landed.
                yield* ensureFuture(Promise.resolve());
                return { results, reports, pending: poller.externalPending(), cancelled: futures.map((f) => f.cancelled()) };
              },
              { poller },
            );
            outcome.results.forEach((result, i) => {
              if (outcome.cancelled[i]) expect(result).toBeInstanceOf(Error);
              else expect(result).toBe(i + 1);
              if (cancelAfter[i] === null) expect(outcome.cancelled[i]).toBe(false);
            });
            expect(outcome.reports).toHaveLength(cancelAfter.length);
            expect(outcome.reports.map((r) => r.outcome).sort()).toEqual(
              outcome.cancelled.map((c) => (c ? "cancelled" : "ok")).sort(),
            );
            expect(outcome.pending).toBe(0);
            expect(pool.threads.length).toBeLessThanOrEqual(2);
          },
        ),
        { numRuns: 15 },
      );
    } finally {
      await pool.shutdown();
    }
  }, 60_000);
});

import { describe, expect, test, vi } from "vitest";
import { CancelledError, createTask, currentTask, taskSignal } from "../src/index.js";
import { catching, runVirtual, sleep } from "./helpers.js";

describe("taskSignal", () => {
  test("aborts with a CancelledError reason when the task is cancelled", async () => {
    const out = await runVirtual(function* () {
      let signal: AbortSignal | null = null;
      const events: string[] = [];
      const t = createTask(
        (function* () {
          signal = taskSignal();
          signal.addEventListener("abort", () => events.push("abort"));
          yield* sleep(100);
        })(),
      );
      yield* sleep(1);
      expect(signal!.aborted).toBe(false);
      t.cancel("stop");
      // Synchronously at cancel(), so Promise-based work stops at once.
      const abortedAtCancel = signal!.aborted;
      yield* catching(t);
      const reason = signal!.reason as Error;
      return [abortedAtCancel, events, reason instanceof CancelledError, reason.message];
    });
    expect(out).toEqual([true, ["abort"], true, "stop"]);
  });

  test("the same signal for the whole task; already aborted when asked for after a cancel", async () => {
    const out = await runVirtual(function* () {
      const t = createTask(
        (function* () {
          const a = taskSignal();
          const same = a === taskSignal();
          currentTask()!.cancel("early");
          try {
            yield* sleep(1);
          } catch { // eslint-disable-line @loop/no-swallowed-cancel -- the task swallows its cancellation on purpose; the test checks the signal afterwards
            // swallowed
          }
          return same;
        })(),
      );
      const same = yield* t;
      let seen: unknown[] = [];
      const u = createTask(
        (function* () {
          currentTask()!.cancel("before");
          const s = taskSignal();
          seen = [s.aborted, (s.reason as Error).message];
        })(),
      );
      yield* catching(u); // cancelled after its last suspension: it ends cancelled
      return [same, seen];
    });
    expect(out).toEqual([true, [true, "before"]]);
  });

  test("on a host without AbortController it throws an Error that says so", async () => {
    const out = await runVirtual(function* () {
      vi.stubGlobal("AbortController", undefined);
      try {
        taskSignal();
        return "made";
      } catch (error) {
        return `${(error as Error).constructor.name}: ${(error as Error).message}`;
      } finally {
        vi.unstubAllGlobals();
      }
    });
    expect(out).toBe("Error: taskSignal() needs AbortController, which this JavaScript host lacks");
  });

  test("after uncancel() withdraws the last request, taskSignal() is a fresh live signal; the old one stays aborted", async () => {
    const out = await runVirtual(function* () {
      const log: unknown[] = [];
      const t = createTask(
        (function* () {
          const task = currentTask()!;
          const first = taskSignal();
          task.cancel("one");
          task.cancel("two");
          try {
            yield* sleep(1);
          } catch (error) {
            log.push(error instanceof CancelledError);
          }
          // One request is still pending: the signal stays aborted.
          log.push(task.uncancel(), taskSignal() === first, first.aborted);
          log.push(task.uncancel());
          const second = taskSignal();
          log.push(second === first, first.aborted, second.aborted, second === taskSignal());
          yield* sleep(1);
          // A later cancel() reaches the new signal.
          task.cancel("three");
          log.push(second.aborted, (second.reason as Error).message);
          yield* sleep(1);
        })(),
      );
      yield* catching(t);
      return log;
    });
    expect(out).toEqual([true, 1, true, true, 0, false, true, false, true, true, "three"]);
  });

  test("outside a task it throws, naming taskSignal()", () => {
    expect(() => taskSignal()).toThrow(new Error("taskSignal() must be called from inside a task (a coroutine run by the loop)"));
  });
});

import { describe, expect, test } from "vitest";
import {
  CancelledError,
  ExceptionGroup,
  createTask,
  currentTask,
  gather,
  taskGroup,
  type Coroutine,
  type Task,
} from "../src/index.js";
import { catching, runVirtual, sleep, turns } from "./helpers.js";

// Behaviours that mutation testing (`pnpm test:mutation`, see CONTRIBUTING.md) found
// unpinned: each test here fails on a specific wrong implementation that passed the
// rest of the suite.

describe("Task cancellation counting", () => {
  test("two cancel()s and one uncancel(): the task is still cancelled at its next step", async () => {
    const out = await runVirtual(function* () {
      let stepped = false;
      const task = createTask(
        (function* () {
          stepped = true;
          yield* sleep(1);
          return "finished";
        })(),
      );
      task.cancel();
      task.cancel();
      const left = task.uncancel();
      const error = yield* catching(task);
      return { left, stepped, error, cancelled: task.cancelled() };
    });
    expect(out.left).toBe(1);
    expect(out.stepped).toBe(false);
    expect(out.error).toBeInstanceOf(CancelledError);
    expect(out.cancelled).toBe(true);
  });
});

describe("taskGroup", () => {
  test("a body that throws while no child fails: an ExceptionGroup holding exactly the body's error, children cancelled", async () => {
    const out = await runVirtual(function* () {
      const bodyError = new RangeError("body");
      let child: Task<unknown> | null = null;
      const error = yield* catching(
        taskGroup(function* (tg) {
          child = tg.createTask(sleep(1_000));
          yield* sleep(1);
          throw bodyError;
        }),
      );
      return { error, bodyError, child: child!, cancelling: currentTask()!.cancelling() };
    });
    expect(out.error).toBeInstanceOf(ExceptionGroup);
    expect((out.error as ExceptionGroup).message).toBe("unhandled errors in a TaskGroup (1 sub-error; first: RangeError: body)");
    expect((out.error as ExceptionGroup).exceptions).toEqual([out.bodyError]);
    expect((out.error as ExceptionGroup).exceptions[0]).toBe(out.bodyError);
    expect(out.child.cancelled()).toBe(true);
    expect(out.cancelling).toBe(0);
  });

  test("a child may start a sibling while the group waits at its exit, and the group waits for that sibling too", async () => {
    const out = await runVirtual(function* () {
      const log: string[] = [];
      yield* taskGroup(function* (tg) {
        tg.createTask(
          (function* () {
            yield* sleep(10); // the body has returned: the group waits at its exit
            tg.createTask(
              (function* () {
                yield* sleep(20);
                log.push("sibling done");
              })(),
            );
            log.push("first done");
          })(),
        );
        log.push("body done");
      });
      log.push("group exited");
      return log;
    });
    expect(out).toEqual(["body done", "first done", "sibling done", "group exited"]);
  });
});

describe("gather", () => {
  test("cancel() on a gather that already failed returns false and cancels none of the children still running", async () => {
    const out = await runVirtual(function* () {
      const failing = createTask(
        (function* (): Coroutine<never> {
          yield* sleep(1);
          throw new TypeError("first");
        })(),
      );
      const slow = createTask(
        (function* () {
          yield* sleep(10);
          return "slow";
        })(),
      );
      const all = gather([failing, slow]);
      const error = yield* catching(all);
      const cancelled = all.cancel();
      const slowResult = yield* slow;
      return { error, cancelled, slowResult, slowCancelled: slow.cancelled() };
    });
    expect(out.error).toBeInstanceOf(TypeError);
    expect(out.cancelled).toBe(false);
    expect(out.slowCancelled).toBe(false);
    expect(out.slowResult).toBe("slow");
  });

  test("the same coroutine passed twice runs once and its result is reported in both places", async () => {
    const out = await runVirtual(function* () {
      let runs = 0;
      const job = (function* () {
        runs++;
        yield* sleep(1);
        return "job";
      })();
      const other = (function* () {
        yield* turns(1);
        return "other";
      })();
      const results = yield* gather([job, other, job]);
      return { results, runs };
    });
    expect(out.results).toEqual(["job", "other", "job"]);
    expect(out.runs).toBe(1);
  });
});

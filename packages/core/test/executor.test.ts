import { describe, expect, expectTypeOf, test } from "vitest";
import {
  CancelledError,
  createTask,
  getRunningLoop,
  run,
  type Coroutine,
  type Executor,
  type ExecutorJob,
  type ExecutorSignal,
} from "../src/index.js";

describe("Executor", () => {
  test("run() cancels the tasks left over, then shuts the default executor down with wait, then closes the loop", async () => {
    const log: string[] = [];
    const executor: Executor = {
      submit: () => Promise.resolve(),
      shutdown(opts) {
        log.push(`shutdown wait=${String(opts?.wait)}`);
      },
    };
    await run(function* (): Coroutine<void> {
      const loop = getRunningLoop();
      loop.setDefaultExecutor(executor);
      createTask(
        (function* (): Coroutine<void> {
          try {
            yield* loop.createFuture<void>();
          } catch (error) {
            log.push(`leftover task: ${(error as Error).name}`);
            throw error;
          }
        })(),
      );
      yield;
    });
    expect(log).toEqual(["leftover task: CancelledError", "shutdown wait=true"]);
  });

  test("the job and signal shapes: a real AbortSignal is an ExecutorSignal", () => {
    expectTypeOf<AbortSignal>().toMatchTypeOf<ExecutorSignal>();
    expectTypeOf<ExecutorJob["module"]>().toEqualTypeOf<{ readonly url: string; readonly exportName: string } | null>();
    expectTypeOf<Executor["submit"]>().toEqualTypeOf<((job: ExecutorJob, signal: ExecutorSignal) => PromiseLike<unknown>) | undefined>();
    expect(new CancelledError("x")).toBeInstanceOf(Error);
  });
});

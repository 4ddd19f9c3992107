/**
 * run()'s checks of its arguments (exact errors, nothing run) and what it reports about
 * tasks left over when main finishes.
 */
import { describe, expect, it } from "vitest";
import { CancelledError, createTask, getRunningLoop, run, type Coroutine } from "../src/index.js";
import { VirtualPoller, forever, turns } from "./helpers.js";

describe("run()'s arguments, checked at the call", () => {
  it.each([
    ["null", null],
    ["a string", "fast"],
  ])("opts that is %s is a TypeError naming the options", async (_name, opts) => {
    await expect(run(function* () {}, opts as never)).rejects.toThrow(
      new TypeError("run(main, opts): opts must be an object like { debug, poller, handleSignals, signal }"),
    );
  });

  it("a main that is not a coroutine (or a function making one) is a TypeError naming run(main)", async () => {
    await expect(run(5 as never, { poller: new VirtualPoller() })).rejects.toThrow(/^run\(main\) expects a coroutine/);
    await expect(run((() => 5) as never, { poller: new VirtualPoller() })).rejects.toThrow(/^run\(main\) expects a coroutine/);
  });
});

describe("run() and the tasks main leaves behind", () => {
  it("a leftover that stops cleanly when cancelled is not reported; one that fails is, once", async () => {
    const reports: unknown[] = [];
    await run(
      function* () {
        getRunningLoop().setExceptionHandler((_loop, context) => void reports.push(context.exception));
        createTask(
          (function* (): Coroutine<string> {
            try {
              yield* forever();
            } catch (error) {
              if (!(error instanceof CancelledError)) throw error;
            }
            return "stopped";
          })(),
        );
        createTask(
          (function* (): Coroutine<void> {
            try {
              yield* forever();
            } finally {
              // eslint-disable-next-line no-unsafe-finally
              throw new Error("cleanup broke");
            }
          })(),
        );
        yield* turns(1);
      },
      { poller: new VirtualPoller() },
    );
    expect(reports).toHaveLength(1);
    expect((reports[0] as Error).message).toBe("cleanup broke");
  });
});

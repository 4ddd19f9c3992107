import { describe, expect, test } from "vitest";
import type { ErrorContext, Instrument } from "../src/index.js";
import { sleep, virtualLoop } from "./helpers.js";

describe("instruments", () => {
  test("hooks see task creation, steps, completion, callbacks and polls, in order", async () => {
    const { loop } = virtualLoop();
    const log: string[] = [];
    const instrument: Instrument = {
      taskCreated: (t) => log.push(`created ${t.name}`),
      taskStepStart: (t) => log.push(`step ${t.name}`),
      taskStepEnd: (t) => log.push(`end ${t.name}`),
      taskDone: (t) => log.push(`done ${t.name}`),
      callbackStart: (h) => log.push(`cb ${h._describe()}`),
      callbackEnd: () => log.push("cb end"),
      beforePoll: (timeout) => log.push(`poll ${timeout}`),
      afterPoll: () => log.push("polled"),
    };
    loop.addInstrument(instrument);
    const task = loop.createTask(
      (function* () {
        yield* sleep(10);
      })(),
      { name: "t" },
    );
    await loop.runUntilComplete(task);
    loop.removeInstrument(instrument);
    loop.close();
    expect(log).toEqual([
      "created t",
      "polled",
      "step t",
      "end t",
      "poll 10",
      "polled",
      "cb resolveTimer()",
      "cb end",
      "poll 0",
      "polled",
      "step t",
      "done t",
      "end t",
      "poll 0",
      "polled",
      "cb stop()",
      "cb end",
    ]);
  });

  test("a step that ends the task by throwing is ended for the instrument too, after the task is done", async () => {
    const { loop } = virtualLoop();
    const log: string[] = [];
    loop.addInstrument({
      taskStepStart: (t) => log.push(`step ${t.name}`),
      taskStepEnd: (t) => log.push(`end ${t.name}`),
      taskDone: (t) => log.push(`done ${t.name}`),
    });
    const task = loop.createTask(
      (function* () {
        yield;
        throw new Error("boom");
      })(),
      { name: "t" },
    );
    await expect(loop.runUntilComplete(task)).rejects.toThrow("boom");
    loop.close();
    expect(log).toEqual(["step t", "end t", "step t", "done t", "end t"]);
  });

  test("a hook that throws goes to the exception handler and the loop goes on", async () => {
    const { loop } = virtualLoop();
    const contexts: ErrorContext[] = [];
    loop.setExceptionHandler((_l, ctx) => contexts.push(ctx));
    loop.addInstrument({
      callbackStart: () => {
        throw new Error("hook broke");
      },
    });
    let ran = false;
    loop.callSoon(() => {
      ran = true;
      loop.stop();
    });
    await loop.runForever();
    loop.close();
    expect(ran).toBe(true);
    expect(contexts[0]?.message).toBe("Exception in instrument hook callbackStart: Error: hook broke");
  });

  test("reportExecutorJob reaches executorJob hooks; without instruments it is a no-op", () => {
    const { loop } = virtualLoop();
    loop.reportExecutorJob({ name: "x", durationMs: 1, outcome: "ok" });
    const jobs: unknown[] = [];
    loop.addInstrument({ executorJob: (j) => jobs.push(j) });
    loop.reportExecutorJob({ name: "f", durationMs: 3, outcome: "error" });
    expect(jobs).toEqual([{ name: "f", durationMs: 3, outcome: "error" }]);
    loop.close();
  });

  test("instruments run in order of addition; removing the last one removes the set", () => {
    const { loop } = virtualLoop();
    const log: string[] = [];
    const a: Instrument = { executorJob: () => log.push("a") };
    const b: Instrument = { executorJob: () => log.push("b") };
    loop.addInstrument(a);
    loop.addInstrument(b);
    loop.reportExecutorJob({ name: "j", durationMs: 0, outcome: "ok" });
    loop.removeInstrument(a);
    loop.removeInstrument(a);
    loop.removeInstrument(b);
    expect(loop._instrument).toBe(null);
    loop.removeInstrument(b);
    expect(log).toEqual(["a", "b"]);
    loop.close();
  });

  test("addInstrument checks its argument", () => {
    const { loop } = virtualLoop();
    expect(() => loop.addInstrument(null as never)).toThrow(TypeError);
    expect(() => loop.addInstrument({ taskDone: 5 } as never)).toThrow(/instrument.taskDone must be a function/);
    loop.close();
  });

  test("readyCount and timerCount report the queues", () => {
    const { loop } = virtualLoop();
    loop.callSoon(() => {});
    loop.callSoon(() => {});
    loop.callLater(5, () => {});
    expect(loop.readyCount).toBe(2);
    expect(loop.timerCount).toBe(1);
    loop.close();
  });
});

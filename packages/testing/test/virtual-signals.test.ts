import { CancelledError, KeyboardInterrupt, getRunningLoop, type Coroutine } from "@loop/core";
import { describe, expect, it } from "vitest";
import { VirtualPoller, VirtualSignals, runVirtual } from "../src/index.js";

// @loop/testing does not depend on @loop/timers: a minimal sleep.
function* sleep(ms: number): Coroutine<void> {
  const loop = getRunningLoop();
  const done = loop.createFuture<void>();
  const timer = loop.callLater(ms, () => done.setResult());
  try {
    yield* done;
  } finally {
    timer.cancel();
  }
}

describe("VirtualSignals", () => {
  it("every VirtualPoller has one; a given one is used", () => {
    expect(new VirtualPoller().signals).toBeInstanceOf(VirtualSignals);
    const signals = new VirtualSignals();
    expect(new VirtualPoller({ signals }).signals).toBe(signals);
    expect(() => new VirtualPoller({ signals: {} as VirtualSignals })).toThrow(TypeError);
  });

  it("raise() reaches loop.addSignalHandler callbacks as loop callbacks; closing the run removes them", async () => {
    const signals = new VirtualSignals();
    const log: string[] = [];
    await runVirtual(
      function* () {
        getRunningLoop().addSignalHandler("SIGHUP", (what: string) => log.push(`${what} at ${getRunningLoop().time()}`), "reload");
        yield* sleep(100);
        signals.raise("SIGHUP");
        log.push("raised");
        yield* sleep(1);
      },
      { signals },
    );
    expect(log).toEqual(["raised", "reload at 100"]);
    expect(signals.listenerCount("SIGHUP")).toBe(0);
    expect(signals.listenerCount("SIGINT")).toBe(0);
  });

  it("runVirtual handles SIGINT as run() does: the main task is cancelled, finally blocks run, KeyboardInterrupt", async () => {
    const signals = new VirtualSignals();
    const log: string[] = [];
    const outcome = await runVirtual(
      function* () {
        getRunningLoop().callLater(250, () => signals.raise("SIGINT"));
        try {
          yield* sleep(3_600_000);
        } catch (error) {
          log.push(`${(error as Error).name} at ${getRunningLoop().time()}`);
          throw error;
        } finally {
          yield* sleep(50);
          log.push(`cleaned up at ${getRunningLoop().time()}`);
        }
      },
      { signals },
    ).catch((error: unknown) => error);
    expect(outcome).toBeInstanceOf(KeyboardInterrupt);
    expect(log).toEqual(["CancelledError at 250", "cleaned up at 300"]);
    expect(signals.exits).toEqual([]);
  });

  it("a second SIGINT during cleanup is recorded in exits (a real process would end there)", async () => {
    const signals = new VirtualSignals();
    await runVirtual(
      function* (): Coroutine<void> {
        signals.raise("SIGINT");
        try {
          yield* sleep(1_000);
        } catch (error) {
          expect(error).toBeInstanceOf(CancelledError);
          signals.raise("SIGINT");
          throw error;
        }
      },
      { signals },
    ).catch(() => {});
    expect(signals.exits).toEqual(["SIGINT"]);
  });

  it("runVirtual takes handleSignals and signal like run()", async () => {
    const signals = new VirtualSignals();
    await expect(
      runVirtual(
        function* () {
          signals.raise("SIGINT");
          yield* sleep(10);
          return "not interrupted";
        },
        { signals, handleSignals: false },
      ),
    ).resolves.toBe("not interrupted");
    const controller = new AbortController();
    const reason = new Error("stop");
    await expect(
      runVirtual(
        function* () {
          getRunningLoop().callLater(10, () => controller.abort(reason));
          yield* sleep(1_000);
        },
        { signal: controller.signal },
      ),
    ).rejects.toBe(reason);
  });

  it("raise() checks its argument", () => {
    expect(() => new VirtualSignals().raise(undefined as unknown as string)).toThrow(TypeError);
  });
});

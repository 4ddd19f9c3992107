import { describe, expect, it } from "vitest";
import { CancelledError, KeyboardInterrupt, getRunningLoop, run, type Coroutine } from "../src/index.js";
import { VirtualPoller, forever, sleep, turns } from "./helpers.js";
import { SignalPoller } from "./signal-helpers.js";

describe("run() and SIGINT, as asyncio's Runner", () => {
  it("SIGINT cancels the main task, lets every finally run (even one that waits), then rejects with KeyboardInterrupt", async () => {
    const poller = new SignalPoller();
    const log: string[] = [];
    const outcome = await run(
      function* () {
        try {
          getRunningLoop().callLater(10, () => poller.signals.raise("SIGINT"));
          yield* forever();
        } finally {
          log.push(`finally at ${getRunningLoop().time()}`);
          yield* sleep(5);
          log.push("cleanup done");
        }
      },
      { poller },
    ).catch((error: unknown) => error);
    expect(outcome).toBeInstanceOf(KeyboardInterrupt);
    expect(outcome).toBeInstanceOf(Error);
    expect((outcome as KeyboardInterrupt).name).toBe("KeyboardInterrupt");
    expect((outcome as KeyboardInterrupt).signal).toBe("SIGINT");
    expect(log).toEqual(["finally at 10", "cleanup done"]);
    // Left uncaught, this KeyboardInterrupt ends the process by SIGINT; nothing is left listening.
    expect(poller.signals.armed).toEqual([[outcome, "SIGINT"]]);
    expect(poller.signals.count("SIGINT")).toBe(0);
    expect(poller.signals.exits).toEqual([]);
  });

  it("tasks left over are cancelled and cleaned up too before run() rejects", async () => {
    const poller = new SignalPoller();
    const log: string[] = [];
    const outcome = await run(
      function* () {
        getRunningLoop().createTask(
          (function* (): Coroutine<void> {
            try {
              yield* forever();
            } finally {
              log.push("child finally");
            }
          })(),
        );
        yield* turns(1);
        poller.signals.raise("SIGINT");
        yield* forever();
      },
      { poller },
    ).catch((error: unknown) => error);
    expect(outcome).toBeInstanceOf(KeyboardInterrupt);
    expect(log).toEqual(["child finally"]);
  });

  it("a main task that catches the cancellation and returns makes run() resolve (uncancel, as asyncio)", async () => {
    const poller = new SignalPoller();
    const result = await run(
      function* () {
        poller.signals.raise("SIGINT");
        try {
          yield* forever();
        } catch (error) {
          if (!(error instanceof CancelledError)) throw error;
          return "stopped cleanly";
        }
        return "not interrupted";
      },
      { poller },
    );
    expect(result).toBe("stopped cleanly");
  });

  it("an error raised by the cleanup is what run() rejects with", async () => {
    const poller = new SignalPoller();
    const failure = new Error("cleanup failed");
    const outcome = await run(
      function* () {
        poller.signals.raise("SIGINT");
        try {
          yield* forever();
        } finally {
          // eslint-disable-next-line no-unsafe-finally
          throw failure;
        }
      },
      { poller },
    ).catch((error: unknown) => error);
    expect(outcome).toBe(failure);
    expect(poller.signals.armed).toEqual([]);
  });

  it("a second SIGINT during the cleanup ends the process at once", async () => {
    const poller = new SignalPoller();
    await run(
      function* () {
        poller.signals.raise("SIGINT");
        try {
          yield* forever();
        } finally {
          expect(poller.signals.exits).toEqual([]);
          poller.signals.raise("SIGINT");
          expect(poller.signals.exits).toEqual(["SIGINT"]);
        }
      },
      { poller },
    ).catch(() => {});
  });

  it("a SIGINT after the main task finished, while leftovers clean up, ends the process at once", async () => {
    const poller = new SignalPoller();
    await run(
      function* () {
        getRunningLoop().createTask(
          (function* (): Coroutine<void> {
            try {
              yield* forever();
            } finally {
              poller.signals.raise("SIGINT");
            }
          })(),
        );
        yield* turns(1);
        return "main done";
      },
      { poller },
    );
    expect(poller.signals.exits).toEqual(["SIGINT"]);
  });

  it("handleSignals: false leaves SIGINT alone", async () => {
    const poller = new SignalPoller();
    await run(
      function* () {
        expect(poller.signals.count("SIGINT")).toBe(0);
        poller.signals.raise("SIGINT");
        yield* turns(2);
      },
      { poller, handleSignals: false },
    );
  });

  it("handleSignals: [SIGINT, SIGTERM] widens it: SIGTERM interrupts with KeyboardInterrupt naming SIGTERM", async () => {
    const poller = new SignalPoller();
    const outcome = await run(
      function* () {
        expect(poller.signals.count("SIGINT")).toBe(1);
        poller.signals.raise("SIGTERM");
        yield* forever();
      },
      { poller, handleSignals: ["SIGINT", "SIGTERM"] },
    ).catch((error: unknown) => error);
    expect(outcome).toBeInstanceOf(KeyboardInterrupt);
    expect((outcome as KeyboardInterrupt).signal).toBe("SIGTERM");
    expect(poller.signals.armed[0]?.[1]).toBe("SIGTERM");
    expect(poller.signals.listeners.size).toBe(0);
  });

  it("by default SIGINT is left to another listener that was installed first", async () => {
    const poller = new SignalPoller();
    poller.signals.foreign = 1;
    await run(
      function* () {
        expect(poller.signals.count("SIGINT")).toBe(0);
      },
      { poller },
    );
    // Asked for explicitly, it is handled anyway.
    const second = new SignalPoller();
    second.signals.foreign = 1;
    await run(
      function* () {
        expect(second.signals.count("SIGINT")).toBe(1);
      },
      { poller: second, handleSignals: true },
    );
  });

  it("a SIGINT handler added with loop.addSignalHandler replaces run()'s while it is added", async () => {
    const poller = new SignalPoller();
    const log: string[] = [];
    const result = await run(
      function* () {
        const loop = getRunningLoop();
        loop.addSignalHandler("SIGINT", () => log.push("mine"));
        poller.signals.raise("SIGINT");
        yield* turns(2);
        loop.removeSignalHandler("SIGINT");
        return "not interrupted";
      },
      { poller },
    );
    expect(result).toBe("not interrupted");
    expect(log).toEqual(["mine"]);
  });

  it("without a signals capability, SIGINT handling is off by default and an explicit request fails at the call", async () => {
    await expect(run(function* () {}, { poller: new VirtualPoller() })).resolves.toBeUndefined();
    await expect(run(function* () {}, { poller: new VirtualPoller(), handleSignals: ["SIGTERM"] })).rejects.toThrow(/no signals capability/);
  });

  it("checks handleSignals and signal at the call", async () => {
    const poller = new SignalPoller();
    let ran = false;
    const main = function* (): Coroutine<void> {
      ran = true;
    };
    await expect(run(main, { poller, handleSignals: "SIGINT" as unknown as boolean })).rejects.toThrow(TypeError);
    await expect(run(main, { poller, handleSignals: ["SIGFOO"] })).rejects.toThrow(RangeError);
    await expect(run(main, { poller, handleSignals: ["SIGKILL"] })).rejects.toThrow(/cannot be caught/);
    await expect(run(main, { poller, signal: {} as AbortSignal })).rejects.toThrow(/signal must be an AbortSignal/);
    expect(ran).toBe(false);
  });
});

describe("run(main, { signal })", () => {
  it("aborting the signal cancels the main task, runs its finally, and rejects with the signal's reason", async () => {
    const controller = new AbortController();
    const log: string[] = [];
    const reason = new Error("user gave up");
    const outcome = await run(
      function* () {
        getRunningLoop().callLater(3, () => controller.abort(reason));
        try {
          yield* forever();
        } finally {
          log.push("finally");
        }
      },
      { poller: new VirtualPoller(), signal: controller.signal },
    ).catch((error: unknown) => error);
    expect(outcome).toBe(reason);
    expect(log).toEqual(["finally"]);
  });

  it("an already aborted signal never lets the main coroutine run", async () => {
    const controller = new AbortController();
    controller.abort();
    let ran = false;
    const outcome = await run(
      function* () {
        ran = true;
      },
      { poller: new VirtualPoller(), signal: controller.signal },
    ).catch((error: unknown) => error);
    expect(ran).toBe(false);
    expect((outcome as Error).name).toBe("AbortError");
  });

  it("an abort the main task swallows leaves its result, and an abort after the run does nothing", async () => {
    const controller = new AbortController();
    const result = await run(
      function* () {
        controller.abort();
        try {
          yield* forever();
        } catch {
          return 42;
        }
        return 0;
      },
      { poller: new VirtualPoller(), signal: controller.signal },
    );
    expect(result).toBe(42);
    const later = new AbortController();
    await expect(run(function* () { return 1; }, { poller: new VirtualPoller(), signal: later.signal })).resolves.toBe(1);
    later.abort();
  });
});

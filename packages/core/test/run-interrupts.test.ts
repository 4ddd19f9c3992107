/**
 * run()'s signals and AbortSignal handling (run-interrupts.ts), the parts run-signals.test.ts
 * leaves open: exact errors for bad options, drivers without the optional methods, which
 * cancellations count as run()'s own, and what is left listening afterwards.
 */
import { describe, expect, it } from "vitest";
import { CancelledError, KeyboardInterrupt, currentTask, getRunningLoop, run, type Coroutine, type SignalDriver, type SignalListener } from "../src/index.js";
import { VirtualPoller, forever, turns } from "./helpers.js";
import { FakeSignals, SignalPoller } from "./signal-helpers.js";

const HANDLE = "run(main, { handleSignals })";

/** A driver with only the required methods (no foreignListeners, exitBySignal, exitBySignalIfUncaught). */
class MinimalSignals implements SignalDriver {
  readonly listeners = new Map<string, SignalListener>();
  constructor(private readonly _unsupported: readonly string[] = []) {}
  supports(signal: string): boolean {
    return !this._unsupported.includes(signal);
  }
  add(signal: string, listener: SignalListener): void {
    this.listeners.set(signal, listener);
  }
  remove(signal: string, listener: SignalListener): void {
    if (this.listeners.get(signal) === listener) this.listeners.delete(signal);
  }
  raise(signal: string): void {
    this.listeners.get(signal)?.(signal);
  }
}

class PollerWith<S extends SignalDriver> extends VirtualPoller {
  constructor(readonly signals: S) {
    super();
  }
}

/** A FakeSignals whose foreign listeners are counted per signal. */
class PerSignalForeign extends FakeSignals {
  readonly foreignBySignal = new Map<string, number>();
  override foreignListeners(signal?: string): number {
    return this.foreignBySignal.get(signal ?? "") ?? 0;
  }
}

/** An AbortSignal-like object that records its listeners. */
function recordingSignal(): { signal: AbortSignal; listeners: Set<() => void>; fire(): void } {
  const listeners = new Set<() => void>();
  const target = {
    aborted: false,
    reason: undefined as unknown,
    // Like EventTarget, but without `once`: every dispatch reaches every listener.
    addEventListener: (_type: string, listener: () => void) => void listeners.add(listener),
    removeEventListener: (type: string, listener: () => void) => {
      if (type === "abort") listeners.delete(listener);
    },
  };
  return {
    signal: target as unknown as AbortSignal,
    listeners,
    fire() {
      target.aborted = true;
      target.reason = new Error("aborted");
      for (const l of [...listeners]) l();
    },
  };
}

describe("run()'s handleSignals option, checked at the call", () => {
  it("a handleSignals that is neither a boolean nor a list is a TypeError naming the option and the fix", async () => {
    const poller = new SignalPoller();
    await expect(run(function* () {}, { poller, handleSignals: "SIGINT" as unknown as boolean })).rejects.toThrow(
      new TypeError(`${HANDLE}: handleSignals must be true, false or a list of signal names such as ["SIGINT", "SIGTERM"]`),
    );
  });

  it("a list of signals on a poller without the signals capability names every signal in the Error", async () => {
    await expect(run(function* () {}, { poller: new VirtualPoller(), handleSignals: ["SIGINT", "SIGTERM"] })).rejects.toThrow(
      `${HANDLE}: the poller has no signals capability, so run() cannot handle SIGINT, SIGTERM; pass handleSignals: false`,
    );
  });

  it("an empty list handles nothing, even on a poller without the signals capability", async () => {
    await expect(run(function* () { return 1; }, { poller: new VirtualPoller(), handleSignals: [] })).resolves.toBe(1);
    const poller = new SignalPoller();
    await run(
      function* () {
        expect(poller.signals.listeners.size).toBe(0);
      },
      { poller, handleSignals: [] },
    );
  });

  it("handleSignals: false listens to nothing at all", async () => {
    const poller = new SignalPoller();
    await run(
      function* () {
        expect(poller.signals.listeners.size).toBe(0);
      },
      { poller, handleSignals: false },
    );
  });

  it("a signal the driver cannot watch here (a worker thread) is an Error at the call, and main never runs", async () => {
    const poller = new PollerWith(new MinimalSignals(["SIGTERM"]));
    let ran = false;
    await expect(
      run(
        function* () {
          ran = true;
        },
        { poller, handleSignals: ["SIGINT", "SIGTERM"] },
      ),
    ).rejects.toThrow(new Error(`${HANDLE}: SIGTERM cannot be watched here (Node delivers signals to the main thread only)`));
    expect(ran).toBe(false);
    expect(poller.signals.listeners.size).toBe(0);
  });
});

describe("run()'s default SIGINT handling", () => {
  it("is off when the driver cannot watch SIGINT, whatever else it can watch", async () => {
    const poller = new PollerWith(new MinimalSignals(["SIGINT"]));
    await run(
      function* () {
        expect(poller.signals.listeners.size).toBe(0);
      },
      { poller },
    );
  });

  it("is off when another SIGINT listener was installed first, and then listens to nothing at all", async () => {
    const poller = new SignalPoller();
    poller.signals.foreign = 1;
    await run(
      function* () {
        expect(poller.signals.listeners.size).toBe(0);
      },
      { poller },
    );
  });

  it("asks about foreign SIGINT listeners: someone else's SIGTERM listener does not turn it off", async () => {
    const sigterm = new PerSignalForeign();
    sigterm.foreignBySignal.set("SIGTERM", 1);
    await run(
      function* () {
        expect([...sigterm.listeners.keys()]).toEqual(["SIGINT"]);
      },
      { poller: new PollerWith(sigterm) },
    );
    const sigint = new PerSignalForeign();
    sigint.foreignBySignal.set("SIGINT", 1);
    await run(
      function* () {
        expect(sigint.listeners.size).toBe(0);
      },
      { poller: new PollerWith(sigint) },
    );
  });

  it("works with a driver that has none of the optional methods: SIGINT still becomes KeyboardInterrupt, and a second one is ignored", async () => {
    const poller = new PollerWith(new MinimalSignals());
    const log: string[] = [];
    const outcome = await run(
      function* () {
        expect([...poller.signals.listeners.keys()]).toEqual(["SIGINT"]);
        poller.signals.raise("SIGINT");
        try {
          yield* forever();
        } finally {
          poller.signals.raise("SIGINT");
          log.push("cleanup done");
        }
      },
      { poller },
    ).catch((error: unknown) => error);
    expect(outcome).toBeInstanceOf(KeyboardInterrupt);
    expect((outcome as KeyboardInterrupt).signal).toBe("SIGINT");
    expect(log).toEqual(["cleanup done"]);
    expect(poller.signals.listeners.size).toBe(0);
  });
});

describe("run() and a second signal", () => {
  it("a second SIGINT during the cleanup ends the process and does not cancel the task again", async () => {
    const poller = new SignalPoller();
    const log: string[] = [];
    const outcome = await run(
      function* () {
        poller.signals.raise("SIGINT");
        try {
          yield* forever();
        } finally {
          poller.signals.raise("SIGINT");
          log.push(`exits after the second: ${poller.signals.exits.join(",")}`);
          // A second cancel() would interrupt this wait.
          yield* turns(2);
          log.push("cleanup done");
        }
      },
      { poller },
    ).catch((error: unknown) => error);
    expect(log).toEqual(["exits after the second: SIGINT", "cleanup done"]);
    expect(outcome).toBeInstanceOf(KeyboardInterrupt);
  });
});

describe("which cancellations run() turns into KeyboardInterrupt or the abort reason", () => {
  it("a CancelledError main raises itself, with no signal or abort, is what run() rejects with", async () => {
    const own = new CancelledError("main gave up");
    const outcome = await run(
      function* () {
        throw own;
      },
      { poller: new SignalPoller(), signal: new AbortController().signal },
    ).catch((error: unknown) => error);
    expect(outcome).toBe(own);
  });

  it("SIGINT and another task's cancel(): one cancellation is not run()'s, so run() rejects with CancelledError", async () => {
    const poller = new SignalPoller();
    const outcome = await run(
      function* () {
        const main = currentTask()!;
        poller.signals.raise("SIGINT");
        main.cancel();
        yield* forever();
      },
      { poller },
    ).catch((error: unknown) => error);
    expect(outcome).toBeInstanceOf(CancelledError);
    expect(outcome).not.toBeInstanceOf(KeyboardInterrupt);
    expect(poller.signals.armed).toEqual([]);
  });

  it("an abort and another task's cancel(): run() rejects with CancelledError, not the abort's reason", async () => {
    const controller = new AbortController();
    const outcome = await run(
      function* () {
        const main = currentTask()!;
        controller.abort(new Error("user gave up"));
        main.cancel();
        yield* forever();
      },
      { poller: new VirtualPoller(), signal: controller.signal },
    ).catch((error: unknown) => error);
    expect(outcome).toBeInstanceOf(CancelledError);
  });

  it("SIGINT and an abort both: both are run()'s, and SIGINT's KeyboardInterrupt wins", async () => {
    const poller = new SignalPoller();
    const controller = new AbortController();
    const outcome = await run(
      function* () {
        poller.signals.raise("SIGINT");
        controller.abort(new Error("user gave up"));
        yield* forever();
      },
      { poller, signal: controller.signal },
    ).catch((error: unknown) => error);
    expect(outcome).toBeInstanceOf(KeyboardInterrupt);
  });
});

describe("run() after the main task finished, and AbortSignal-likes", () => {
  it("a signal that arrived during the run but is delivered after run() ended does nothing", async () => {
    const poller = new SignalPoller();
    let deliver = (): void => {};
    await run(
      function* () {
        // A driver that queues signals captures its listeners when the signal arrives.
        const captured = [...(poller.signals.listeners.get("SIGINT") ?? [])];
        deliver = () => {
          for (const listener of captured) listener("SIGINT");
        };
      },
      { poller },
    );
    deliver();
    expect(poller.signals.exits).toEqual([]);
  });

  it("an abort after the main task finished, before run() settles, leaves main's own CancelledError alone", async () => {
    const controller = new AbortController();
    const own = new CancelledError("main gave up");
    const outcome = await run(
      function* () {
        // Its first step runs in the next turn, after main has finished.
        getRunningLoop().createTask(
          (function* (): Coroutine<void> {
            controller.abort(new Error("too late"));
          })(),
        );
        throw own;
      },
      { poller: new VirtualPoller(), signal: controller.signal },
    ).catch((error: unknown) => error);
    expect(controller.signal.aborted).toBe(true);
    expect(outcome).toBe(own);
  });

  it("an AbortSignal-like that dispatches abort twice cancels the main task once, so run() still rejects with its reason", async () => {
    const recording = recordingSignal();
    const cancels: number[] = [];
    const outcome = await run(
      function* () {
        const main = currentTask()!;
        recording.fire();
        recording.fire();
        cancels.push(main.cancelling());
        yield* forever();
      },
      { poller: new VirtualPoller(), signal: recording.signal },
    ).catch((error: unknown) => error);
    expect(cancels).toEqual([1]);
    expect(outcome).toBeInstanceOf(Error);
    expect((outcome as Error).message).toBe("aborted");
  });
});

describe("run(main, { signal }), checked at the call", () => {
  const message = "run(main, { signal }): signal must be an AbortSignal (e.g. AbortController's signal)";
  const listen = (): void => {};
  it.each([
    ["null", null],
    ["a string", "abort"],
    ["a function with an AbortSignal's fields", Object.assign(() => {}, { aborted: false, addEventListener: listen, removeEventListener: listen })],
    ["an object whose aborted is not a boolean", { aborted: "no", addEventListener: listen, removeEventListener: listen }],
    ["an object without addEventListener", { aborted: false }],
    ["an object with neither", {}],
  ])("%s is a TypeError, and main never runs", async (_name, signal) => {
    let ran = false;
    await expect(
      run(
        function* () {
          ran = true;
        },
        { poller: new VirtualPoller(), signal: signal as unknown as AbortSignal },
      ),
    ).rejects.toThrow(new TypeError(message));
    expect(ran).toBe(false);
  });

  it("run() removes its abort listener when it ends, so a long-lived signal does not collect them", async () => {
    const recording = recordingSignal();
    await run(
      function* () {
        expect(recording.listeners.size).toBe(1);
      },
      { poller: new VirtualPoller(), signal: recording.signal },
    );
    expect(recording.listeners.size).toBe(0);
  });
});

import { isMainThread } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { ContextVar, DefaultPoller, EventLoop, getRunningLoop, type Coroutine } from "../src/index.js";
import { VirtualPoller, sleep, turn, turns } from "./helpers.js";
import { SignalPoller, type FakeSignals } from "./signal-helpers.js";

function signalLoop(): { loop: EventLoop; signals: FakeSignals } {
  const poller = new SignalPoller();
  return { loop: new EventLoop({ poller }), signals: poller.signals };
}

describe("loop.addSignalHandler", () => {
  it("runs the handler as a loop callback in a later turn, with its arguments, never inside the host's listener", async () => {
    const { loop, signals } = signalLoop();
    const log: string[] = [];
    await loop.runUntilComplete(
      (function* (): Coroutine<void> {
        loop.addSignalHandler("SIGUSR1", (a: string, b: number) => log.push(`handler ${a} ${b} turn ${turn()} loop ${getRunningLoop() === loop}`), "x", 2);
        const raisedAt = turn();
        signals.raise("SIGUSR1");
        log.push(`raised in turn ${raisedAt}`);
        yield* turns(2);
      })(),
    );
    loop.close();
    expect(log).toEqual(["raised in turn 1", "handler x 2 turn 2 loop true"]);
  });

  it("a signal arriving from outside a turn wakes an idle loop", async () => {
    const { loop, signals } = signalLoop();
    const done = loop.createFuture<string>();
    loop.addSignalHandler("SIGTERM", (name: string) => done.setResult(name), "got SIGTERM");
    setImmediate(() => signals.raise("SIGTERM"));
    expect(await loop.runUntilComplete(done)).toBe("got SIGTERM");
    loop.close();
  });

  it("adding again replaces the handler and keeps one host listener", async () => {
    const { loop, signals } = signalLoop();
    const log: string[] = [];
    loop.addSignalHandler("SIGHUP", () => log.push("first"));
    loop.addSignalHandler("SIGHUP", () => log.push("second"));
    expect(signals.count("SIGHUP")).toBe(1);
    await loop.runUntilComplete(
      (function* (): Coroutine<void> {
        signals.raise("SIGHUP");
        yield* turns(2);
      })(),
    );
    loop.close();
    expect(log).toEqual(["second"]);
  });

  it("removeSignalHandler says whether there was one, and a removed handler hears nothing more", async () => {
    const { loop, signals } = signalLoop();
    const log: string[] = [];
    loop.addSignalHandler("SIGUSR1", () => log.push("usr1"));
    loop.addSignalHandler("SIGUSR2", () => log.push("usr2"));
    expect(loop.removeSignalHandler("SIGUSR1")).toBe(true);
    expect(loop.removeSignalHandler("SIGUSR1")).toBe(false);
    expect(loop.removeSignalHandler("SIGINT")).toBe(false);
    expect(signals.count("SIGUSR1")).toBe(0);
    await loop.runUntilComplete(
      (function* (): Coroutine<void> {
        signals.raise("SIGUSR1");
        signals.raise("SIGUSR2");
        yield* turns(2);
      })(),
    );
    loop.close();
    expect(log).toEqual(["usr2"]);
  });

  it("two deliveries before the loop turns run the handler twice (asyncio queues its handle per signal)", async () => {
    const { loop, signals } = signalLoop();
    const log: string[] = [];
    loop.addSignalHandler("SIGUSR1", () => log.push("usr1"));
    await loop.runUntilComplete(
      (function* (): Coroutine<void> {
        signals.raise("SIGUSR1");
        signals.raise("SIGUSR1");
        yield* turns(2);
      })(),
    );
    loop.close();
    expect(log).toEqual(["usr1", "usr1"]);
  });

  it("runs the handler in a copy of the context it was added in", async () => {
    const { loop, signals } = signalLoop();
    const user = new ContextVar<string>("user", { default: "nobody" });
    const seen: string[] = [];
    await loop.runUntilComplete(
      (function* (): Coroutine<void> {
        user.set("alice");
        loop.addSignalHandler("SIGUSR1", () => seen.push(user.get()));
        user.set("bob");
        signals.raise("SIGUSR1");
        yield* turns(2);
      })(),
    );
    loop.close();
    expect(seen).toEqual(["alice"]);
  });

  it("a handler that throws goes to the exception handler; the loop goes on", async () => {
    const { loop, signals } = signalLoop();
    const reports: unknown[] = [];
    loop.setExceptionHandler((_l, context) => reports.push(context.exception));
    const boom = new Error("boom");
    loop.addSignalHandler("SIGUSR1", () => {
      throw boom;
    });
    await loop.runUntilComplete(
      (function* (): Coroutine<void> {
        signals.raise("SIGUSR1");
        yield* turns(2);
      })(),
    );
    loop.close();
    expect(reports).toEqual([boom]);
  });

  it("closing the loop removes its handlers", () => {
    const { loop, signals } = signalLoop();
    loop.addSignalHandler("SIGINT", () => {});
    loop.addSignalHandler("SIGTERM", () => {});
    loop.close();
    expect(signals.listeners.size).toBe(0);
    expect(() => loop.addSignalHandler("SIGINT", () => {})).toThrow(/closed/);
  });

  it("checks its arguments at the call: name type, unknown names, uncatchable signals, the callback", () => {
    const { loop } = signalLoop();
    expect(() => loop.addSignalHandler(2 as unknown as string, () => {})).toThrow(TypeError);
    expect(() => loop.addSignalHandler(2 as unknown as string, () => {})).toThrow(/signal must be a signal name such as "SIGINT"/);
    expect(() => loop.addSignalHandler("SIGFOO", () => {})).toThrow(RangeError);
    expect(() => loop.addSignalHandler("sigint", () => {})).toThrow(/is not a signal name/);
    expect(() => loop.addSignalHandler("SIGKILL", () => {})).toThrow(RangeError);
    expect(() => loop.addSignalHandler("SIGSTOP", () => {})).toThrow(/SIGSTOP cannot be caught/);
    expect(() => loop.addSignalHandler("SIGINT", null as unknown as () => void)).toThrow(TypeError);
    expect(() => loop.addSignalHandler("SIGINT", function* () {})).toThrow(/coroutine function/);
    expect(() => loop.removeSignalHandler("SIGFOO")).toThrow(RangeError);
    expect(() => loop.removeSignalHandler(undefined as unknown as string)).toThrow(TypeError);
    loop.close();
  });

  it("a loop whose poller has no signals capability says so", () => {
    const loop = new EventLoop({ poller: new VirtualPoller() });
    expect(() => loop.addSignalHandler("SIGINT", () => {})).toThrow(/poller \(virtual-test\) has no signals capability/);
    expect(() => loop.addSignalHandler("SIGINT", () => {})).not.toThrow(TypeError);
    loop.close();
  });

  // Node delivers signals to the main thread only; mutation testing (CONTRIBUTING.md) runs
  // the tests on a worker thread, where the same call must be refused instead.
  it.runIf(isMainThread)("the default poller has the capability on Node, and a real signal reaches the handler", async () => {
    const poller = new DefaultPoller();
    expect(poller.signals).toBeDefined();
    const loop = new EventLoop({ poller });
    const got = loop.createFuture<string>();
    const before = process.listenerCount("SIGUSR2");
    loop.addSignalHandler("SIGUSR2", () => got.setResult("SIGUSR2"));
    expect(process.listenerCount("SIGUSR2")).toBe(before + 1);
    poller.signals!.raise("SIGUSR2");
    expect(await loop.runUntilComplete(got)).toBe("SIGUSR2");
    loop.close();
    expect(process.listenerCount("SIGUSR2")).toBe(before);
  });

  it.runIf(!isMainThread)("on a worker thread the default poller refuses a signal handler at the call, installing nothing", () => {
    const loop = new EventLoop({ poller: new DefaultPoller() });
    const before = process.listenerCount("SIGUSR2");
    expect(() => loop.addSignalHandler("SIGUSR2", () => {})).toThrow(RangeError);
    expect(() => loop.addSignalHandler("SIGUSR2", () => {})).toThrow(/SIGUSR2 cannot be watched here .*main thread only/);
    expect(process.listenerCount("SIGUSR2")).toBe(before);
    loop.close();
  });

  it("handlers of a task's loop keep working while the task sleeps", async () => {
    const { loop, signals } = signalLoop();
    const log: string[] = [];
    await loop.runUntilComplete(
      (function* (): Coroutine<void> {
        loop.addSignalHandler("SIGUSR1", () => log.push(`usr1 at ${loop.time()}`));
        loop.callLater(5, () => signals.raise("SIGUSR1"));
        yield* sleep(10);
      })(),
    );
    loop.close();
    expect(log).toEqual(["usr1 at 5"]);
  });
});

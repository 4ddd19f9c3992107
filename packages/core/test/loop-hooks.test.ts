/**
 * EventLoop's instrument list, LOOP_DEBUG, wake-ups sent from outside the loop, and the
 * details of debug mode's pending-task warning.
 */
import { afterEach, describe, expect, it } from "vitest";
import { EventLoop, type Coroutine, type Instrument } from "../src/index.js";
import { RecordingPoller, VirtualPoller } from "./helpers.js";

const env = (globalThis as unknown as { process: { env: Record<string, string | undefined> } }).process.env;
const savedDebug = env.LOOP_DEBUG;
afterEach(() => {
  if (savedDebug === undefined) delete env.LOOP_DEBUG;
  else env.LOOP_DEBUG = savedDebug;
});

describe("removeInstrument", () => {
  it("removing one that was never added leaves the others; removing one of two leaves the other", () => {
    const loop = new EventLoop({ poller: new VirtualPoller() });
    const log: string[] = [];
    const a: Instrument = { callbackStart: () => void log.push("a") };
    const b: Instrument = { callbackStart: () => void log.push("b") };
    loop.addInstrument(a);
    loop.addInstrument(b);
    loop.removeInstrument({ callbackStart: () => void log.push("never added") });
    loop.callSoon(() => {});
    loop.runOnce();
    expect(log).toEqual(["a", "b"]);
    loop.removeInstrument(a);
    loop.callSoon(() => {});
    loop.runOnce();
    expect(log).toEqual(["a", "b", "b"]);
    loop.close();
  });
});

describe("LOOP_DEBUG", () => {
  it.each([
    ["", false],
    ["0", false],
    ["false", false],
    ["FALSE", false],
    ["1", true],
    ["yes", true],
  ])("LOOP_DEBUG=%j turns debug mode %s", (value, debug) => {
    env.LOOP_DEBUG = value;
    const loop = new EventLoop({ poller: new VirtualPoller() });
    expect(loop.getDebug()).toBe(debug);
    loop.close();
  });
});

describe("wake-ups from outside the loop", () => {
  it("callSoonThreadsafe and callLater from outside wake an idle loop's poller once each wait", async () => {
    const poller = new RecordingPoller(new VirtualPoller());
    const loop = new EventLoop({ poller });
    const stopped = loop.runForever();
    expect(poller.wakeups).toBe(0);
    loop.callSoonThreadsafe(() => {});
    expect(poller.wakeups).toBe(1);
    loop.stop();
    await stopped;
    const again = loop.runForever();
    const before = poller.wakeups;
    loop.callLater(5, () => {});
    expect(poller.wakeups).toBe(before + 1);
    loop.stop();
    await again;
    loop.close();
  });
});

describe("a poller whose first wait(0) is over at once", () => {
  it("runForever asks it to resume with one wakeup(), right away", async () => {
    class WaitedAlready extends VirtualPoller {
      override wait(timeoutMs: number | null): void {
        super.wait(timeoutMs);
        return (timeoutMs === 0 ? true : undefined) as unknown as void;
      }
    }
    const poller = new RecordingPoller(new WaitedAlready());
    const loop = new EventLoop({ poller });
    const stopped = loop.runForever();
    expect(poller.requests).toEqual([0]);
    expect(poller.wakeups).toBe(1);
    loop.stop();
    await stopped;
    loop.close();
  });
});

describe("a batch out of its 256-turn budget", () => {
  class WaitedAlready extends VirtualPoller {
    override wait(timeoutMs: number | null): void {
      super.wait(timeoutMs);
      return (timeoutMs === 0 ? true : undefined) as unknown as void;
    }
  }

  async function chain(poller: RecordingPoller, steps: number): Promise<void> {
    const loop = new EventLoop({ poller });
    let n = 0;
    const step = (): void => {
      if (++n < steps) loop.callSoon(step);
      else loop.stop();
    };
    loop.callSoon(step);
    await loop.runForever();
    loop.close();
  }

  it("goes through the host with wait(0), and sends no wakeup() of its own", async () => {
    const poller = new RecordingPoller(new VirtualPoller());
    await chain(poller, 300);
    expect(poller.requests.filter((r) => r === 0).length).toBeGreaterThanOrEqual(2);
    expect(poller.wakeups).toBe(0);
  });

  it("asks a poller that waited already (wait(0) returned true) to resume with one wakeup()", async () => {
    const poller = new RecordingPoller(new WaitedAlready());
    await chain(poller, 300);
    // One per wait(0) that returned true: as runForever starts, and each time the budget ran
    // out (at 256 turns, or earlier on a loaded machine when its time was spent first).
    const waits = poller.requests.filter((r) => r === 0).length;
    expect(waits).toBeGreaterThanOrEqual(2);
    expect(poller.wakeups).toBe(waits);
  });
});

describe("debug mode's pending-task warning", () => {
  it("names the task and carries where it was created and where it waits", () => {
    const loop = new EventLoop({ poller: new VirtualPoller(), debug: true });
    const warnings: [string, Record<string, unknown>][] = [];
    loop.debugLogger = { warn: (message, details) => void warnings.push([message, details ?? {}]) };
    const task = loop.createTask((function* (): Coroutine<void> {})());
    loop.close();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]![0]).toMatch(/^Task was destroyed but it is pending! \(its coroutine never ran\)/);
    expect(warnings[0]![1].task).toBe(task);
    expect(warnings[0]![1].creationStack).toMatch(/loop-hooks\.test/);
    expect(Object.keys(warnings[0]![1]).sort()).toEqual(["creationStack", "suspensionStack", "task"]);
  });
});

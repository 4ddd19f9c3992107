import { describe, expect, it, test } from "vitest";
import { DefaultPoller, getRunningLoop, run, type Coroutine } from "@loop/core";
import { CountingPoller } from "../examples/counting-poller.js";
import { VirtualPoller, pollerConformance } from "../src/index.js";

// The CONTRIBUTING.md example passes the kit, wrapped around both built-in pollers.
pollerConformance(() => new CountingPoller(new DefaultPoller()), { describe, it });
pollerConformance(() => new CountingPoller(new VirtualPoller()), { describe, it });

test("the counting poller counts the loop's waits by kind, its wake-ups and its resumptions", async () => {
  const poller = new CountingPoller(new VirtualPoller());
  await run(function* (): Coroutine<void> {
    const loop = getRunningLoop();
    const timer = loop.createFuture<void>();
    loop.callLater(1_000, () => timer.setResult(undefined));
    yield* timer; // the loop waits for the timer: one timed wait (the virtual clock jumps)
    const outside = loop.createFuture<string>();
    loop.refExternal();
    setTimeout(() => {
      loop.unrefExternal();
      loop.callSoonThreadsafe(() => outside.setResult("woken"));
    }, 1);
    yield* outside; // the loop waits for outside work, which wakes it
  }, { poller });
  expect(poller.name).toBe("counting(virtual)");
  // runForever's first wait(0); the timer's wait; the wait for outside work; the wait(null) at stop.
  expect(poller.counts).toEqual({ busy: 1, timed: 1, idle: 2, wakeups: 1, resumes: 2 });
});

import { describe, expect, it, test } from "vitest";
import { DefaultPoller, getRunningLoop, run, type Coroutine } from "@loop/core";
import { CountingPoller } from "../examples/counting-poller.js";
import { VirtualPoller, pollerConformance } from "../src/index.js";

// The CONTRIBUTING.md example passes the kit, wrapped around both built-in pollers.
pollerConformance(() => new CountingPoller(new DefaultPoller()), { describe, it });
pollerConformance(() => new CountingPoller(new VirtualPoller()), { describe, it });

test("the counting poller counts the loop's turns, timed waits and wake-ups", async () => {
  const poller = new CountingPoller(new VirtualPoller());
  await run(function* (): Coroutine<void> {
    const loop = getRunningLoop();
    const timer = loop.createFuture<void>();
    loop.callLater(1_000, () => timer.setResult(undefined));
    yield* timer; // the loop waits for the timer: one timed wait
    const outside = loop.createFuture<string>();
    loop.refExternal();
    setTimeout(() => {
      loop.unrefExternal();
      loop.callSoonThreadsafe(() => outside.setResult("woken"));
    }, 1);
    yield* outside; // the loop waits for outside work, which wakes it
  }, { poller });
  expect(poller.name).toBe("counting(virtual)");
  expect(poller.counts.timed).toBe(1);
  expect(poller.counts.idle).toBeGreaterThanOrEqual(1);
  expect(poller.counts.wakeups).toBeGreaterThanOrEqual(1);
  expect(poller.counts.turns).toBe(poller.counts.busy + poller.counts.timed + poller.counts.idle - countStops(poller));
});

/** The loop's last schedule(null), after it stopped, asks for no turn. */
function countStops(poller: CountingPoller): number {
  void poller;
  return 1;
}

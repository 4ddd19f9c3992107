import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { EventLoop, type Coroutine } from "@loop/core";
import { describe, expect, test } from "vitest";
import { LoopMonitor, PROMETHEUS_CONTENT_TYPE, formatPrometheus, prometheusHandler } from "../src/index.js";
import { runTurns } from "./helpers.js";

/** A clock the test moves by hand: callbacks "take" exactly as long as they say. */
function fakeClock(): { now: number; read: () => number } {
  const clock = { now: 1000, read: () => clock.now };
  return clock;
}

describe("LoopMonitor", () => {
  test("counts every callback and task step, and reads live tasks and pending timers", async () => {
    const loop = new EventLoop();
    const monitor = new LoopMonitor(loop).start();
    for (let i = 0; i < 5; i++) loop.callSoon(() => {});
    const timer = loop.callLater(60_000, () => {});
    loop.createTask(
      (function* (): Coroutine<void> {
        yield;
        yield;
        yield* loop.createFuture<void>(); // parks forever
      })(),
    );
    await runTurns(loop, 4);
    const s = monitor.snapshot();
    // 5 callbacks + 3 steps of the task + 4 ticks of runTurns.
    expect(s.callbacksTotal).toBe(12);
    expect(s.liveTasks).toBe(1);
    expect(s.pendingTimers).toBe(1);
    expect(s.iterations).toBeGreaterThanOrEqual(4);
    timer.cancel();
    expect(monitor.snapshot().pendingTimers).toBe(0);
    monitor.stop();
    loop.callSoon(() => {});
    await runTurns(loop, 1);
    expect(monitor.snapshot().callbacksTotal).toBe(12);
    loop.close();
  });

  test("iteration lag is the time an iteration ran past its requested wait", async () => {
    const clock = fakeClock();
    const loop = new EventLoop();
    const monitor = new LoopMonitor(loop, { clock: clock.read }).start();
    const durations = [1, 1, 1, 200, 1, 1, 1, 1, 1, 50];
    let i = 0;
    const step = (): void => {
      clock.now += durations[i] as number;
      if (++i < durations.length) loop.callSoon(step);
      else loop.stop();
    };
    loop.callSoon(step);
    await loop.runForever();
    const s = monitor.snapshot();
    // Each iteration asked for a 0 ms wait (a callback was ready) and took its callback's time.
    expect(s.lagMs.max).toBe(200);
    expect(s.lagMaxEverMs).toBe(200);
    expect(s.lagMs.p50).toBe(1);
    expect(s.lagMs.p99).toBe(200);
    loop.close();
  });

  test("the ready queue's depth counts from the first iteration it sees, which has no lag yet (a monitor started mid-turn)", async () => {
    const loop = new EventLoop();
    const monitor = new LoopMonitor(loop, { slowest: 0 });
    // Started inside turn 1, which leaves seven callbacks queued: the monitor's first hook
    // is that turn's beforePoll. Turn 2 runs one callback per turn from there on.
    loop.callSoon(() => {
      monitor.start();
      for (let i = 0; i < 6; i++) loop.callSoon(() => {});
      loop.callSoon(() => loop.callSoon(() => loop.stop()));
    });
    await loop.runForever();
    expect(monitor.snapshot().readyQueue.max).toBe(7);
    loop.close();
  });

  test("callbacks per second counts the last second only, in 100 ms buckets, and the deepest ready queue is kept", async () => {
    const clock = fakeClock(); // starts at 1000 ms
    const loop = new EventLoop();
    const monitor = new LoopMonitor(loop, { clock: clock.read, slowest: 0 }).start();
    // 20 callbacks, each 10 ms: they end at 1010, 1020, … 1200 (9 in the 1000–1099 bucket,
    // 10 in 1100–1199, 1 at 1200). The first queues five at once: a ready queue 5 deep.
    let left = 19;
    const step = (): void => {
      clock.now += 10;
      left--;
      if (left === 0) loop.stop();
      else if (left < 15) loop.callSoon(step);
    };
    loop.callSoon(() => {
      clock.now += 10;
      for (let i = 0; i < 5; i++) loop.callSoon(step);
    });
    await loop.runForever();
    const busy = monitor.snapshot();
    expect([busy.callbacksTotal, busy.callbacksPerSecond, busy.readyQueue.max]).toEqual([20, 20, 5]);
    expect(busy.slowest).toEqual([]); // slowest: 0 keeps none
    clock.now = 1700; // still within a second of every callback
    expect(monitor.snapshot().callbacksPerSecond).toBe(20);
    clock.now = 2150; // the 1000–1199 buckets have left the window; 1200's has not
    expect(monitor.snapshot().callbacksPerSecond).toBe(1);
    clock.now = 9000;
    expect(monitor.snapshot().callbacksPerSecond).toBe(0);
    expect(monitor.snapshot().callbacksTotal).toBe(20);
    loop.close();
  });

  test("keeps the slowest callbacks and task steps, slowest first", async () => {
    const clock = fakeClock();
    const loop = new EventLoop();
    const monitor = new LoopMonitor(loop, { clock: clock.read, slowest: 2 }).start();
    loop.callSoon(function parse() {
      clock.now += 5;
    });
    loop.callSoon(function render() {
      clock.now += 50;
    });
    loop.createTask(
      (function* () {
        clock.now += 20;
      })(),
      { name: "crunch" },
    );
    await runTurns(loop, 2);
    expect(monitor.snapshot().slowest.map((s) => [s.kind, s.name, s.durationMs])).toEqual([
      ["callback", "render()", 50],
      ["task step", "crunch", 20],
    ]);
    loop.close();
  });

  test("adds up the time executors report for jobs run off the loop", () => {
    const loop = new EventLoop();
    const monitor = new LoopMonitor(loop).start();
    loop.reportExecutorJob({ name: "hash", durationMs: 12, outcome: "ok" });
    loop.reportExecutorJob({ name: "hash", durationMs: 8, outcome: "error" });
    loop.reportExecutorJob({ name: "resize", durationMs: 5, outcome: "cancelled" });
    expect(monitor.snapshot().workers).toEqual({ jobs: 3, busyMs: 25, errors: 1, cancelled: 1 });
    loop.close();
  });

  test("rejects bad options at the call", () => {
    const loop = new EventLoop();
    expect(() => new LoopMonitor(loop, { window: 0 })).toThrow(RangeError);
    expect(() => new LoopMonitor(loop, { slowest: -1 })).toThrow(RangeError);
    expect(() => new LoopMonitor(loop, { clock: 5 as unknown as () => number })).toThrow(TypeError);
    loop.close();
  });
});

describe("LoopMonitor's options", () => {
  test("the smallest window and slowest are accepted; a fraction or one below is refused with the option, the rule and the value", () => {
    const loop = new EventLoop();
    expect(() => new LoopMonitor(loop, { window: 1, slowest: 0 })).not.toThrow();
    expect(() => new LoopMonitor(loop, { window: 0 })).toThrow(new RangeError("LoopMonitor(loop, { window }): window must be an integer ≥ 1, got 0"));
    expect(() => new LoopMonitor(loop, { window: 1.5 })).toThrow(new RangeError("LoopMonitor(loop, { window }): window must be an integer ≥ 1, got 1.5"));
    expect(() => new LoopMonitor(loop, { slowest: -1 })).toThrow(new RangeError("LoopMonitor(loop, { slowest }): slowest must be an integer ≥ 0, got -1"));
    expect(() => new LoopMonitor(loop, { slowest: 0.5 })).toThrow(new RangeError("LoopMonitor(loop, { slowest }): slowest must be an integer ≥ 0, got 0.5"));
    expect(() => new LoopMonitor(loop, { clock: 5 as unknown as () => number })).toThrow(
      new TypeError("LoopMonitor(loop, { clock }): clock must be a function returning milliseconds"),
    );
    loop.close();
  });
});

describe("Prometheus", () => {
  const sample = {
    iterations: 42,
    lagMs: { p50: 1, p99: 20, max: 250 },
    lagMaxEverMs: 250,
    readyQueue: { depth: 3, max: 9 },
    callbacksPerSecond: 1500,
    callbacksTotal: 9000,
    liveTasks: 7,
    pendingTimers: 2,
    workers: { jobs: 4, busyMs: 1500, errors: 0, cancelled: 0 },
    slowest: [],
  };

  test("the text follows the exposition format: HELP and TYPE before each family, then samples", () => {
    const text = formatPrometheus(sample);
    expect(text.endsWith("\n")).toBe(true);
    const lines = text.trimEnd().split("\n");
    let family = "";
    for (const line of lines) {
      const help = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+$/.exec(line);
      const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|summary|histogram|untyped)$/.exec(line);
      if (help !== null) {
        family = help[1] as string;
        continue;
      }
      if (type !== null) {
        expect(type[1]).toBe(family);
        continue;
      }
      const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*\})? (-?[0-9.e+-]+|NaN|[+-]Inf)$/.exec(line);
      expect(sampleLine, line).not.toBeNull();
      expect(sampleLine?.[1]).toBe(family);
    }
    expect(lines).toContain("loop_live_tasks 7");
    expect(lines).toContain('loop_iteration_lag_seconds{quantile="0.99"} 0.02');
    expect(lines).toContain("loop_worker_busy_seconds_total 1.5");
  });

  test("every family, its help, type, labels and value in seconds, exactly as scrapers read them", () => {
    // The names, types and units are what dashboards and alerts are written against.
    const text = formatPrometheus({ ...sample, lagMaxEverMs: 300 });
    expect(text.split("\n")).toEqual([
      "# HELP loop_iteration_lag_seconds How much longer than its requested wait a loop iteration took.",
      "# TYPE loop_iteration_lag_seconds summary",
      'loop_iteration_lag_seconds{quantile="0.5"} 0.001',
      'loop_iteration_lag_seconds{quantile="0.99"} 0.02',
      'loop_iteration_lag_seconds{quantile="1"} 0.25',
      "# HELP loop_iteration_lag_max_seconds The largest iteration lag since monitoring started.",
      "# TYPE loop_iteration_lag_max_seconds gauge",
      "loop_iteration_lag_max_seconds 0.3",
      "# HELP loop_iterations_total Loop iterations since monitoring started.",
      "# TYPE loop_iterations_total counter",
      "loop_iterations_total 42",
      "# HELP loop_ready_queue_depth Callbacks and task steps queued for the next iteration.",
      "# TYPE loop_ready_queue_depth gauge",
      "loop_ready_queue_depth 3",
      "# HELP loop_callbacks_total Callbacks and task steps run since monitoring started.",
      "# TYPE loop_callbacks_total counter",
      "loop_callbacks_total 9000",
      "# HELP loop_callbacks_per_second Callbacks and task steps run per second, over the last second.",
      "# TYPE loop_callbacks_per_second gauge",
      "loop_callbacks_per_second 1500",
      "# HELP loop_live_tasks Tasks not yet done.",
      "# TYPE loop_live_tasks gauge",
      "loop_live_tasks 7",
      "# HELP loop_pending_timers Timers scheduled and not cancelled.",
      "# TYPE loop_pending_timers gauge",
      "loop_pending_timers 2",
      "# HELP loop_worker_jobs_total Jobs executors ran off the loop.",
      "# TYPE loop_worker_jobs_total counter",
      "loop_worker_jobs_total 4",
      "# HELP loop_worker_busy_seconds_total Time executor jobs spent running off the loop.",
      "# TYPE loop_worker_busy_seconds_total counter",
      "loop_worker_busy_seconds_total 1.5",
      "",
    ]);
  });

  test("NaN and infinite values are written as the exposition format spells them", () => {
    const text = formatPrometheus({ ...sample, lagMs: { p50: Number.NaN, p99: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY } });
    expect(text).toContain('loop_iteration_lag_seconds{quantile="0.5"} NaN\n');
    expect(text).toContain('loop_iteration_lag_seconds{quantile="0.99"} +Inf\n');
    expect(text).toContain('loop_iteration_lag_seconds{quantile="1"} -Inf\n');
  });

  test("the node:http handler serves the monitor's metrics", async () => {
    const loop = new EventLoop();
    const monitor = new LoopMonitor(loop).start();
    loop.createTask(
      (function* () {
        yield* loop.createFuture<void>();
      })(),
    );
    const server = createServer(prometheusHandler(monitor)).listen(0, "127.0.0.1");
    await once(server, "listening");
    try {
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`);
      expect(response.headers.get("content-type")).toBe(PROMETHEUS_CONTENT_TYPE);
      expect(await response.text()).toContain("loop_live_tasks 1\n");
    } finally {
      server.close();
      loop.close();
    }
  });
});

import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { EventLoop, gather, type Coroutine } from "@loop/core";
import { expect, test } from "vitest";
import { TraceRecorder, type TraceEvent, type TraceFile } from "../src/index.js";

const artifacts = join(dirname(fileURLToPath(import.meta.url)), "..", "test-artifacts");

/**
 * The rules of the Trace Event Format (the JSON object form) that Perfetto and
 * chrome://tracing rely on, checked event by event. Returns the problems found.
 */
function validateTrace(file: unknown): string[] {
  const problems: string[] = [];
  if (typeof file !== "object" || file === null || !Array.isArray((file as TraceFile).traceEvents)) return ["no traceEvents array"];
  const events = (file as TraceFile).traceEvents as unknown[];
  const open = new Map<string, number>();
  const slicesByTrack = new Map<string, { ts: number; end: number; name: string }[]>();
  events.forEach((raw, i) => {
    const e = raw as Partial<TraceEvent> & Record<string, unknown>;
    const where = `event ${i} (${String(e.ph)} ${String(e.name)})`;
    if (typeof e.name !== "string" || e.name === "") problems.push(`${where}: name must be a non-empty string`);
    if (!["X", "b", "e", "M"].includes(e.ph as string)) problems.push(`${where}: unexpected ph`);
    if (typeof e.ts !== "number" || !Number.isFinite(e.ts) || e.ts < 0) problems.push(`${where}: ts must be a finite number of µs ≥ 0`);
    if (!Number.isInteger(e.pid)) problems.push(`${where}: pid must be an integer`);
    if (!Number.isInteger(e.tid)) problems.push(`${where}: tid must be an integer`);
    if (e.args !== undefined && (typeof e.args !== "object" || e.args === null)) problems.push(`${where}: args must be an object`);
    switch (e.ph) {
      case "X": {
        if (typeof e.dur !== "number" || !Number.isFinite(e.dur) || e.dur < 0) problems.push(`${where}: X needs dur ≥ 0`);
        const track = `${e.pid}/${e.tid}`;
        const list = slicesByTrack.get(track) ?? [];
        list.push({ ts: e.ts as number, end: (e.ts as number) + (e.dur as number), name: e.name as string });
        slicesByTrack.set(track, list);
        break;
      }
      case "b":
      case "e": {
        if (typeof e.id !== "string" && typeof e.id !== "number") problems.push(`${where}: async events need an id`);
        if (typeof e.cat !== "string" || e.cat === "") problems.push(`${where}: async events need a cat`);
        const key = `${e.cat}/${String(e.id)}`;
        if (e.ph === "b") {
          if (open.has(key)) problems.push(`${where}: begins ${key} twice`);
          open.set(key, e.ts as number);
        } else {
          const began = open.get(key);
          if (began === undefined) problems.push(`${where}: ends ${key}, which never began`);
          else if ((e.ts as number) < began) problems.push(`${where}: ends before it began`);
          open.delete(key);
        }
        break;
      }
      case "M":
        if (!["process_name", "thread_name", "process_sort_index", "thread_sort_index"].includes(e.name as string)) problems.push(`${where}: unknown metadata`);
        if (typeof (e.args as { name?: unknown } | undefined)?.name !== "string" && (e.name as string).endsWith("_name")) problems.push(`${where}: needs args.name`);
        break;
    }
  });
  for (const key of open.keys()) problems.push(`async slice ${key} never ends`);
  // Complete events on one track must nest or follow each other, never overlap partly.
  for (const [track, slices] of slicesByTrack) {
    const sorted = [...slices].sort((a, b) => a.ts - b.ts || b.end - a.end);
    const stack: { end: number; name: string }[] = [];
    for (const s of sorted) {
      while (stack.length > 0 && (stack[stack.length - 1] as { end: number }).end <= s.ts) stack.pop();
      const parent = stack[stack.length - 1];
      if (parent !== undefined && s.end > parent.end + 1e-6) problems.push(`track ${track}: ${s.name} overlaps ${parent.name} partly`);
      stack.push(s);
    }
  }
  return problems;
}

test("a recorded trace follows the Trace Event Format and shows every task and callback", async () => {
  const loop = new EventLoop();
  const trace = new TraceRecorder(loop, { processName: "trace test" }).start();
  function* worker(n: number): Coroutine<number> {
    yield;
    const f = loop.createFuture<number>();
    loop.callLater(1, function resolveWorker() {
      f.setResult(n);
    });
    return yield* f;
  }
  const result = await loop.runUntilComplete(
    (function* () {
      loop.callSoon(function plainCallback() {});
      return yield* gather([loop.createTask(worker(1), { name: "worker-1" }), loop.createTask(worker(2), { name: "worker-2" })]);
    })(),
  );
  expect(result).toEqual([1, 2]);
  trace.stop();
  loop.close();

  mkdirSync(artifacts, { recursive: true });
  const path = join(artifacts, "trace.json");
  trace.write(path);
  const file = JSON.parse(readFileSync(path, "utf8")) as TraceFile;
  expect(validateTrace(file)).toEqual([]);

  const events = file.traceEvents;
  const names = (ph: string, cat?: string): string[] => events.filter((e) => e.ph === ph && (cat === undefined || e.cat === cat)).map((e) => e.name);
  expect(names("b", "task")).toEqual(expect.arrayContaining(["worker-1", "worker-2"]));
  expect(names("e", "task")).toEqual(expect.arrayContaining(["worker-1", "worker-2"]));
  // worker-N ran three steps: to the bare yield, to the future, and to its end.
  expect(names("X", "task.step").filter((n) => n === "worker-1")).toHaveLength(3);
  expect(names("X", "callback")).toEqual(expect.arrayContaining(["plainCallback()", "resolveWorker()"]));
  expect(names("M")).toEqual(["process_name", "thread_name"]);
  expect(events.find((e) => e.name === "process_name")?.args).toEqual({ name: "trace test" });
});

test("the validator rejects what the format forbids", () => {
  expect(validateTrace({})).toEqual(["no traceEvents array"]);
  expect(
    validateTrace({
      traceEvents: [
        { name: "a", ph: "X", ts: 0, dur: 10, pid: 1, tid: 1 },
        { name: "b", ph: "X", ts: 5, dur: 10, pid: 1, tid: 1 },
        { name: "t", ph: "b", ts: 0, pid: 1, tid: 1, cat: "task", id: "0x1" },
        { name: "", ph: "X", ts: -1, pid: 1.5, tid: 1 },
      ],
    }),
  ).toEqual([
    "event 3 (X ): name must be a non-empty string",
    "event 3 (X ): ts must be a finite number of µs ≥ 0",
    "event 3 (X ): pid must be an integer",
    "event 3 (X ): X needs dur ≥ 0",
    "async slice task/0x1 never ends",
    "track 1/1: b overlaps a partly",
  ]);
});

test("tasks alive when recording starts or stops get their lifetime slice closed", async () => {
  const loop = new EventLoop();
  const gate = loop.createFuture<void>();
  loop.createTask(
    (function* () {
      yield* gate;
    })(),
    { name: "long-lived" },
  );
  const trace = new TraceRecorder(loop).start();
  loop.callSoon(() => loop.stop());
  await loop.runForever();
  trace.stop();
  const file = trace.toJSON();
  expect(validateTrace(file)).toEqual([]);
  expect(file.traceEvents.filter((e) => e.name === "long-lived" && (e.ph === "b" || e.ph === "e")).map((e) => e.ph)).toEqual(["b", "e"]);
  loop.close();
});

test("the defaults, the idle slices, each step's task id, a copy from toJSON, and start/stop that can be repeated", async () => {
  const loop = new EventLoop();
  const before = performance.now() * 1000;
  const trace = new TraceRecorder(loop);
  trace.start();
  trace.start(); // a second start neither re-adds the hooks nor re-opens the tasks
  const task = loop.createTask(
    (function* (): Coroutine<void> {
      const f = loop.createFuture<void>();
      loop.callLater(1, () => f.setResult()); // the loop polls (waits) for this timer
      yield* f;
    })(),
    { name: "sleeper" },
  );
  await loop.runUntilComplete(task);
  trace.stop();
  trace.stop();
  loop.callSoon(() => {});
  await loop.runUntilComplete(loop.createTask((function* (): Coroutine<void> {})(), { name: "after-stop" }));
  const after = performance.now() * 1000;
  loop.close();

  const file = trace.toJSON();
  expect(file.displayTimeUnit).toBe("ms");
  expect(validateTrace(file)).toEqual([]);
  const events = file.traceEvents;
  expect(events.slice(0, 2)).toEqual([
    { name: "process_name", ph: "M", ts: 0, pid: process.pid, tid: 1, args: { name: "@loop" } },
    { name: "thread_name", ph: "M", ts: 0, pid: process.pid, tid: 1, args: { name: "event loop" } },
  ]);
  expect(events.some((e) => e.name === "after-stop")).toBe(false);
  const begins = events.filter((e) => e.ph === "b" && e.name === "sleeper");
  expect(begins).toHaveLength(1);
  const id = begins[0]?.id as string;
  const steps = events.filter((e) => e.cat === "task.step" && e.name === "sleeper");
  expect(steps.length).toBeGreaterThan(0);
  for (const step of steps) expect(`0x${(step.args?.["task"] as number).toString(16)}`).toBe(id);
  for (const callback of events.filter((e) => e.cat === "callback")) expect(callback.args).toBeUndefined();
  const idle = events.filter((e) => e.cat === "loop");
  expect(idle.length).toBeGreaterThan(0);
  for (const slice of idle) {
    expect(slice.name).toBe("idle (poll)");
    expect(slice.dur).toBeGreaterThanOrEqual(0);
  }
  // Timestamps are microseconds of the same clock as performance.now().
  for (const e of events.filter((x) => x.ph !== "M")) {
    expect(e.ts).toBeGreaterThanOrEqual(Math.floor(before));
    expect(e.ts).toBeLessThanOrEqual(Math.ceil(after));
  }
  // toJSON hands out a copy.
  const count = events.length;
  file.traceEvents.length = 0;
  expect(trace.toJSON().traceEvents).toHaveLength(count);
});

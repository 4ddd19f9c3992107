import { writeFileSync } from "node:fs";
import { getRunningLoop, type AbstractHandle, type AbstractTask, type EventLoop, type Instrument } from "@loop/core";
import { handleName } from "./monitor.js";
import { taskId } from "./task-tree.js";

/**
 * One event of the Chrome Trace Event format: "X" complete events (a slice with `dur`),
 * "b"/"e" async events (matched by `cat` and `id`), "M" metadata. Times are in µs.
 */
export interface TraceEvent {
  /** The slice's name: the task or the callback. */
  name: string;
  /** The phase: a complete slice, an async begin or end, metadata. */
  ph: "X" | "b" | "e" | "M";
  /** When it began, in µs. */
  ts: number;
  /** The process track. */
  pid: number;
  /** The thread track (the loop has one). */
  tid: number;
  /** The category; async begin and end events match on it. */
  cat?: string;
  /** How long a complete slice lasted, in µs. */
  dur?: number;
  /** The async slice an event belongs to. */
  id?: string;
  /** Details shown when the slice is selected. */
  args?: Record<string, unknown>;
}

/** The JSON object format of a trace file, which Perfetto and chrome://tracing open. */
export interface TraceFile {
  /** The events, in the order they were recorded. */
  traceEvents: TraceEvent[];
  /** How viewers show times. */
  displayTimeUnit: "ms";
}

const LOOP_TID = 1;

/**
 * Records what a loop does as a Chrome trace: every callback and task step as a slice on
 * the loop's track, each wait for I/O or timers as an "idle" slice, and every task's
 * lifetime as an async slice named after the task. Open the file in https://ui.perfetto.dev.
 * @example
 * const trace = new TraceRecorder(loop).start();
 * await loop.runUntilComplete(main());
 * trace.stop();
 * trace.write("loop-trace.json");
 */
export class TraceRecorder {
  /** The loop it records. */
  readonly loop: EventLoop;
  private readonly _events: TraceEvent[] = [];
  private readonly _open = new Map<AbstractTask<unknown>, number>();
  private readonly _pid: number;
  private _started = false;
  private _sliceStart = 0;
  private _pollStart = -1;
  private readonly _instrument: Instrument;

  constructor(loop?: EventLoop, opts?: { processName?: string }) {
    this.loop = loop ?? getRunningLoop();
    this._pid = typeof process === "object" ? process.pid : 1;
    const processName = opts?.processName ?? "@loop";
    this._events.push(
      { name: "process_name", ph: "M", ts: 0, pid: this._pid, tid: LOOP_TID, args: { name: processName } },
      { name: "thread_name", ph: "M", ts: 0, pid: this._pid, tid: LOOP_TID, args: { name: "event loop" } },
    );
    this._instrument = {
      callbackStart: () => {
        this._sliceStart = micros();
      },
      callbackEnd: (handle) => this._slice(handleName(handle), "callback", undefined, handle),
      taskStepStart: () => {
        this._sliceStart = micros();
      },
      taskStepEnd: (task) => this._slice(task.name, "task.step", task, undefined),
      taskCreated: (task) => this._begin(task, micros()),
      taskDone: (task) => this._end(task, micros()),
      beforePoll: () => {
        this._pollStart = micros();
      },
      afterPoll: () => {
        if (this._pollStart < 0) return;
        const t = micros();
        this._events.push({ name: "idle (poll)", cat: "loop", ph: "X", ts: this._pollStart, dur: t - this._pollStart, pid: this._pid, tid: LOOP_TID });
        this._pollStart = -1;
      },
    };
  }

  /** Starts recording; tasks already alive get their async slice from now. */
  start(): this {
    if (this._started) return this;
    this._started = true;
    const t = micros();
    for (const task of this.loop.allTasks()) this._begin(task, t);
    this.loop.addInstrument(this._instrument);
    return this;
  }

  /** Stops recording; tasks still alive get their async slice closed now. */
  stop(): this {
    if (!this._started) return this;
    this._started = false;
    this.loop.removeInstrument(this._instrument);
    const t = micros();
    for (const task of [...this._open.keys()]) this._end(task, t);
    this._pollStart = -1;
    return this;
  }

  /** The trace so far, in the JSON object format. */
  toJSON(): TraceFile {
    return { traceEvents: this._events.slice(), displayTimeUnit: "ms" };
  }

  /** Writes the trace as JSON to `path`. */
  write(path: string): void {
    writeFileSync(path, JSON.stringify(this.toJSON()));
  }

  private _slice(name: string, cat: string, task: AbstractTask<unknown> | undefined, _handle: AbstractHandle | undefined): void {
    const t = micros();
    const event: TraceEvent = { name, cat, ph: "X", ts: this._sliceStart, dur: t - this._sliceStart, pid: this._pid, tid: LOOP_TID };
    if (task !== undefined) event.args = { task: taskId(task) };
    this._events.push(event);
  }

  private _begin(task: AbstractTask<unknown>, t: number): void {
    if (this._open.has(task)) return;
    this._open.set(task, t);
    this._events.push({ name: task.name, cat: "task", ph: "b", ts: t, id: `0x${taskId(task).toString(16)}`, pid: this._pid, tid: LOOP_TID });
  }

  private _end(task: AbstractTask<unknown>, t: number): void {
    if (!this._open.delete(task)) return;
    this._events.push({ name: task.name, cat: "task", ph: "e", ts: t, id: `0x${taskId(task).toString(16)}`, pid: this._pid, tid: LOOP_TID });
  }
}

/** Microseconds on the high-resolution clock, rounded to 0.001 µs. */
function micros(): number {
  return Math.round(performance.now() * 1_000_000) / 1000;
}

import type { Handle } from "./handle.js";
import type { Task } from "./task.js";
import type { ExecutorJobInfo, Instrument } from "./types.js";

type HookName = keyof Instrument;
const HOOKS: readonly HookName[] = [
  "taskCreated",
  "taskStepStart",
  "taskStepEnd",
  "taskDone",
  "callbackStart",
  "callbackEnd",
  "beforePoll",
  "afterPoll",
  "executorJob",
];

/**
 * The instruments of one loop behind one object with every method present, so that
 * each hook site is one monomorphic call.
 * @internal
 */
export class InstrumentSet {
  readonly list: Instrument[] = [];
  private _onError: (error: unknown, hook: string) => void;

  constructor(onError: (error: unknown, hook: string) => void) {
    this._onError = onError;
  }

  taskCreated(task: Task<unknown>): void {
    this._fire("taskCreated", task);
  }
  taskStepStart(task: Task<unknown>): void {
    this._fire("taskStepStart", task);
  }
  taskStepEnd(task: Task<unknown>): void {
    this._fire("taskStepEnd", task);
  }
  taskDone(task: Task<unknown>): void {
    this._fire("taskDone", task);
  }
  callbackStart(handle: Handle): void {
    this._fire("callbackStart", handle);
  }
  callbackEnd(handle: Handle): void {
    this._fire("callbackEnd", handle);
  }
  beforePoll(timeoutMs: number | null): void {
    this._fire("beforePoll", timeoutMs);
  }
  afterPoll(): void {
    this._fire("afterPoll", undefined);
  }
  executorJob(job: ExecutorJobInfo): void {
    this._fire("executorJob", job);
  }

  private _fire(name: HookName, arg: unknown): void {
    const list = this.list;
    for (let i = 0; i < list.length; i++) {
      const fn = (list[i] as Instrument)[name] as ((a: unknown) => void) | undefined;
      if (fn === undefined) continue;
      try {
        fn.call(list[i], arg);
      } catch (error) {
        this._onError(error, name);
      }
    }
  }
}

export function checkInstrument(instrument: unknown): asserts instrument is Instrument {
  if (typeof instrument !== "object" || instrument === null) {
    throw new TypeError("addInstrument(instrument): instrument must be an object with hook methods");
  }
  for (const name of HOOKS) {
    const fn = (instrument as Record<string, unknown>)[name];
    if (fn !== undefined && typeof fn !== "function") {
      throw new TypeError(`addInstrument(instrument): instrument.${name} must be a function`);
    }
  }
}

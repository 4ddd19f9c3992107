import { EventEmitter } from "node:events";
import { describe, expect, test } from "vitest";
import { CancelledError, createTask, each, fromEvent, subscribe, take, type Coroutine } from "../src/index.js";
import { catching, runVirtual, turns } from "./helpers.js";

describe("fromEvent", () => {
  test("events of an EventTarget arrive in order; the listener is removed on release", async () => {
    const target = new EventTarget();
    const added: string[] = [];
    const realAdd = target.addEventListener.bind(target);
    const realRemove = target.removeEventListener.bind(target);
    target.addEventListener = ((type: string, l: (e: Event) => void) => {
      added.push(`add ${type}`);
      realAdd(type, l);
    }) as typeof target.addEventListener;
    target.removeEventListener = ((type: string, l: (e: Event) => void) => {
      added.push(`remove ${type}`);
      realRemove(type, l);
    }) as typeof target.removeEventListener;
    const out = await runVirtual(function* () {
      const consumer = createTask(
        (function* (): Coroutine<string[]> {
          const out: string[] = [];
          for (const e of yield* each(take(fromEvent<CustomEvent<string>>(target, "ping"), 3))) {
            out.push(e.detail);
            yield* each.next();
          }
          return out;
        })(),
      );
      yield* turns(1);
      for (const d of ["a", "b", "c", "d"]) target.dispatchEvent(new CustomEvent("ping", { detail: d }));
      return yield* consumer;
    });
    expect(out).toEqual(["a", "b", "c"]);
    expect(added).toEqual(["add ping", "remove ping"]);
  });

  test("an EventEmitter's listener is removed when the consumer is cancelled", async () => {
    const emitter = new EventEmitter();
    await runVirtual(function* () {
      const consumer = createTask(
        (function* (): Coroutine<void> {
          for (const _ of yield* each(fromEvent(emitter, "data"))) yield* each.next();
        })(),
      );
      yield* turns(1);
      expect(emitter.listenerCount("data")).toBe(1);
      emitter.emit("data", 1);
      yield* turns(1);
      consumer.cancel();
      expect(yield* catching(consumer)).toBeInstanceOf(CancelledError);
      expect(emitter.listenerCount("data")).toBe(0);
    });
  });

  test("events emitted from outside the loop's turn wake the waiting consumer", async () => {
    const emitter = new EventEmitter();
    const got = await runVirtual(function* () {
      const sub = yield* subscribe(fromEvent<number>(emitter, "n"));
      setImmediate(() => emitter.emit("n", 42));
      const r = yield* sub.next();
      sub.return();
      return r;
    });
    expect(got).toEqual({ done: false, value: 42 });
  });

  test("past the limit: 'error' fails the next pull with a RangeError, the drop policies keep limit events", async () => {
    const results = await runVirtual(function* () {
      const results: Record<string, unknown> = {};
      for (const overflow of ["error", "drop-oldest", "drop-newest"] as const) {
        const emitter = new EventEmitter();
        const sub = yield* subscribe(fromEvent<number>(emitter, "n", { limit: 2, overflow }));
        for (let i = 1; i <= 4; i++) emitter.emit("n", i);
        const got: unknown[] = [];
        try {
          got.push((yield* sub.next()).value, (yield* sub.next()).value);
        } catch (error) {
          got.push(error instanceof RangeError ? "RangeError" : error);
        }
        sub.return();
        expect(emitter.listenerCount("n")).toBe(0);
        results[overflow] = got;
      }
      return results;
    });
    expect(results).toEqual({ error: ["RangeError"], "drop-oldest": [3, 4], "drop-newest": [1, 2] });
  });

  test("bad arguments are TypeErrors or RangeErrors at the call", () => {
    expect(() => fromEvent({} as never, "x")).toThrow(TypeError);
    expect(() => fromEvent(new EventTarget(), 5 as never)).toThrow(TypeError);
    expect(() => fromEvent(new EventTarget(), "x", { limit: 0 })).toThrow(RangeError);
    expect(() => fromEvent(new EventTarget(), "x", { overflow: "grow" as never })).toThrow(/overflow must be/);
  });
});

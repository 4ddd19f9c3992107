import { EventEmitter } from "node:events";
import { describe, expect, test } from "vitest";
import { CancelledError, createTask, each, fromEvent, subscribe, take, type Coroutine, type Subscription } from "../src/index.js";
import { catching, releasedWhileWaiting, runVirtual, turns } from "./helpers.js";

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

  test("a release from another task ends the consumer waiting in next(): it sees done, not a wait for ever", async () => {
    const emitter = new EventEmitter();
    const log = await runVirtual(function* () {
      const log = yield* releasedWhileWaiting(fromEvent<number>(emitter, "n"), 1);
      return [...log, `listeners ${emitter.listenerCount("n")}`];
    });
    expect(log).toEqual(["released", "consumer got done=true", "listeners 0"]);
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

  test("the limit counts the events not taken yet: taking one makes room for one more", async () => {
    const got = await runVirtual(function* () {
      const emitter = new EventEmitter();
      const sub = yield* subscribe(fromEvent<string>(emitter, "e", { limit: 2 }));
      emitter.emit("e", "a");
      emitter.emit("e", "b");
      const got = [(yield* sub.next()).value];
      emitter.emit("e", "c");
      got.push((yield* sub.next()).value, (yield* sub.next()).value);
      sub.return();
      return got;
    });
    expect(got).toEqual(["a", "b", "c"]);
  });

  test("limit 1 is allowed: one event waits, the next one overflows", async () => {
    const got = await runVirtual(function* () {
      const emitter = new EventEmitter();
      const sub = yield* subscribe(fromEvent<number>(emitter, "n", { limit: 1 }));
      emitter.emit("n", 1);
      const got: unknown[] = [(yield* sub.next()).value];
      emitter.emit("n", 2);
      emitter.emit("n", 3);
      got.push(yield* catching(sub.next()));
      return got;
    });
    expect(got).toEqual([
      1,
      new RangeError('fromEvent(target, "n"): more than 1 events arrived before the consumer took them; raise { limit } or choose an { overflow } policy that drops events'),
    ]);
  });

  test("released (by return() or by the overflow error), the stream gives done and keeps giving it", async () => {
    const got = await runVirtual(function* () {
      const emitter = new EventEmitter();
      const returned = yield* subscribe(fromEvent<number>(emitter, "n"));
      emitter.emit("n", 1);
      returned.return();
      const got: unknown[] = [yield* returned.next()];
      const overflowed = yield* subscribe(fromEvent<number>(emitter, "n", { limit: 1 }));
      emitter.emit("n", 1);
      emitter.emit("n", 2);
      got.push(yield* catching(overflowed.next()), yield* overflowed.next(), yield* overflowed.next());
      expect(emitter.listenerCount("n")).toBe(0);
      return got;
    });
    expect(got).toEqual([
      { done: true, value: undefined },
      new RangeError('fromEvent(target, "n"): more than 1 events arrived before the consumer took them; raise { limit } or choose an { overflow } policy that drops events'),
      { done: true, value: undefined },
      { done: true, value: undefined },
    ]);
  });

  // A full collection takes seconds on a loaded machine: the test waits for one, not for time.
  test("an event delivered after release (Node's emit calls the listeners it started with) is not kept", { timeout: 60_000 }, async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    expect(gc).toBeTypeOf("function");
    let ref: WeakRef<object> | undefined;
    let sub: Subscription<object> | undefined;
    await runVirtual(function* () {
      const emitter = new EventEmitter();
      emitter.on("e", () => sub?.return()); // added first: runs first and releases
      sub = yield* subscribe(fromEvent<object>(emitter, "e"));
      const event = { payload: new Array<number>(1000).fill(1) };
      ref = new WeakRef(event);
      emitter.emit("e", event);
      expect(emitter.listenerCount("e")).toBe(1);
    });
    await new Promise((resolve) => setImmediate(resolve));
    gc?.();
    expect(ref?.deref()).toBeUndefined();
    expect(sub).toBeDefined(); // the subscription itself is still alive
  });

  // A full collection takes seconds on a loaded machine: the test waits for one, not for time.
  test("events not taken when the stream is released are not kept", { timeout: 60_000 }, async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    expect(gc).toBeTypeOf("function");
    let ref: WeakRef<object> | undefined;
    let sub: Subscription<object> | undefined;
    await runVirtual(function* () {
      const emitter = new EventEmitter();
      sub = yield* subscribe(fromEvent<object>(emitter, "e"));
      const event = { payload: new Array<number>(1000).fill(1) };
      ref = new WeakRef(event);
      emitter.emit("e", event);
      sub.return();
    });
    await new Promise((resolve) => setImmediate(resolve));
    gc?.();
    expect(ref?.deref()).toBeUndefined();
    expect(sub).toBeDefined(); // the subscription itself is still alive
  });

  test("subscribing outside a coroutine on a loop is an Error, and no listener is added", () => {
    const emitter = new EventEmitter();
    expect(() => fromEvent(emitter, "e").subscribe()).toThrow(new Error("a fromEvent() stream must be subscribed inside a coroutine running on a loop"));
    expect(emitter.listenerCount("e")).toBe(0);
  });

  test("bad arguments: exact TypeErrors and RangeErrors at the call", () => {
    const targetMessage = new TypeError("fromEvent(target, type): target must be an EventTarget (addEventListener) or an EventEmitter (on/off)");
    const noop = (): void => {};
    const callableTarget = Object.assign(() => {}, { addEventListener: noop, removeEventListener: noop });
    const callableEmitter = Object.assign(() => {}, { on: noop, off: noop });
    for (const bad of [null, undefined, 5, "target", {}, { on: noop }, { off: noop }, callableTarget, callableEmitter]) {
      expect(() => fromEvent(bad as never, "x")).toThrow(targetMessage);
    }
    expect(() => fromEvent(new EventTarget(), 5 as never)).toThrow(new TypeError("fromEvent(target, type): type must be the event's name, a string"));
    for (const limit of [0, -1, 1.5, NaN, "2"]) {
      expect(() => fromEvent(new EventTarget(), "x", { limit: limit as never })).toThrow(
        new RangeError(`fromEvent(target, type, { limit }): limit must be an integer >= 1, got ${String(limit)}`),
      );
    }
  });

  test("bad arguments are TypeErrors or RangeErrors at the call", () => {
    expect(() => fromEvent({} as never, "x")).toThrow(TypeError);
    expect(() => fromEvent(new EventTarget(), 5 as never)).toThrow(TypeError);
    expect(() => fromEvent(new EventTarget(), "x", { limit: 0 })).toThrow(RangeError);
    expect(() => fromEvent(new EventTarget(), "x", { overflow: "grow" as never })).toThrow(/overflow must be/);
  });
});

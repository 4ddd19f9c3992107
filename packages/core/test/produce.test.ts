import { describe, expect, test } from "vitest";
import { allTasks, CancelledError, createTask, currentTask, each, produce, subscribe, type Coroutine, type Subscription, type Task } from "../src/index.js";
import { catching, runVirtual, sleep, turns } from "./helpers.js";

describe("produce: pinned behaviours", () => {
  test("with a slow consumer and a buffer, every value arrives once and in order", async () => {
    const out = await runVirtual(function* () {
      const s = produce<number>(
        function* (send) {
          for (let i = 0; i < 10; i++) yield* send(i);
        },
        { buffer: 2 },
      );
      const out: number[] = [];
      for (const v of yield* each(s)) {
        out.push(v);
        yield* sleep(10);
        yield* each.next();
      }
      return out;
    });
    expect(out).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  test("a slow consumer of an endless producer: what the subscription holds stays within the buffer", async () => {
    const held = await runVirtual(function* () {
      const s = produce<number>(
        function* (send) {
          for (let i = 0; ; i++) yield* send(i);
        },
        { buffer: 3 },
      );
      const sub = yield* subscribe(s);
      const held: number[] = [];
      for (let i = 0; i < 200; i++) {
        expect((yield* sub.next()).value).toBe(i);
        yield* turns(1); // the producer refills the buffer before each pull
        held.push((sub as unknown as { _values: { length: number } })._values.length);
      }
      sub.return();
      return Math.max(...held);
    });
    expect(held).toBe(3);
  });

  test("a value sent into the buffer wakes a waiting consumer at once, not when the producer next blocks", async () => {
    const log: string[] = [];
    await runVirtual(function* () {
      const s = produce<number>(
        function* (send) {
          yield* send(1);
          yield* sleep(100);
          log.push("producer slept");
          yield* send(2);
        },
        { buffer: 2 },
      );
      for (const v of yield* each(s)) {
        log.push(`got ${v}`);
        yield* each.next();
      }
    });
    expect(log).toEqual(["got 1", "producer slept", "got 2"]);
  });

  test("a body that ends with values still buffered: the consumer gets them all, then the end", async () => {
    const out = await runVirtual(function* () {
      const s = produce<number>(
        function* (send) {
          yield* send(1);
          yield* send(2);
        },
        { buffer: 2 },
      );
      const sub = yield* subscribe(s);
      yield* turns(2); // the body sends both without waiting and ends
      return [yield* sub.next(), yield* sub.next(), yield* sub.next()];
    });
    expect(out).toEqual([{ done: false, value: 1 }, { done: false, value: 2 }, { done: true, value: undefined }]);
  });

  test("a send cancelled while it waits withdraws its value: the consumer never sees it", async () => {
    const log: string[] = [];
    const out = await runVirtual(function* () {
      const s = produce<string>(function* (send) {
        const sending = createTask(send("withdrawn"));
        yield* turns(1); // it puts the value and waits for the consumer
        sending.cancel();
        log.push(((yield* catching(sending)) as Error).constructor.name);
        yield* turns(10); // the consumer pulls meanwhile and must find nothing
        log.push("sending kept");
        yield* send("kept");
      });
      const sub = yield* subscribe(s);
      yield* turns(5); // the consumer comes late
      const out = [yield* sub.next()];
      log.push("got");
      sub.return();
      return out;
    });
    expect(log).toEqual(["CancelledError", "sending kept", "got"]);
    expect(out).toEqual([{ done: false, value: "kept" }]);
  });

  test("a send cancelled after the consumer took its value: the value is not given twice and nothing after it is lost", async () => {
    const log: string[] = [];
    let sending: Task<void> | undefined;
    const out = await runVirtual(function* () {
      const s = produce<string>(
        function* (send) {
          sending = createTask(send("a"));
          log.push(((yield* catching(sending)) as Error | undefined)?.constructor.name ?? "sent");
          yield* send("b");
          yield* send("c");
        },
        { buffer: 0 },
      );
      const sub = yield* subscribe(s);
      const out = [yield* sub.next()];
      sending?.cancel(); // the value was taken; the sender has not run since
      out.push(yield* sub.next(), yield* sub.next(), yield* sub.next());
      return out;
    });
    expect(log).toEqual(["CancelledError"]);
    expect(out).toEqual([{ done: false, value: "a" }, { done: false, value: "b" }, { done: false, value: "c" }, { done: true, value: undefined }]);
  });

  test("a body that fails with a CancelledError of its own (not a release) fails the consumer's pull with it", async () => {
    const error = await runVirtual(function* () {
      const s = produce<number>(function* (send) {
        yield* send(1);
        throw new CancelledError("the body's own");
      });
      const sub = yield* subscribe(s);
      yield* sub.next();
      return yield* catching(sub.next());
    });
    expect(error).toBeInstanceOf(CancelledError);
    expect((error as Error).message).toBe("the body's own");
  });

  test("after return(), next() is done at once, before the cancelled producer has even run its finally", async () => {
    const log: string[] = [];
    await runVirtual(function* () {
      const s = produce<number>(function* (send) {
        try {
          for (let i = 0; ; i++) yield* send(i);
        } finally {
          log.push("producer finally");
        }
      });
      const sub = yield* subscribe(s);
      yield* sub.next();
      sub.return();
      log.push(JSON.stringify(yield* sub.next()));
      yield* turns(3);
      log.push(JSON.stringify(yield* sub.next()));
    });
    expect(log).toEqual(['{"done":true}', "producer finally", '{"done":true}']);
  });

  test("return() twice cancels the producer once, with a message saying why", async () => {
    const log: string[] = [];
    await runVirtual(function* () {
      const s = produce<number>(function* (send) {
        try {
          for (let i = 0; ; i++) yield* send(i);
        } catch (error) {
          log.push(`${(error as Error).constructor.name}: ${(error as Error).message}, cancelling() = ${String(currentTask()?.cancelling())}`);
          throw error;
        }
      });
      const sub = yield* subscribe(s);
      yield* sub.next();
      sub.return();
      sub.return();
      yield* turns(3);
    });
    expect(log).toEqual(["CancelledError: the consumer released the stream, cancelling() = 1"]);
  });

  // A full collection takes seconds on a loaded machine: the test waits for one, not for time.
  test("values buffered and not taken when the stream is released are not kept", { timeout: 60_000 }, async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    expect(gc).toBeTypeOf("function");
    const refs: WeakRef<object>[] = [];
    let sub: Subscription<object> | undefined;
    await runVirtual(function* () {
      const s = produce<object>(
        function* (send) {
          for (;;) {
            const value = { payload: new Array<number>(1000).fill(1) };
            refs.push(new WeakRef(value));
            yield* send(value);
          }
        },
        { buffer: 2 },
      );
      sub = yield* subscribe(s);
      yield* turns(3); // two values buffered, a third pending
      sub.return();
      yield* turns(3);
    });
    await new Promise((resolve) => setImmediate(resolve));
    gc?.();
    // The two buffered ones. (The pending third was a local of the cancelled body's frame.)
    expect(refs).toHaveLength(3);
    expect(refs.slice(0, 2).map((r) => r.deref())).toEqual([undefined, undefined]);
    expect(sub).toBeDefined(); // the subscription itself is still alive
  });

  test("a second send() while one waits is an Error, and the waiting one's value still arrives", async () => {
    const log: string[] = [];
    const out = await runVirtual(function* () {
      const s = produce<string>(function* (send) {
        const first = createTask(send("first"));
        yield* turns(1); // it waits for the consumer
        log.push(((yield* catching(send("second"))) as Error).message);
        yield* first;
      });
      const sub = yield* subscribe(s);
      yield* turns(3);
      return [yield* sub.next(), yield* sub.next()];
    });
    expect(log).toEqual(["produce(): send() was called while another send() was waiting; send from one task at a time"]);
    expect(out).toEqual([{ done: false, value: "first" }, { done: true, value: undefined }]);
  });

  test("send() after the body ended is an Error", async () => {
    const error = await runVirtual(function* () {
      let leaked: ((value: number) => Coroutine<void>) | undefined;
      const s = produce<number>(function* (send) {
        leaked = send;
      });
      const sub = yield* subscribe(s);
      expect(yield* sub.next()).toEqual({ done: true, value: undefined });
      return yield* catching((leaked as (value: number) => Coroutine<void>)(1));
    });
    expect(error).toEqual(new Error("produce(): send() was called after the producer's body ended"));
  });

  test("the producing task is named \"produce\"", async () => {
    const names = await runVirtual(function* () {
      const sub = yield* subscribe(produce<number>(function* (send) { yield* send(1); }));
      const names = [...allTasks()].map((t) => t.getName());
      sub.return();
      return names;
    });
    expect(names).toContain("produce");
  });

  test("subscribing outside a coroutine on a loop is an Error", () => {
    expect(() => produce(function* () {}).subscribe()).toThrow(new Error("a produce() stream must be subscribed inside a coroutine running on a loop"));
  });

  test("bad arguments: exact TypeError and RangeErrors at the call", () => {
    expect(() => produce(null as never)).toThrow(new TypeError("produce(body): body must be a function* (send) => Coroutine that calls yield* send(value)"));
    for (const buffer of [-1, 1.5, NaN, "2"]) {
      expect(() => produce(function* () {}, { buffer: buffer as never })).toThrow(
        new RangeError(`produce(body, { buffer }): buffer must be an integer >= 0, got ${String(buffer)}`),
      );
    }
  });
});

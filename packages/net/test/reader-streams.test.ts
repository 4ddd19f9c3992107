import { Buffer } from "node:buffer";
import { createTask, each, getRunningLoop, mapConcurrent, produce, run, subscribe, take, type Coroutine } from "@loop/core";
import { MemoryNetwork, runVirtual } from "@loop/testing";
import { describe, expect, it } from "vitest";
import { LimitOverrunError, StreamReader, chunks, lines, openConnection, startServer } from "../src/index.js";

function* catching(coro: Coroutine<unknown>): Coroutine<unknown> {
  try {
    yield* coro;
    return null;
  } catch (error) {
    return error;
  }
}

function* later(ms: number): Coroutine<void> {
  const loop = getRunningLoop();
  const future = loop.createFuture<void>();
  loop.callLater(ms, () => future.setResult());
  yield* future;
}

describe("lines(reader) and chunks(reader)", () => {
  it("lines are strings without \\n or \\r\\n; a last line without a newline is kept", async () => {
    const out = await run(function* () {
      const reader = new StreamReader();
      reader.feedData(Buffer.from("one\r\ntwo\nthr"));
      reader.feedData(Buffer.from("ee\n\nlast"));
      reader.feedEof();
      const out: string[] = [];
      for (const line of yield* each(lines(reader))) {
        out.push(line);
        yield* each.next();
      }
      return out;
    });
    expect(out).toEqual(["one", "two", "three", "", "last"]);
  });

  it("chunks give the bytes in order, at most `size` each, and wait for data", async () => {
    const out = await run(function* () {
      const reader = new StreamReader();
      reader.feedData(Buffer.from("abcdefg"));
      createTask(
        (function* (): Coroutine<void> {
          yield;
          yield;
          reader.feedData(Buffer.from("hi"));
          reader.feedEof();
        })(),
      );
      const out: string[] = [];
      for (const c of yield* each(chunks(reader, 3))) {
        out.push(Buffer.from(c).toString());
        yield* each.next();
      }
      return out;
    });
    expect(out).toEqual(["abc", "def", "g", "hi"]);
  });

  it("releasing the stream leaves the reader usable; a line over the limit fails with LimitOverrunError", async () => {
    await run(function* () {
      const reader = new StreamReader({ limit: 8 });
      reader.feedData(Buffer.from("a\nb\nrest"));
      reader.feedEof();
      const sub = yield* subscribe(lines(reader));
      expect(yield* sub.next()).toEqual({ done: false, value: "a" });
      sub.return();
      expect(Buffer.from(yield* reader.readline()).toString()).toBe("b\n");

      const long = new StreamReader({ limit: 4 });
      long.feedData(Buffer.from("much too long\n"));
      const error = yield* catching(
        (function* () {
          for (const _ of yield* each(lines(long))) yield* each.next();
        })(),
      );
      expect(error).toBeInstanceOf(LimitOverrunError);
    });
  });

  it("bad arguments are TypeErrors or RangeErrors at the call", async () => {
    expect(() => lines({} as never)).toThrow(TypeError);
    await run(function* () {
      expect(() => chunks(new StreamReader(), 0)).toThrow(RangeError);
    });
  });
});

describe("streams under the virtual-time poller", () => {
  it("a line protocol over the in-memory network, with hour-long gaps, takes no real time", async () => {
    const network = new MemoryNetwork({ latency: 1 });
    const result = await runVirtual(
      function* () {
        const server = yield* startServer(
          function* (reader, writer) {
            for (const line of yield* each(lines(reader))) {
              writer.write(`echo ${line}\n`);
              yield* writer.drain();
              yield* each.next();
            }
            writer.close();
          },
          "localhost",
          7000,
        );
        const [reader, writer] = yield* openConnection("localhost", 7000);
        const ticks = produce<string>(function* (send) {
          for (let i = 0; i < 3; i++) {
            yield* later(3_600_000);
            yield* send(`tick ${i}`);
          }
        });
        for (const tick of yield* each(ticks)) {
          writer.write(`${tick}\n`);
          yield* each.next();
        }
        writer.writeEof(); // half-close: the replies still come back
        const replies: string[] = [];
        for (const reply of yield* each(lines(reader))) {
          replies.push(reply);
          yield* each.next();
        }
        writer.close();
        server.close();
        yield* server.waitClosed();
        return { replies, time: getRunningLoop().time() };
      },
      { net: network },
    );
    expect(result.replies).toEqual(["echo tick 0", "echo tick 1", "echo tick 2"]);
    expect(result.time).toBeGreaterThanOrEqual(3 * 3_600_000);
    expect(network.openConnections).toBe(0);
  });

  it("mapConcurrent and take run on virtual time, and cancellation leaves nothing behind", async () => {
    const out = await runVirtual(function* () {
      const numbers = produce<number>(function* (send) {
        for (let i = 0; ; i++) yield* send(i);
      });
      const slow = mapConcurrent(numbers, 4, function* (n) {
        yield* later(1000 * (4 - (n % 4)));
        return n * n;
      });
      const out: number[] = [];
      for (const v of yield* each(take(slow, 6))) {
        out.push(v);
        yield* each.next();
      }
      return { out, time: getRunningLoop().time() };
    });
    expect(out.out).toEqual([0, 1, 4, 9, 16, 25]);
  });
});

describe("lines(reader) released from another task", () => {
  it("a consumer waiting for a line sees the end, and the reader keeps the bytes that came before", async () => {
    const log = await run(function* () {
      const log: string[] = [];
      const reader = new StreamReader();
      reader.feedData(Buffer.from("par"));
      const sub = yield* subscribe(lines(reader));
      const consumer = createTask(
        (function* (): Coroutine<void> {
          const r = yield* sub.next();
          log.push(`consumer got done=${String(r.done)}`);
        })(),
      );
      yield* later(0); // the consumer is waiting for data
      sub.return();
      log.push("released");
      yield* consumer;
      reader.feedData(Buffer.from("tial\n"));
      log.push(`reader still has ${Buffer.from(yield* reader.readline()).toString()}`);
      return log;
    });
    expect(log).toEqual(["released", "consumer got done=true", "reader still has partial\n"]);
  });

  it("a cancel() of the consumer's task in the same turn as the release is not swallowed", async () => {
    const outcome = await run(function* () {
      const reader = new StreamReader();
      const sub = yield* subscribe(chunks(reader));
      const consumer = createTask(
        (function* (): Coroutine<string> {
          const r = yield* sub.next();
          return `done=${String(r.done)}`;
        })(),
      );
      yield* later(0); // the consumer is waiting for data
      sub.return();
      consumer.cancel();
      try {
        return yield* consumer;
      } catch (error) {
        return (error as Error).constructor.name;
      }
    });
    expect(outcome).toBe("CancelledError");
  });
});

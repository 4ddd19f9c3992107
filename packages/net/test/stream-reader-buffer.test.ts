/**
 * StreamReader's buffer and waits at their edges: which bytes a read hands over as they
 * came (a view, not a copy) and which it copies, consumed chunks let go, the limit's exact
 * edge, flow control across a wait and a transport swap, a wait cancelled in the turn its
 * data or error arrives, and the cached wait labels.
 */
import { Buffer } from "node:buffer";
import { CancelledError, createTask, type Awaitable, type Coroutine, type Future } from "@loop/core";
import { runVirtual } from "@loop/testing";
import { describe, expect, it } from "vitest";
import { LimitOverrunError, StreamReader } from "../src/index.js";
import { FakeTransport } from "./fake-net.js";

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString();

function* outcome(coro: Coroutine<unknown> | Awaitable<unknown>): Coroutine<unknown> {
  try {
    return yield* coro;
  } catch (error) {
    return error;
  }
}

/** How many chunks the reader's queue array holds, read or not (its memory, not its bytes). */
function queued(reader: StreamReader): number {
  return (reader as unknown as { _rest: Buffer[] | null })._rest?.length ?? 0;
}

describe("StreamReader hands over the bytes it was fed without copying them when it can", () => {
  it("a read of a whole chunk returns that chunk; a read of part of one, a view of it", async () => {
    await runVirtual(function* () {
      const reader = new StreamReader();
      const whole = Buffer.from("abcd");
      reader.feedData(whole);
      expect(yield* reader.read(4)).toBe(whole);
      const parts = Buffer.from("efgh");
      reader.feedData(parts);
      const first = yield* reader.read(2);
      const second = yield* reader.read(2);
      expect([text(first), text(second)]).toEqual(["ef", "gh"]);
      expect([first.buffer, second.buffer]).toEqual([parts.buffer, parts.buffer]);
      // The chunk was used up by the second read: the next one comes as it is, too.
      const next = Buffer.from("ij");
      reader.feedData(next);
      expect(yield* reader.read(2)).toBe(next);
    });
  });

  it("after a read that spans chunks and ends at one's end, the next chunk is handed over as it is", async () => {
    await runVirtual(function* () {
      const reader = new StreamReader();
      reader.feedData(Buffer.from("ab"));
      reader.feedData(Buffer.from("cd"));
      expect(text(yield* reader.read(4))).toBe("abcd");
      const next = Buffer.from("ef");
      reader.feedData(next);
      expect(yield* reader.read(2)).toBe(next);
    });
  });

  it("an empty feed is ignored: it neither wakes a read nor stands in front of the next chunk", async () => {
    await runVirtual(function* () {
      const reader = new StreamReader();
      reader.feedData(new Uint8Array(0));
      expect(reader.bufferedSize).toBe(0);
      const next = Buffer.from("xy");
      reader.feedData(next);
      expect(yield* reader.read(2)).toBe(next);
    });
  });

  it("read() to the end of a single chunk returns that chunk, and takes what is buffered before it waits", async () => {
    await runVirtual(function* () {
      const reader = new StreamReader();
      const only = Buffer.from("all");
      reader.feedData(only);
      const task = createTask(reader.read());
      yield;
      expect(reader.bufferedSize).toBe(0);
      reader.feedEof();
      expect(yield* task).toBe(only);
    });
  });

  it("a small view of a large store is copied (the store may be let go); a view of a store up to the pool size, or of a quarter of it or more, is kept", async () => {
    await runVirtual(function* () {
      const pool = Buffer.poolSize;
      const cases: [string, Buffer, boolean][] = [
        ["1 byte of a store of the pool's size", Buffer.alloc(pool).subarray(0, 1), true],
        ["1 byte of a store just over the pool's size", Buffer.alloc(pool + 1).subarray(0, 1), false],
        ["a quarter of a large store", Buffer.alloc(pool * 8).subarray(0, pool * 2), true],
        ["a quarter less one byte of a large store", Buffer.alloc(pool * 8).subarray(0, pool * 2 - 1), false],
      ];
      for (const [name, data, kept] of cases) {
        const reader = new StreamReader({ limit: pool * 8 });
        reader.feedData(data);
        const read = yield* reader.read(data.length);
        expect(read.buffer === data.buffer, name).toBe(kept);
        expect(read.length, name).toBe(data.length);
      }
    });
  });
});

describe("StreamReader lets go of consumed chunks", () => {
  it("its queue drops the chunks read once they are 64 or more and at least half of it", async () => {
    await runVirtual(function* () {
      const reader = new StreamReader();
      for (let i = 0; i < 129; i++) reader.feedData(Buffer.from([i]));
      expect(queued(reader)).toBe(128);
      for (let i = 0; i < 63; i++) yield* reader.read(1);
      expect(queued(reader)).toBe(128);
      yield* reader.read(1);
      expect(queued(reader)).toBe(64);
      for (let i = 0; i < 32; i++) yield* reader.read(1);
      expect(queued(reader)).toBe(64);
      const rest = yield* reader.readexactly(33);
      expect([...rest]).toEqual(Array.from({ length: 33 }, (_, i) => 96 + i));
      expect(queued(reader)).toBe(0);
    });
  });

  it("64 chunks read out of a queue of more than 128 stay until they are half of it", async () => {
    await runVirtual(function* () {
      const reader = new StreamReader();
      for (let i = 0; i < 201; i++) reader.feedData(Buffer.from([i]));
      for (let i = 0; i < 64; i++) yield* reader.read(1);
      expect(queued(reader)).toBe(200);
      for (let i = 0; i < 36; i++) yield* reader.read(1);
      expect(queued(reader)).toBe(100);
      expect([...(yield* reader.read(1))]).toEqual([100]);
    });
  });
});

describe("StreamReader's limit, at its exact edge", () => {
  it("a separator found right at the limit is returned; one past it overruns", async () => {
    await runVirtual(function* () {
      const reader = new StreamReader({ limit: 4 });
      reader.feedData(Buffer.from("abcd\nabcde\n"));
      expect(text(yield* reader.readuntil("\n"))).toBe("abcd\n");
      const error = yield* outcome(reader.readuntil("\n"));
      expect(error).toBeInstanceOf(LimitOverrunError);
      expect((error as LimitOverrunError).consumed).toBe(5);
    });
  });

  it("a line of exactly limit bytes, its newline still to come, waits for it rather than overrunning", async () => {
    await runVirtual(function* () {
      const reader = new StreamReader({ limit: 4 });
      reader.feedData(Buffer.from("abcd"));
      const task = createTask(reader.readline());
      yield;
      expect(task.done()).toBe(false);
      reader.feedData(Buffer.from("\n"));
      expect(text(yield* task)).toBe("abcd\n");
    });
  });

  it("readline over the limit without a newline drops what is buffered and goes on with the next bytes", async () => {
    await runVirtual(function* () {
      const reader = new StreamReader({ limit: 4 });
      reader.feedData(Buffer.from("abcdefgh"));
      expect(yield* outcome(reader.readline())).toBeInstanceOf(LimitOverrunError);
      expect(reader.bufferedSize).toBe(0);
      reader.feedData(Buffer.from("ok\n"));
      expect(text(yield* reader.readline())).toBe("ok\n");
    });
  });

  it("readline over the limit drops exactly the long line when earlier bytes of its chunk were already read", async () => {
    await runVirtual(function* () {
      const reader = new StreamReader({ limit: 4 });
      reader.feedData(Buffer.from("xyaaaaaaa\nrest\n"));
      expect(text(yield* reader.read(2))).toBe("xy");
      const error = yield* outcome(reader.readline());
      expect(error).toBeInstanceOf(LimitOverrunError);
      expect((error as LimitOverrunError).consumed).toBe(7);
      expect(text(yield* reader.readline())).toBe("rest\n");
    });
  });
});

describe("StreamReader's flow control", () => {
  it("a wait resumes a paused transport, and the reader pauses it again when the buffer passes twice the limit", async () => {
    await runVirtual(function* () {
      const reader = new StreamReader({ limit: 2 });
      const transport = new FakeTransport();
      reader.setTransport(transport);
      reader.feedData(Buffer.from("abcde"));
      expect(transport.log).toEqual(["pause"]);
      const task = createTask(reader.readexactly(10));
      yield;
      expect(transport.log).toEqual(["pause", "resume"]);
      reader.feedData(Buffer.from("fghij"));
      expect(transport.log).toEqual(["pause", "resume", "pause"]);
      expect(text(yield* task)).toBe("abcdefghij");
      expect(transport.log).toEqual(["pause", "resume", "pause", "resume"]);
    });
  });

  it("a wait leaves a transport that is reading alone", async () => {
    await runVirtual(function* () {
      const reader = new StreamReader({ limit: 2 });
      const transport = new FakeTransport();
      reader.setTransport(transport);
      const task = createTask(reader.read(1));
      yield;
      reader.feedData(Buffer.from("a"));
      yield* task;
      expect(transport.log).toEqual([]);
    });
  });

  it("a transport put in while the reader is paused (startTls) is paused too", async () => {
    await runVirtual(function* () {
      const reader = new StreamReader({ limit: 2 });
      const before = new FakeTransport();
      reader.setTransport(before);
      reader.feedData(Buffer.from("abcde"));
      const after = new FakeTransport();
      reader.setTransport(after);
      expect(after.log).toEqual(["pause"]);
      const resumed = new FakeTransport();
      yield* reader.read(3);
      reader.setTransport(resumed);
      expect(resumed.log).toEqual([]);
      expect(after.log).toEqual(["pause", "resume"]);
    });
  });
});

describe("StreamReader waits", () => {
  it("atEof() is true only once the stream ended and every byte was read", async () => {
    await runVirtual(function* () {
      const reader = new StreamReader();
      expect(reader.atEof()).toBe(false);
      reader.feedData(Buffer.from("a"));
      reader.feedEof();
      expect(reader.atEof()).toBe(false);
      yield* reader.read(1);
      expect(reader.atEof()).toBe(true);
    });
  });

  it("read(0) returns at once with nothing buffered and no end in sight", async () => {
    await runVirtual(function* () {
      const reader = new StreamReader();
      expect((yield* reader.read(0)).length).toBe(0);
      expect((yield* reader.readexactly(0)).length).toBe(0);
    });
  });

  it("a read cancelled in the turn its data arrives (or the connection fails) leaves the bytes and the error for the next read", async () => {
    await runVirtual(function* () {
      const reader = new StreamReader();
      const fed = createTask(reader.read(5));
      yield;
      fed.cancel();
      reader.feedData(Buffer.from("abc"));
      expect(yield* outcome(fed)).toBeInstanceOf(CancelledError);
      expect(text(yield* reader.read(5))).toBe("abc");
      const failed = createTask(reader.readline());
      yield;
      failed.cancel();
      const reset = new Error("reset");
      reader.setException(reset);
      expect(yield* outcome(failed)).toBeInstanceOf(CancelledError);
      expect(yield* outcome(reader.read(5))).toBe(reset);
    });
  });

  it("read() to the end cancelled at its wait leaves the reader free for the next read", async () => {
    await runVirtual(function* () {
      const reader = new StreamReader();
      const first = createTask(reader.read());
      yield;
      first.cancel();
      expect(yield* outcome(first)).toBeInstanceOf(CancelledError);
      const second = createTask(reader.read());
      yield;
      reader.feedData(Buffer.from("abc"));
      reader.feedEof();
      expect(text(yield* second)).toBe("abc");
    });
  });

  it("read() to the end cancelled as data arrives does not take away the wait of the read started after it", async () => {
    await runVirtual(function* () {
      const reader = new StreamReader();
      const first = createTask(reader.read());
      yield;
      first.cancel();
      reader.feedData(Buffer.from("ab"));
      // The next read waits before the cancelled one has run its cleanup.
      const second = reader.readexactly(5);
      const wait = second.next().value as Future<void>;
      expect(yield* outcome(first)).toBeInstanceOf(CancelledError);
      reader.feedData(Buffer.from("cde"));
      expect(wait.done()).toBe(true);
      expect(text(second.next().value as Uint8Array)).toBe("abcde");
    });
  });

  it("woken by data and failed in the same turn: readuntil and readline throw the error, read and readexactly take the bytes", async () => {
    await runVirtual(function* () {
      const reset = new Error("reset");
      const calls: [string, (reader: StreamReader) => Coroutine<Uint8Array>, unknown][] = [
        ["readuntil", (reader) => reader.readuntil(";"), reset],
        ["readline", (reader) => reader.readline(), reset],
        ["read", (reader) => reader.read(3), "a;\n"],
        ["readexactly", (reader) => reader.readexactly(3), "a;\n"],
      ];
      for (const [name, call, expected] of calls) {
        const reader = new StreamReader();
        const task = createTask(call(reader));
        yield;
        reader.feedData(Buffer.from("a;\n"));
        reader.setException(reset);
        const result = yield* outcome(task);
        expect(result instanceof Uint8Array ? text(result) : result, name).toBe(expected);
      }
    });
  });

  it("a read resumed before its data arrived yields the same wait again", async () => {
    await runVirtual(function* () {
      const reader = new StreamReader();
      const op = reader.readexactly(2);
      const first = op.next();
      const again = op.next();
      expect(again.done).toBe(false);
      expect(again.value).toBe(first.value);
      op.return(new Uint8Array(0));
      yield;
    });
  });

  it("the cached wait label is the one of the method waiting, in any order of methods", async () => {
    await runVirtual(function* () {
      const reader = new StreamReader();
      reader.source = "10.0.0.1:7";
      const labels: (string | undefined)[] = [];
      const calls: ((r: StreamReader) => Coroutine<Uint8Array>)[] = [
        (r) => r.read(1),
        (r) => r.readexactly(1),
        (r) => r.readuntil("\n"),
        (r) => r.read(1),
        (r) => r.readline(),
        (r) => r.readexactly(1),
        (r) => r.readuntil("\n"),
      ];
      for (const call of calls) {
        const task = createTask(call(reader));
        yield;
        labels.push(task.waitingOn()!.label);
        reader.feedData(Buffer.from("\n"));
        yield* task;
      }
      expect(labels).toEqual(
        ["read", "readexactly", "readuntil", "read", "readline", "readexactly", "readuntil"].map((name) => `StreamReader.${name} from 10.0.0.1:7`),
      );
    });
  });
});

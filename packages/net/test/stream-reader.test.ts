import { Buffer } from "node:buffer";
import { CancelledError, createTask, getRunningLoop, run, type Awaitable, type Coroutine, type ReadTransport } from "@loop/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_LIMIT, IncompleteReadError, LimitOverrunError, StreamReader } from "../src/index.js";
import { propertyRuns } from "./property-runs.js";

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString();

function* catching(coro: Coroutine<unknown> | Awaitable<unknown>): Coroutine<unknown> {
  try {
    yield* coro;
    return null;
  } catch (error) {
    return error;
  }
}

/** A transport that only records pause/resume calls. */
function recordingTransport(log: string[]): ReadTransport {
  let reading = true;
  return {
    isReading: () => reading,
    pauseReading: () => {
      reading = false;
      log.push("pause");
    },
    resumeReading: () => {
      reading = true;
      log.push("resume");
    },
    close: () => {},
    isClosing: () => false,
    getExtraInfo: () => undefined,
    setProtocol: () => {},
    getProtocol: () => {
      throw new Error("no protocol");
    },
  };
}

describe("StreamReader", () => {
  it("defaults its limit to 64 KiB and rejects a limit of 0 or less at construction", async () => {
    await run(function* () {
      expect(new StreamReader().limit).toBe(DEFAULT_LIMIT);
      expect(DEFAULT_LIMIT).toBe(65_536);
      expect(() => new StreamReader({ limit: 0 })).toThrow(RangeError);
      expect(() => new StreamReader({ limit: -5 })).toThrow(/limit/);
      expect(() => new StreamReader({ limit: "10" as unknown as number })).toThrow(TypeError);
      yield;
    });
  });

  it("throws argument errors at the call, before any coroutine runs", async () => {
    await run(function* () {
      const reader = new StreamReader();
      expect(() => reader.readexactly(-1)).toThrow(RangeError);
      expect(() => reader.readexactly(1.5)).toThrow(RangeError);
      expect(() => reader.readuntil("")).toThrow(RangeError);
      expect(() => reader.readuntil(new Uint8Array(0))).toThrow(RangeError);
      expect(() => reader.readuntil(5 as unknown as string)).toThrow(TypeError);
      expect(() => reader.read("x" as unknown as number)).toThrow(TypeError);
      yield;
    });
  });

  it("read(n) returns what is buffered up to n, waiting only when nothing is", async () => {
    await run(function* () {
      const reader = new StreamReader();
      reader.feedData(Buffer.from("abcdef"));
      expect(text(yield* reader.read(4))).toBe("abcd");
      expect(text(yield* reader.read(100))).toBe("ef");
      const later = createTask(reader.read(10));
      yield;
      expect(later.done()).toBe(false);
      reader.feedData(Buffer.from("gh"));
      expect(text(yield* later)).toBe("gh");
      reader.feedEof();
      const end = yield* reader.read(10);
      expect(end).toBeInstanceOf(Uint8Array);
      expect(end.length).toBe(0);
      expect(reader.atEof()).toBe(true);
    });
  });

  it("keeps a small view of a large store as a copy, so a few unread bytes do not pin a read slab; a view that fills its store is kept as it is", async () => {
    await run(function* () {
      const reader = new StreamReader();
      const slab = new ArrayBuffer(256 * 1024);
      const small = new Uint8Array(slab, 1000, 10);
      small.set(Buffer.from("half a lin"));
      reader.feedData(small);
      small.fill(0); // the slab's region is the driver's again: the reader's copy is unaffected
      const kept = yield* reader.read(10);
      expect(text(kept)).toBe("half a lin");
      expect(kept.buffer).not.toBe(slab);
      expect(kept.buffer.byteLength).toBeLessThanOrEqual(Buffer.poolSize);

      const large = new Uint8Array(slab, 0, 200 * 1024);
      reader.feedData(large);
      const whole = yield* reader.read(200 * 1024);
      expect(whole.buffer).toBe(slab);
      expect(whole.byteLength).toBe(200 * 1024);

      const pooled = Buffer.from("small, from Node's pool");
      reader.feedData(pooled);
      expect((yield* reader.read(100)).buffer).toBe(pooled.buffer);
    });
  });

  it("read() with no argument reads until the end of the stream", async () => {
    await run(function* () {
      const reader = new StreamReader({ limit: 4 });
      const all = createTask(reader.read());
      for (const part of ["one ", "two ", "three"]) {
        reader.feedData(Buffer.from(part));
        yield;
      }
      reader.feedEof();
      expect(text(yield* all)).toBe("one two three");
    });
  });

  it("readuntil finds separators that span chunks, with string or byte separators", async () => {
    await run(function* () {
      const reader = new StreamReader();
      reader.feedData(Buffer.from("key: val"));
      reader.feedData(Buffer.from("ue\r"));
      reader.feedData(Buffer.from("\nnext\r\n"));
      expect(text(yield* reader.readuntil("\r\n"))).toBe("key: value\r\n");
      expect(text(yield* reader.readuntil(new Uint8Array([13, 10])))).toBe("next\r\n");
      reader.feedData(Buffer.from("tail"));
      reader.feedEof();
      const error = yield* catching(reader.readuntil("\n"));
      expect(error).toBeInstanceOf(IncompleteReadError);
      expect(text((error as IncompleteReadError).partial)).toBe("tail");
      expect((error as IncompleteReadError).expected).toBeNull();
      expect(reader.atEof()).toBe(true);
    });
  });

  it("readline returns the partial last line at the end of the stream, then an empty array", async () => {
    await run(function* () {
      const reader = new StreamReader();
      reader.feedData(Buffer.from("a\nb"));
      reader.feedEof();
      expect(text(yield* reader.readline())).toBe("a\n");
      expect(text(yield* reader.readline())).toBe("b");
      expect((yield* reader.readline()).length).toBe(0);
    });
  });

  it("readuntil past the limit throws LimitOverrunError with consumed, leaving the bytes in the buffer", async () => {
    await run(function* () {
      const reader = new StreamReader({ limit: 5 });
      reader.feedData(Buffer.from("0123456789\n"));
      const found = (yield* catching(reader.readuntil("\n"))) as LimitOverrunError;
      expect(found).toBeInstanceOf(LimitOverrunError);
      expect(found.message).toBe("Separator is found, but chunk is longer than limit");
      expect(found.consumed).toBe(10);
      expect(reader.bufferedSize).toBe(11);

      const other = new StreamReader({ limit: 5 });
      other.feedData(Buffer.from("0123456789"));
      const notFound = (yield* catching(other.readuntil("\n"))) as LimitOverrunError;
      expect(notFound.message).toBe("Separator is not found, and chunk exceed the limit");
      expect(notFound.consumed).toBe(10);
      expect(other.bufferedSize).toBe(10);
    });
  });

  it("readline drops an overlong line (as asyncio does) so the next line can be read", async () => {
    await run(function* () {
      const reader = new StreamReader({ limit: 4 });
      reader.feedData(Buffer.from("too long line\nok\n"));
      expect(yield* catching(reader.readline())).toBeInstanceOf(LimitOverrunError);
      expect(text(yield* reader.readline())).toBe("ok\n");
    });
  });

  it("readexactly waits for n bytes and throws IncompleteReadError with the partial bytes at the end", async () => {
    await run(function* () {
      const reader = new StreamReader();
      const exact = createTask(reader.readexactly(6));
      reader.feedData(Buffer.from("abc"));
      yield;
      expect(exact.done()).toBe(false);
      reader.feedData(Buffer.from("defg"));
      expect(text(yield* exact)).toBe("abcdef");
      expect(text(yield* reader.readexactly(0))).toBe("");
      reader.feedEof();
      const error = (yield* catching(reader.readexactly(5))) as IncompleteReadError;
      expect(error).toBeInstanceOf(IncompleteReadError);
      expect(text(error.partial)).toBe("g");
      expect(error.expected).toBe(5);
      expect(error.message).toBe("1 bytes read on a total of 5 expected bytes");
    });
  });

  it("setException fails the pending read and every later one", async () => {
    await run(function* () {
      const reader = new StreamReader();
      const pending = createTask(reader.readline());
      yield;
      const reset = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
      reader.setException(reset);
      expect(yield* catching(pending)).toBe(reset);
      expect(yield* catching(reader.read(1))).toBe(reset);
      expect(reader.exception()).toBe(reset);
    });
  });

  it("only one coroutine may wait for data at a time", async () => {
    await run(function* () {
      const reader = new StreamReader();
      const first = createTask(reader.read(1));
      yield;
      const error = yield* catching(reader.readline());
      expect(String(error)).toMatch(/readline\(\) called while another coroutine is already waiting/);
      first.cancel();
      yield* catching(first);
    });
  });

  it("labels its waits, and a read cancelled while waiting leaves the reader usable", async () => {
    await run(function* () {
      const reader = new StreamReader();
      reader.source = "127.0.0.1:6379";
      const waiting = createTask(reader.readexactly(3));
      yield;
      expect(waiting.waitingOn()!.label).toBe("StreamReader.readexactly from 127.0.0.1:6379");
      waiting.cancel();
      expect(yield* catching(waiting)).toBeInstanceOf(CancelledError);
      reader.feedData(Buffer.from("xyz"));
      expect(text(yield* reader.readexactly(3))).toBe("xyz");
    });
  });

  it("a wait's label follows the method and the source, each time", async () => {
    await run(function* () {
      const reader = new StreamReader();
      const labels: (string | undefined)[] = [];
      const waitOnce = function* (read: Coroutine<Uint8Array>) {
        const task = createTask(read);
        yield;
        labels.push(task.waitingOn()!.label);
        reader.feedData(Buffer.from("x\n"));
        yield* task;
      };
      yield* waitOnce(reader.read(10));
      reader.source = "127.0.0.1:1";
      yield* waitOnce(reader.read(10));
      yield* waitOnce(reader.readline());
      reader.source = "[::1]:2";
      yield* waitOnce(reader.readline());
      yield* waitOnce(reader.readuntil("\n"));
      reader.source = "";
      yield* waitOnce(reader.readexactly(2));
      expect(labels).toEqual([
        "StreamReader.read",
        "StreamReader.read from 127.0.0.1:1",
        "StreamReader.readline from 127.0.0.1:1",
        "StreamReader.readline from [::1]:2",
        "StreamReader.readuntil from [::1]:2",
        "StreamReader.readexactly",
      ]);
    });
  });

  it("every read method cancelled at its wait takes no bytes, even when the bytes had already woken it", async () => {
    const methods: [string, (reader: StreamReader) => Coroutine<Uint8Array>][] = [
      ["read(5)", (reader) => reader.read(5)],
      ["readexactly(5)", (reader) => reader.readexactly(5)],
      ["readuntil(';')", (reader) => reader.readuntil(";")],
      ["readline()", (reader) => reader.readline()],
    ];
    for (const [name, call] of methods) {
      await run(function* () {
        const reader = new StreamReader();
        // Cancelled while waiting, after a first chunk that was not enough (except for read).
        const first = createTask(call(reader));
        yield;
        if (name !== "read(5)") {
          reader.feedData(Buffer.from("ab"));
          yield;
          expect(first.done(), name).toBe(false);
        }
        first.cancel();
        expect(yield* catching(first), name).toBeInstanceOf(CancelledError);
        expect(reader.bufferedSize, name).toBe(name === "read(5)" ? 0 : 2);
        // Woken by the bytes, cancelled before it ran: the bytes stay.
        const second = createTask(call(reader));
        yield;
        reader.feedData(Buffer.from("cde;\n"));
        second.cancel();
        expect(yield* catching(second), name).toBeInstanceOf(CancelledError);
        expect(text(yield* reader.read(100)), name).toBe(name === "read(5)" ? "cde;\n" : "abcde;\n");
      });
    }
  });

  it("a read is a coroutine by the generator protocol: return() or throw() at the wait give it up", async () => {
    await run(function* () {
      const reader = new StreamReader();
      const op = reader.readexactly(2);
      const step = op.next();
      expect(step.done).toBe(false);
      expect((step.value as { label?: string }).label).toBe("StreamReader.readexactly");
      expect(op.return(Buffer.from("r"))).toEqual({ done: true, value: Buffer.from("r") });
      expect(op.next()).toEqual({ done: true, value: undefined });
      const thrown = reader.readline();
      thrown.next();
      const boom = new Error("boom");
      expect(() => thrown.throw(boom)).toThrow(boom);
      // Neither left a waiter behind: a new wait is allowed and sees the bytes.
      const later = createTask(reader.readline());
      yield;
      reader.feedData(Buffer.from("xy\n"));
      expect(text(yield* later)).toBe("xy\n");
      // A fresh operation given throw() before it ran throws without touching the reader.
      expect(() => reader.read(1).throw(boom)).toThrow(boom);
    });
  });

  it("a read that cannot wait (outside a task) throws and leaves the reader usable", async () => {
    await run(function* () {
      const reader = new StreamReader();
      let caught: unknown = null;
      // A loop callback runs outside any task: the wait is refused there.
      getRunningLoop().callSoon(() => {
        try {
          reader.read(1).next();
        } catch (error) {
          caught = error;
        }
      });
      yield;
      expect(String(caught)).toMatch(/can only be waited on from a coroutine run by a task/);
      const waiting = createTask(reader.read(1));
      yield;
      reader.feedData(Buffer.from("z"));
      expect(text(yield* waiting)).toBe("z");
    });
  });

  it("a reader woken and not yet resumed does not clear the wait of the one that followed it", async () => {
    await run(function* () {
      const reader = new StreamReader();
      const log: string[] = [];
      const first = createTask(
        (function* () {
          log.push(text(yield* reader.read(1)));
        })(),
      );
      yield;
      reader.feedData(Buffer.from("x"));
      // `first` is woken but has not run: this coroutine now waits for 2 bytes; `first`
      // then takes "x", and "yz" must still wake this wait.
      getRunningLoop().callSoon(() => reader.feedData(Buffer.from("yz")));
      log.push(text(yield* reader.readexactly(2)));
      yield* first;
      expect(log).toEqual(["x", "yz"]);
    });
  });

  it("pauses its transport past twice the limit and resumes it once reads bring it back to the limit", async () => {
    await run(function* () {
      const log: string[] = [];
      const reader = new StreamReader({ limit: 10 });
      reader.setTransport(recordingTransport(log));
      reader.feedData(Buffer.alloc(15));
      reader.feedData(Buffer.alloc(5));
      expect(log).toEqual([]); // 20 is not past 2 × 10
      reader.feedData(Buffer.alloc(1));
      expect(log).toEqual(["pause"]);
      yield* reader.readexactly(10);
      expect(log).toEqual(["pause"]); // 11 left: above the limit
      yield* reader.readexactly(1);
      expect(log).toEqual(["pause", "resume"]);
    });
  });

  it("a read that must wait resumes a paused transport first, so a long separator search cannot deadlock", async () => {
    await run(function* () {
      const log: string[] = [];
      const reader = new StreamReader({ limit: 100 });
      reader.setTransport(recordingTransport(log));
      reader.feedData(Buffer.alloc(201, 97));
      expect(log).toEqual(["pause"]);
      const read = createTask(reader.readexactly(300));
      yield;
      expect(log).toEqual(["pause", "resume"]);
      reader.feedData(Buffer.alloc(99, 98));
      expect((yield* read).length).toBe(300);
    });
  });

  it("feedData after feedEof is an error", async () => {
    await run(function* () {
      const reader = new StreamReader();
      reader.feedEof();
      expect(() => reader.feedData(Buffer.from("x"))).toThrow(/after feedEof/);
      yield;
    });
  });

  it("however the bytes are split into chunks, readuntil returns the same pieces (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom("a", "b", ";", "xy;", ";;"), { maxLength: 30 }),
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 10 }),
        async (parts, cuts) => {
          const input = Buffer.from(parts.join(""));
          const expected = [...input.toString().matchAll(/[^;]*;/g)].map((m) => m[0]);
          const got = await run(function* () {
            const reader = new StreamReader({ limit: 1000 });
            const out: string[] = [];
            const consumer = createTask(
              (function* () {
                for (;;) {
                  try {
                    out.push(text(yield* reader.readuntil(";")));
                  } catch (error) {
                    if (error instanceof IncompleteReadError) return;
                    throw error;
                  }
                }
              })(),
            );
            let at = 0;
            let i = 0;
            while (at < input.length) {
              const size = cuts[i++ % cuts.length]!;
              reader.feedData(input.subarray(at, at + size));
              at += size;
              if (i % 2 === 0) yield;
            }
            reader.feedEof();
            yield* consumer;
            return out;
          });
          expect(got).toEqual(expected);
        },
      ),
      { numRuns: propertyRuns(100) },
    );
  });

  it("however the bytes are split and read, read(n) and readexactly(n) return them in order, whole (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 600 }),
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 10 }),
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 150 })), { minLength: 1, maxLength: 10 }),
        fc.integer({ min: 0, max: 3 }),
        async (length, cuts, reads, feedsPerTurn) => {
          // Distinct neighbours, so that a byte read twice or skipped shows.
          const input = Buffer.from(Array.from({ length }, (_, i) => (i * 7) % 251));
          const got = await run(function* () {
            const reader = new StreamReader({ limit: 100_000 });
            const out: Buffer[] = [];
            const consumer = createTask(
              (function* () {
                for (let i = 0; ; i++) {
                  const [exactly, n] = reads[i % reads.length]!;
                  if (exactly) {
                    try {
                      out.push(Buffer.from(yield* reader.readexactly(n)));
                    } catch (error) {
                      if (!(error instanceof IncompleteReadError)) throw error;
                      out.push(Buffer.from(error.partial));
                      return;
                    }
                  } else {
                    const data = yield* reader.read(n);
                    if (data.length === 0) return;
                    expect(data.length).toBeLessThanOrEqual(n);
                    out.push(Buffer.from(data));
                  }
                }
              })(),
            );
            let at = 0;
            let i = 0;
            // Many chunks can pile up behind the first (feedsPerTurn 0: all before any read).
            while (at < input.length) {
              const size = cuts[i++ % cuts.length]!;
              reader.feedData(Buffer.from(input.subarray(at, at + size)));
              at += size;
              if (feedsPerTurn > 0 && i % feedsPerTurn === 0) yield;
            }
            reader.feedEof();
            yield* consumer;
            expect(reader.bufferedSize).toBe(0);
            return Buffer.concat(out);
          });
          expect(got.equals(input)).toBe(true);
        },
      ),
      { numRuns: propertyRuns(200) },
    );
  });
});


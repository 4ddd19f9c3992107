/**
 * One connection's read–run–write loop, with a recording writer: how replies are batched
 * into writes and when the session waits for `drain()`.
 */
import { describe, expect, it } from "vitest";
import { createTask, run, type Coroutine } from "@loop/core";
import { StreamReader, type StreamWriter } from "@loop/net";
import { latin1 } from "../src/kv/bytes.js";
import { Keyspace } from "../src/kv/keyspace.js";
import { NORMAL_OUTPUT_LIMIT, PUBSUB_OUTPUT_LIMIT } from "../src/kv/output-limit.js";
import { PubSub } from "../src/kv/pubsub.js";
import { parseReplies } from "../src/kv/reply-parser.js";
import { defaultRespLimits } from "../src/kv/resp-parser.js";
import { concat, encodeCommand } from "../src/kv/resp-writer.js";
import { Session, type SessionHost } from "../src/kv/session.js";

/** Stands in for a StreamWriter: logs each write (with its size) and each drain. */
class RecordingWriter {
  readonly log: string[] = [];
  readonly writes: Uint8Array[] = [];
  closed = false;
  readonly transport = { abort: (): void => void this.log.push("abort"), isClosing: (): boolean => this.closed, getWriteBufferSize: (): number => 0 };
  write(data: Uint8Array): void {
    this.writelines([data]);
  }
  writelines(list: Iterable<Uint8Array>): void {
    const bytes = concat([...list]);
    this.writes.push(bytes);
    this.log.push(`write ${bytes.length}`);
  }
  *drain(): Coroutine<void> {
    this.log.push("drain");
  }
  close(): void {
    this.closed = true;
  }
}

function host(): SessionHost {
  return {
    keyspace: new Keyspace(() => 0),
    pubsub: new PubSub(),
    limits: defaultRespLimits,
    subscriberQueueSize: 16,
    outputLimits: { normal: NORMAL_OUTPUT_LIMIT, pubsub: PUBSUB_OUTPUT_LIMIT },
    draining: false,
    stats: { commandsProcessed: 0, protocolErrors: 0 },
    log: () => {},
  };
}

/**
 * Serves one connection whose socket delivers `reads`, one chunk at a time: each is fed
 * a few loop turns after the previous one, so the session reads it on its own (as it
 * would read one packet), then the stream ends.
 */
function serve(reads: readonly Uint8Array[], h = host()): Promise<{ writer: RecordingWriter; host: SessionHost }> {
  return run(function* () {
    const reader = new StreamReader();
    const writer = new RecordingWriter();
    const session = new Session(h, 1, reader, writer as unknown as StreamWriter, null);
    const feeding = createTask(
      (function* () {
        for (const chunk of reads) {
          reader.feedData(chunk);
          for (let turn = 0; turn < 3; turn++) yield;
        }
        reader.feedEof();
      })(),
    );
    yield* session.serve();
    yield* feeding;
    return { writer, host: h };
  });
}

const cmd = (...args: string[]): Uint8Array => encodeCommand(args);

describe("Session", () => {
  it("answers a pipelined batch with one write, then drains", async () => {
    const batch = concat(Array.from({ length: 16 }, (_, i) => cmd("SET", `k${i}`, "v")));
    const { writer } = await serve([batch]);
    expect(writer.log).toEqual([`write ${"+OK\r\n".length * 16}`, "drain"]);
    expect(writer.closed).toBe(true);
  });

  it("writes a huge batch in slices of about 64 KiB, draining before running more commands", async () => {
    const h = host();
    h.keyspace.set("big", new Uint8Array(10_000).fill(98));
    const gets = concat(Array.from({ length: 100 }, () => cmd("GET", "big")));
    const { writer } = await serve([gets], h);
    const writes = writer.log.filter((e) => e.startsWith("write"));
    expect(writes.length).toBeGreaterThan(10);
    // Every write is followed by a drain before the next write.
    for (let i = 0; i < writer.log.length; i += 2) {
      expect(writer.log[i]).toMatch(/^write /);
      expect(writer.log[i + 1]).toBe("drain");
    }
    for (const w of writer.writes.slice(0, -1)) expect(w.length).toBeGreaterThanOrEqual(64 * 1024);
    expect(parseReplies(concat(writer.writes))).toHaveLength(100);
  });

  it("stops at QUIT: later commands in the same batch do not run", async () => {
    const { writer, host: h } = await serve([concat([cmd("QUIT"), cmd("SET", "a", "b")])]);
    expect(writer.writes.map(latin1)).toEqual(["+OK\r\n"]);
    expect(h.keyspace.size).toBe(0);
    expect(writer.closed).toBe(true);
  });

  it("on a protocol error answers what came before, then the error, and stops", async () => {
    const { writer, host: h } = await serve([concat([cmd("SET", "a", "1"), new TextEncoder().encode("*1\r\n$zz\r\n"), cmd("SET", "b", "2")])]);
    expect(latin1(concat(writer.writes))).toBe("+OK\r\n-ERR Protocol error: invalid bulk length\r\n");
    expect(h.keyspace.has("b")).toBe(false);
    expect(h.stats.protocolErrors).toBe(1);
  });

  it("a command split across reads runs once the last piece arrives; each read's replies are one write", async () => {
    const whole = cmd("SET", "key", "value");
    const { writer, host: h } = await serve([whole.subarray(0, 7), whole.subarray(7, 20), concat([whole.subarray(20), cmd("PING")]), cmd("PING")]);
    expect(writer.writes.map(latin1)).toEqual(["+OK\r\n+PONG\r\n", "+PONG\r\n"]);
    expect(latin1(h.keyspace.get("key")!)).toBe("value");
  });

  it("leaves without reading when the server is draining", async () => {
    const h = { ...host(), draining: true };
    const { writer } = await serve([cmd("SET", "a", "b")], h);
    expect(writer.log).toEqual([]);
    expect(h.keyspace.size).toBe(0);
    expect(writer.closed).toBe(true);
  });
});

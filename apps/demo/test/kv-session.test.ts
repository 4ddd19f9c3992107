/**
 * One connection's protocol, with a recording transport: how replies are batched into
 * writes, and what happens while the transport's write buffer is past its high-water mark.
 */
import { describe, expect, it } from "vitest";
import { run, type Transport } from "@loop/core";
import { latin1 } from "../src/kv/bytes.js";
import { Keyspace } from "../src/kv/keyspace.js";
import { NORMAL_OUTPUT_LIMIT, PUBSUB_OUTPUT_LIMIT } from "../src/kv/output-limit.js";
import { PubSub } from "../src/kv/pubsub.js";
import { parseReplies } from "../src/kv/reply-parser.js";
import { defaultRespLimits } from "../src/kv/resp-parser.js";
import { concat, encodeCommand } from "../src/kv/resp-writer.js";
import { Session, type SessionHost } from "../src/kv/session.js";

/**
 * Stands in for a socket's transport: logs each write (with its size), pause and close.
 * With `pauses`, every write takes it past its high-water mark, as a real transport then
 * calls the protocol's `pauseWriting()`.
 */
class RecordingTransport {
  readonly log: string[] = [];
  readonly writes: Uint8Array[] = [];
  closed = false;
  session: Session | null = null;
  constructor(private readonly pauses = false) {}
  write(data: Uint8Array): void {
    this.writelines([data]);
  }
  writelines(list: Iterable<Uint8Array>): void {
    const bytes = concat([...list]);
    this.writes.push(bytes);
    this.log.push(`write ${bytes.length}`);
    if (this.pauses) this.session?.pauseWriting();
  }
  pauseReading(): void {
    this.log.push("pauseReading");
  }
  resumeReading(): void {
    this.log.push("resumeReading");
  }
  close(): void {
    this.closed = true;
    this.log.push("close");
  }
  abort(): void {
    this.log.push("abort");
  }
  isClosing(): boolean {
    return this.closed;
  }
  getWriteBufferSize(): number {
    return 0;
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
 * Serves one connection whose socket delivers `reads`, one `dataReceived` each, then the
 * end of the stream; with `pauses`, the socket catches up (`resumeWriting`) whenever the
 * session paused reading, until it stops asking.
 */
function serve(reads: readonly Uint8Array[], h = host(), pauses = false): Promise<{ transport: RecordingTransport; host: SessionHost }> {
  return run(function* () {
    const transport = new RecordingTransport(pauses);
    const session = new Session(h, 1);
    transport.session = session;
    session.connectionMade(transport as unknown as Transport);
    const catchUp = (): void => {
      while (transport.log.at(-1) === "pauseReading") session.resumeWriting();
    };
    for (const chunk of reads) {
      session.dataReceived(chunk);
      catchUp();
    }
    if (session.eofReceived() !== true) throw new Error("the session must keep the transport open until it closes it");
    catchUp();
    yield;
    return { transport, host: h };
  });
}

const cmd = (...args: string[]): Uint8Array => encodeCommand(args);

describe("Session", () => {
  it("answers a pipelined batch with one write, and closes at the end of the stream", async () => {
    const batch = concat(Array.from({ length: 16 }, (_, i) => cmd("SET", `k${i}`, "v")));
    const { transport } = await serve([batch]);
    expect(transport.log).toEqual([`write ${"+OK\r\n".length * 16}`, "close"]);
  });

  it("writes a huge batch in slices of about 64 KiB, running nothing more until the socket catches up", async () => {
    const h = host();
    h.keyspace.set("big", new Uint8Array(10_000).fill(98));
    const gets = concat(Array.from({ length: 100 }, () => cmd("GET", "big")));
    const { transport } = await serve([gets], h, true);
    const writes = transport.log.filter((e) => e.startsWith("write"));
    expect(writes.length).toBeGreaterThan(10);
    // After each write the session stops reading, and goes on only once writing resumes.
    expect(transport.log).toEqual([...writes.flatMap((w) => [w, "pauseReading", "resumeReading"]), "close"]);
    for (const w of transport.writes.slice(0, -1)) expect(w.length).toBeGreaterThanOrEqual(64 * 1024);
    expect(parseReplies(concat(transport.writes))).toHaveLength(100);
    expect(transport.closed).toBe(true);
  });

  it("runs what came before the end of the stream even while the socket is behind, then closes", async () => {
    const h = host();
    h.keyspace.set("big", new Uint8Array(10_000).fill(98));
    const batch = concat([...Array.from({ length: 20 }, () => cmd("GET", "big")), cmd("SET", "last", "1")]);
    const { transport } = await serve([batch], h, true);
    expect(parseReplies(concat(transport.writes))).toHaveLength(21);
    expect(latin1(h.keyspace.get("last")!)).toBe("1");
    expect(transport.log.at(-1)).toBe("close");
  });

  it("stops at QUIT: later commands in the same batch do not run", async () => {
    const { transport, host: h } = await serve([concat([cmd("QUIT"), cmd("SET", "a", "b")])]);
    expect(transport.writes.map(latin1)).toEqual(["+OK\r\n"]);
    expect(h.keyspace.size).toBe(0);
    expect(transport.closed).toBe(true);
  });

  it("on a protocol error answers what came before, then the error, and stops", async () => {
    const { transport, host: h } = await serve([concat([cmd("SET", "a", "1"), new TextEncoder().encode("*1\r\n$zz\r\n"), cmd("SET", "b", "2")])]);
    expect(latin1(concat(transport.writes))).toBe("+OK\r\n-ERR Protocol error: invalid bulk length\r\n");
    expect(h.keyspace.has("b")).toBe(false);
    expect(h.stats.protocolErrors).toBe(1);
    expect(transport.closed).toBe(true);
  });

  it("a command split across reads runs once the last piece arrives; each read's replies are one write", async () => {
    const whole = cmd("SET", "key", "value");
    const { transport, host: h } = await serve([whole.subarray(0, 7), whole.subarray(7, 20), concat([whole.subarray(20), cmd("PING")]), cmd("PING")]);
    expect(transport.writes.map(latin1)).toEqual(["+OK\r\n+PONG\r\n", "+PONG\r\n"]);
    expect(latin1(h.keyspace.get("key")!)).toBe("value");
  });

  it("closes without running anything when the server is draining", async () => {
    const h = { ...host(), draining: true };
    const { transport } = await serve([cmd("SET", "a", "b")], h);
    expect(transport.log).toEqual(["close"]);
    expect(h.keyspace.size).toBe(0);
  });
});

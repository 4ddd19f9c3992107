/**
 * The server on real loopback sockets, driven with raw `node:net` sockets: malformed,
 * oversized and truncated frames, inline commands, a large pipeline. Whatever a client
 * sends, it gets an error reply (or a closed connection), and the server keeps serving.
 * Everything runs on Node's sockets and again on @loop/selector's raw sockets.
 */
import { connect, type Socket } from "node:net";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureFuture, run } from "@loop/core";
import { SelectorPoller } from "@loop/selector";
import { INCOMPLETE, parseReplies, ReplyError, ReplyParser, type RespValue } from "../src/kv/reply-parser.js";
import { concat, encodeCommand } from "../src/kv/resp-writer.js";
import { startKvServer, type KvServer, type KvServerOptions } from "../src/kv/server.js";

/** Runs `body` against a fresh server on 127.0.0.1, port 0; shuts the server down after. */
function withServer(options: KvServerOptions, body: (port: number, server: KvServer) => Promise<void>): Promise<void> {
  return run(function* () {
    const server = yield* startKvServer({ ...options, port: 0 });
    try {
      yield* ensureFuture(body(server.port, server));
    } finally {
      yield* server.shutdown();
    }
  }, { poller: poller === "selector" ? new SelectorPoller() : undefined });
}

interface Exchange {
  /** Everything the server sent. */
  data: Buffer;
  /** The replies in `data`. */
  replies: RespValue[];
  /** True if the server closed the connection (we never close first unless `end` is set). */
  closed: boolean;
}

/**
 * Connects, writes `chunks` one `write` each, optionally half-closes, and collects what
 * comes back until the server closes the connection or `replies` complete replies came.
 */
function exchange(port: number, chunks: readonly (string | Uint8Array)[], opts: { end?: boolean; replies?: number } = {}): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, "127.0.0.1");
    const received: Buffer[] = [];
    const parser = new ReplyParser();
    const replies: RespValue[] = [];
    let settled = false;
    const finish = (closed: boolean): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve({ data: Buffer.concat(received), replies, closed });
    };
    socket.on("connect", () => {
      for (const chunk of chunks) socket.write(chunk);
      if (opts.end === true) socket.end();
    });
    socket.on("data", (data) => {
      received.push(data);
      parser.feed(data);
      for (let r = parser.next(); r !== INCOMPLETE; r = parser.next()) replies.push(r);
      if (opts.replies !== undefined && replies.length >= opts.replies) finish(false);
    });
    socket.on("close", () => finish(true));
    socket.on("error", (error) => {
      if (!settled) reject(error);
    });
  });
}

const command = (...args: string[]): Uint8Array => encodeCommand(args);
const u8 = (text: string): Uint8Array => new TextEncoder().encode(text);

/** The server still answers a fresh connection. */
async function stillServing(port: number): Promise<void> {
  const { data } = await exchange(port, [command("PING")], { replies: 1 });
  expect(data.toString()).toBe("+PONG\r\n");
}

/** Which poller `withServer` runs the server on: each group of tests below runs on both. */
let poller: "node" | "selector" = "node";

describe.each(["node", "selector"] as const)("on the %s poller", (name) => {
  beforeAll(() => {
    poller = name;
  });

  describe("malformed input gets an error reply and a closed connection, never a crash", () => {
    const cases: [string, string, string][] = [
      ["a bad bulk length", "*1\r\n$x\r\n", "-ERR Protocol error: invalid bulk length\r\n"],
      ["a negative bulk length", "*1\r\n$-5\r\n", "-ERR Protocol error: invalid bulk length\r\n"],
      ["a bad multibulk count", "*abc\r\n", "-ERR Protocol error: invalid multibulk length\r\n"],
      ["a missing '$'", "*1\r\n+PING\r\n", "-ERR Protocol error: expected '$', got '+'\r\n"],
      ["no CRLF after a bulk string", "*1\r\n$4\r\nPINGPONG", "-ERR Protocol error: expected CRLF after a bulk string\r\n"],
      ["unbalanced quotes inline", 'SET k "oops\r\n', "-ERR Protocol error: unbalanced quotes in request\r\n"],
    ];
    it.each(cases)("%s", async (_what, input, expected) => {
      await withServer({}, async (port, server) => {
        const { data, closed } = await exchange(port, [input]);
        expect(data.toString()).toBe(expected);
        expect(closed).toBe(true);
        expect(server.stats.protocolErrors).toBe(1);
        await stillServing(port);
      });
    });

    it("answers the commands before the bad frame, then the error", async () => {
      await withServer({}, async (port) => {
        const { data, closed } = await exchange(port, [Buffer.concat([command("SET", "k", "v"), command("GET", "k"), Buffer.from("*1\r\n$?\r\n"), command("PING")])]);
        expect(parseReplies(data)).toEqual(["OK", u8("v"), new ReplyError("ERR Protocol error: invalid bulk length")]);
        expect(closed).toBe(true);
      });
    });

    it("binary junk on a line is an unknown (inline) command: an error reply, the connection stays open", async () => {
      await withServer({}, async (port) => {
        const junk = Buffer.from([0x01, 0xfe, 0x20, 0x7f, 0x0a]);
        const { data, closed } = await exchange(port, [junk, command("PING")], { replies: 2 });
        const [first, second] = parseReplies(data);
        expect(first).toBeInstanceOf(ReplyError);
        expect((first as ReplyError).message.startsWith("ERR unknown command '\x01\xfe'")).toBe(true);
        expect(second).toBe("PONG");
        expect(closed).toBe(false);
      });
    });

    it("a line that never ends is cut off at the inline limit", async () => {
      await withServer({ limits: { maxInlineLength: 1024 } }, async (port) => {
        const { data, closed } = await exchange(port, ["x".repeat(4096)]);
        expect(data.toString()).toBe("-ERR Protocol error: too big inline request\r\n");
        expect(closed).toBe(true);
      });
    });
  });

  describe("oversized bulk strings", () => {
    it("a length over Redis's 512 MiB is refused from the header alone", async () => {
      await withServer({}, async (port) => {
        const { data, closed } = await exchange(port, ["*2\r\n$4\r\nECHO\r\n$536870913\r\n"]);
        expect(data.toString()).toBe("-ERR Protocol error: invalid bulk length\r\n");
        expect(closed).toBe(true);
      });
    });

    it("the limit is configurable, and a bulk at the limit is fine", async () => {
      await withServer({ limits: { maxBulkLength: 1024 } }, async (port) => {
        const ok = await exchange(port, [command("ECHO", "y".repeat(1024))], { replies: 1 });
        expect(parseReplies(ok.data)).toEqual([u8("y".repeat(1024))]);
        const tooBig = await exchange(port, [command("ECHO", "y".repeat(1025))]);
        expect(tooBig.data.toString()).toBe("-ERR Protocol error: invalid bulk length\r\n");
        expect(tooBig.closed).toBe(true);
      });
    });

    it("too many arguments are refused", async () => {
      await withServer({ limits: { maxArrayLength: 8 } }, async (port) => {
        const { data } = await exchange(port, ["*9\r\n"]);
        expect(data.toString()).toBe("-ERR Protocol error: invalid multibulk length\r\n");
      });
    });
  });

  describe("truncated frames", () => {
    it("a frame cut off by the end of the stream gets no reply; the connection closes", async () => {
      await withServer({}, async (port, server) => {
        const { data, closed } = await exchange(port, ["*2\r\n$3\r\nGET\r\n$3\r\nke"], { end: true });
        expect(data.length).toBe(0);
        expect(closed).toBe(true);
        expect(server.stats.commandsProcessed).toBe(0);
        await stillServing(port);
      });
    });

    it("a frame split over many writes is reassembled", async () => {
      await withServer({}, async (port) => {
        const whole = Buffer.concat([command("SET", "split", "value"), command("GET", "split")]);
        const pieces = [...whole].map((b) => Buffer.from([b]));
        const { data } = await exchange(port, pieces, { replies: 2 });
        expect(parseReplies(data)).toEqual(["OK", u8("value")]);
      });
    });

    it("a client that leaves in the middle of a large bulk string costs nothing", async () => {
      await withServer({}, async (port) => {
        const { data, closed } = await exchange(port, ["*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000\r\n", "z".repeat(50_000)], { end: true });
        expect(data.length).toBe(0);
        expect(closed).toBe(true);
        await stillServing(port);
      });
    });
  });

  describe("inline commands (telnet style)", () => {
    it("are parsed with Redis's quoting rules and answered in RESP", async () => {
      await withServer({}, async (port) => {
        const { data } = await exchange(port, ["PING\r\n", `SET "a key" 'it\\'s'\r\n`, 'GET "a key"\n', "  \r\n", "ECHO \"\\x41\\tB\"\r\n"], {
          replies: 4,
        });
        expect(data.toString()).toBe("+PONG\r\n+OK\r\n$4\r\nit's\r\n$3\r\nA\tB\r\n");
      });
    });
  });

  describe("pipelining", () => {
    it("answers 1000 commands sent in one write, in order", async () => {
      await withServer({}, async (port) => {
        const batch: Uint8Array[] = [];
        for (let i = 0; i < 500; i++) batch.push(command("SET", `key:${i}`, `v${i}`), command("INCR", "counter"));
        const { replies: got } = await exchange(port, [concat(batch)], { replies: 1000 });
        const expected: RespValue[] = [];
        for (let i = 0; i < 500; i++) expected.push("OK", i + 1);
        expect(got).toEqual(expected);
      });
    });

    it("streams back a pipeline whose replies are far larger than any buffer", async () => {
      await withServer({}, async (port) => {
        const value = "v".repeat(100_000);
        const gets = Array.from({ length: 200 }, () => command("GET", "big"));
        const { replies: got } = await exchange(port, [command("SET", "big", value), concat(gets)], { replies: 201 });
        expect(got).toHaveLength(201);
        expect(got.slice(1).every((r) => r instanceof Uint8Array && r.length === 100_000)).toBe(true);
      });
    });

    it("a client that half-closes after such a pipeline still gets every reply, then the close", async () => {
      await withServer({}, async (port) => {
        const value = "v".repeat(100_000);
        const gets = Array.from({ length: 200 }, () => command("GET", "big"));
        // The end of the stream arrives while the server waits for the socket to drain.
        const { replies: got, closed } = await exchange(port, [command("SET", "big", value), concat(gets), command("DBSIZE")], { end: true });
        expect(got).toHaveLength(202);
        expect(got.at(-1)).toBe(1);
        expect(closed).toBe(true);
      });
    });
  });

  describe("fuzzing", () => {
    it("random bytes never crash the server (property)", async () => {
      await withServer({ limits: { maxBulkLength: 4096, maxInlineLength: 4096 } }, async (port, server) => {
        const chunk = fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          fc.constantFrom("*", "$", "\r\n", "*2\r\n", "$3\r\n", "PING\r\n", "*1\r\n$4\r\nPING\r\n", "$-1\r\n", "*-1\r\n").map((s) => Buffer.from(s)),
        );
        await fc.assert(
          fc.asyncProperty(fc.array(chunk, { minLength: 1, maxLength: 10 }), async (chunks) => {
            // Half-close after the junk: the server answers what it can, then closes.
            const { closed } = await exchange(port, chunks, { end: true });
            expect(closed).toBe(true);
          }),
          { numRuns: 40 },
        );
        await stillServing(port);
        expect(server.stats.connectionsAccepted).toBeGreaterThanOrEqual(41);
      });
    });
  });
});

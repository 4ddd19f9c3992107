/**
 * The server over `@loop/testing`'s in-memory network on virtual time: expiry, pub/sub,
 * slow subscribers and graceful shutdown, deterministic to the millisecond.
 */
import { describe, expect, it } from "vitest";
import { createTask, getRunningLoop, type Coroutine } from "@loop/core";
import { openConnection } from "@loop/net";
import { MemoryNetwork, runVirtual } from "@loop/testing";
import { sleep } from "@loop/timers";
import { latin1 } from "../src/kv/bytes.js";
import { KvClient } from "../src/kv/client.js";
import { ReplyError, type RespValue } from "../src/kv/reply-parser.js";
import { startKvServer, type KvServer, type KvServerOptions } from "../src/kv/server.js";

const HOST = "localhost";

/** Runs `body` with a server on the in-memory network, on virtual time; shuts it down after. */
function virtual<T>(options: KvServerOptions, body: (server: KvServer) => Coroutine<T>): Promise<T> {
  return runVirtual(
    function* () {
      const server = yield* startKvServer({ ...options, host: HOST, port: 0 });
      try {
        return yield* body(server);
      } finally {
        yield* server.shutdown();
      }
    },
    { net: new MemoryNetwork() },
  );
}

const now = (): number => getRunningLoop().time();
const text = (v: RespValue): RespValue => (v instanceof Uint8Array ? latin1(v) : Array.isArray(v) ? v.map(text) : v);

/** Gives the loop turns until `condition` holds (bounded, so a bug fails instead of hanging). */
function* until(condition: () => boolean): Coroutine<void> {
  for (let turn = 0; !condition(); turn++) {
    if (turn > 100_000) throw new Error("condition never became true");
    yield;
  }
}

describe("expiry on the loop clock", () => {
  it("a key with EX lives exactly its time, then is gone", async () => {
    const seen = await virtual({}, function* (server) {
      const c = yield* KvClient.connect(HOST, server.port);
      yield* c.call("SET", "k", "v", "EX", "10");
      const deadline = now() + 10_000;
      const log: RespValue[] = [];
      yield* sleep(deadline - now() - 1);
      log.push(text(yield* c.call("GET", "k")), yield* c.call("TTL", "k"));
      yield* sleep(deadline - now());
      log.push(text(yield* c.call("GET", "k")), yield* c.call("TTL", "k"));
      yield* c.close();
      return log;
    });
    expect(seen).toEqual(["v", 0, null, -2]);
  });

  it("the sweep task removes expired keys that nobody reads", async () => {
    const result = await virtual({ sweepIntervalMs: 100 }, function* (server) {
      const c = yield* KvClient.connect(HOST, server.port);
      for (let i = 0; i < 50; i++) yield* c.call("SET", `temp:${i}`, "x", "PX", "1000");
      yield* c.call("SET", "keep", "x");
      const sizeBefore = server.keyspace.size;
      yield* sleep(1200);
      const sizeAfter = server.keyspace.size;
      yield* c.close();
      return { sizeBefore, sizeAfter, expired: server.keyspace.expiredCount };
    });
    expect(result).toEqual({ sizeBefore: 51, sizeAfter: 1, expired: 50 });
  });

  it("EXPIRE then TTL counts down with the clock", async () => {
    const ttls = await virtual({}, function* (server) {
      const c = yield* KvClient.connect(HOST, server.port);
      yield* c.call("SET", "k", "v");
      yield* c.call("EXPIRE", "k", "60");
      const out: RespValue[] = [];
      for (let i = 0; i < 3; i++) {
        out.push(yield* c.call("TTL", "k"));
        yield* sleep(20_000);
      }
      out.push(yield* c.call("TTL", "k"));
      yield* c.close();
      return out;
    });
    expect(ttls).toEqual([60, 40, 20, -2]);
  });
});

describe("publish / subscribe over connections", () => {
  it("subscribers get every message in order; PUBLISH counts them", async () => {
    const result = await virtual({}, function* (server) {
      const publisher = yield* KvClient.connect(HOST, server.port);
      const a = yield* KvClient.connect(HOST, server.port);
      const b = yield* KvClient.connect(HOST, server.port);
      yield* a.call("SUBSCRIBE", "news");
      yield* b.call("SUBSCRIBE", "news", "sport");
      const secondConfirmation = text(yield* b.nextReply());
      const counts: RespValue[] = [];
      for (const m of ["one", "two", "three"]) counts.push(yield* publisher.call("PUBLISH", "news", m));
      counts.push(yield* publisher.call("PUBLISH", "sport", "goal"));
      const got = (client: KvClient, n: number): Coroutine<RespValue[]> =>
        (function* () {
          const messages: RespValue[] = [];
          for (let i = 0; i < n; i++) messages.push(text(yield* client.nextReply()));
          return messages;
        })();
      const toA = yield* got(a, 3);
      const toB = yield* got(b, 4);
      for (const c of [publisher, a, b]) yield* c.close();
      return { counts, toA, toB, secondConfirmation };
    });
    expect(result.secondConfirmation).toEqual(["subscribe", "sport", 2]);
    expect(result.counts).toEqual([2, 2, 2, 1]);
    expect(result.toA).toEqual([
      ["message", "news", "one"],
      ["message", "news", "two"],
      ["message", "news", "three"],
    ]);
    expect(result.toB.at(-1)).toEqual(["message", "sport", "goal"]);
  });

  it("a message published before UNSUBSCRIBE arrives before its confirmation", async () => {
    const replies = await virtual({}, function* (server) {
      const publisher = yield* KvClient.connect(HOST, server.port);
      const sub = yield* KvClient.connect(HOST, server.port);
      yield* sub.call("SUBSCRIBE", "ch");
      yield* publisher.call("PUBLISH", "ch", "last words");
      const out = [text(yield* sub.command("UNSUBSCRIBE"))];
      out.push(text(yield* sub.command("GET", "x")));
      yield* publisher.close();
      yield* sub.close();
      return out;
    });
    // `command` returns the next reply, which is the message; the confirmation follows.
    expect(replies[0]).toEqual(["message", "ch", "last words"]);
    expect(replies[1]).toEqual(["unsubscribe", "ch", 0]);
  });

  it("a subscriber that stops reading is disconnected once its queue is full, and memory stays bounded", async () => {
    const result = await virtual({ subscriberQueueSize: 8 }, function* (server) {
      const publisher = yield* KvClient.connect(HOST, server.port);
      // A raw subscriber that never reads: its reader pauses the socket once it buffered
      // twice its limit, then the network window fills, then the server's queue.
      const [reader, writer] = yield* openConnection(HOST, server.port, { limit: 1024 });
      writer.write("SUBSCRIBE firehose\r\n");
      yield* until(() => server.pubsub.subscriberCount("firehose") === 1);
      const message = "m".repeat(4096);
      let publishes = 0;
      let receivers: RespValue = 1;
      while (receivers === 1) {
        receivers = yield* publisher.call("PUBLISH", "firehose", message);
        publishes++;
        if (publishes > 1000) throw new Error("the slow subscriber was never dropped");
      }
      // Its connection is closed by the server: reading ends in an error or the end of stream.
      let ended: string;
      try {
        while ((yield* reader.read(65_536)).length > 0);
        ended = "end of stream";
      } catch (error) {
        ended = (error as { code?: string }).code ?? String(error);
      }
      const afterwards = yield* publisher.call("PUBLISH", "firehose", message);
      yield* publisher.close();
      return { publishes, dropped: server.pubsub.droppedCount, ended, afterwards };
    });
    expect(result.dropped).toBe(1);
    expect(result.ended).toMatch(/end of stream|ECONNRESET/);
    expect(result.afterwards).toBe(0);
    // Bounded: the queue (8), the network window and the reader's buffer, not thousands.
    expect(result.publishes).toBeLessThan(100);
  });

  /** A subscriber that never reads; publishes `size`-byte messages until it is dropped. */
  function* publishUntilDropped(server: KvServer, size: number, between?: () => Coroutine<void>): Coroutine<number> {
    const publisher = yield* KvClient.connect(HOST, server.port);
    const [, writer] = yield* openConnection(HOST, server.port, { limit: 1024 });
    writer.write("SUBSCRIBE firehose\r\n");
    yield* until(() => server.pubsub.subscriberCount("firehose") === 1);
    const message = "m".repeat(size);
    let publishes = 0;
    while ((yield* publisher.call("PUBLISH", "firehose", message)) === 1) {
      if (++publishes > 1000) throw new Error("the slow subscriber was never dropped");
      if (between !== undefined) yield* between();
    }
    yield* publisher.close();
    writer.close();
    return publishes;
  }

  it("a slow subscriber is dropped by bytes, at its hard output limit, whatever the message count allows", async () => {
    const limits = { pubsub: { hardBytes: 256 * 1024, softBytes: 0, softSeconds: 0 } };
    const [big, small] = await Promise.all([
      virtual({ subscriberQueueSize: 100_000, outputBufferLimits: limits }, (server) => publishUntilDropped(server, 64 * 1024)),
      virtual({ subscriberQueueSize: 100_000, outputBufferLimits: limits }, (server) => publishUntilDropped(server, 4 * 1024)),
    ]);
    // 256 KiB of pending output is 4 messages of 64 KiB and 64 of 4 KiB, plus what the
    // network window and the reader took: the count follows the bytes.
    expect(big).toBeLessThan(16);
    expect(small).toBeGreaterThan(4 * big);
  });

  it("above the soft limit for its whole time, a subscriber is dropped; below it, never", async () => {
    const limits = { pubsub: { hardBytes: 0, softBytes: 64 * 1024, softSeconds: 10 } };
    const result = await virtual({ subscriberQueueSize: 100_000, outputBufferLimits: limits }, function* (server) {
      const start = now();
      const publishes = yield* publishUntilDropped(server, 16 * 1024, () => sleep(1000));
      return { publishes, elapsed: now() - start };
    });
    // Dropped at the first publish 10 s after the output first reached 64 KiB.
    expect(result.elapsed).toBeGreaterThanOrEqual(10_000);
    expect(result.elapsed).toBeLessThan(30_000);
  });

  it("an ordinary client over its hard output limit is disconnected", async () => {
    const result = await virtual({ outputBufferLimits: { normal: { hardBytes: 64 * 1024 } } }, function* (server) {
      const setter = yield* KvClient.connect(HOST, server.port);
      yield* setter.call("SET", "big", "v".repeat(32 * 1024));
      // Pipelines GETs of 32 KiB and never reads the replies.
      const [reader, writer] = yield* openConnection(HOST, server.port, { limit: 1024 });
      let written = 0;
      while (server.connections === 2 && written < 10_000) {
        writer.write("GET big\r\n".repeat(16));
        written += 16;
        yield* sleep(1);
      }
      let ended = "still connected";
      if (server.connections < 2) {
        try {
          while ((yield* reader.read(65_536)).length > 0);
          ended = "end of stream";
        } catch (error) {
          ended = (error as { code?: string }).code ?? String(error);
        }
      }
      const connections = server.connections;
      yield* setter.close();
      return { connections, ended, written };
    });
    expect(result.connections).toBe(1); // the setter's
    expect(result.written).toBeLessThan(10_000);
    expect(result.ended).toMatch(/end of stream|ECONNRESET/);
  });

  it("a fast subscriber next to a slow one keeps receiving", async () => {
    const result = await virtual({ subscriberQueueSize: 4 }, function* (server) {
      const publisher = yield* KvClient.connect(HOST, server.port);
      const fast = yield* KvClient.connect(HOST, server.port);
      yield* fast.call("SUBSCRIBE", "ch");
      const [, slowWriter] = yield* openConnection(HOST, server.port, { limit: 1024 });
      slowWriter.write("SUBSCRIBE ch\r\n");
      yield* until(() => server.pubsub.subscriberCount("ch") === 2);
      let received = 0;
      const reading = createTask(
        (function* () {
          for (;;) {
            yield* fast.nextReply();
            received++;
          }
        })(),
      );
      for (let i = 0; i < 200; i++) yield* publisher.call("PUBLISH", "ch", "x".repeat(4096));
      yield* until(() => received === 200);
      reading.cancel();
      yield* publisher.close();
      return { received, dropped: server.pubsub.droppedCount };
    });
    expect(result).toEqual({ received: 200, dropped: 1 });
  });
});

describe("graceful shutdown", () => {
  it("stops accepting, closes idle connections, and returns", async () => {
    const result = await runVirtual(
      function* () {
        const server = yield* startKvServer({ host: HOST, port: 0 });
        const port = server.port;
        const clients = [yield* KvClient.connect(HOST, port), yield* KvClient.connect(HOST, port)];
        yield* clients[0]!.call("PING");
        yield* server.shutdown();
        const outcomes: string[] = [];
        for (const c of clients) {
          try {
            yield* c.command("PING");
            outcomes.push("answered");
          } catch (error) {
            outcomes.push((error as Error).message);
          }
        }
        try {
          yield* openConnection(HOST, port);
          outcomes.push("connected");
        } catch (error) {
          outcomes.push((error as { code?: string }).code ?? String(error));
        }
        return { outcomes, open: server.connections };
      },
      { net: new MemoryNetwork() },
    );
    expect(result.outcomes[0]).toMatch(/closed the connection|ECONNRESET|EPIPE/);
    expect(result.outcomes[1]).toMatch(/closed the connection|ECONNRESET|EPIPE/);
    expect(result.outcomes[2]).toBe("ECONNREFUSED");
    expect(result.open).toBe(0);
  });

  it("lets a connection finish the batch it is running: every reply is delivered before the close", async () => {
    const result = await runVirtual(
      function* () {
        const server = yield* startKvServer({ host: HOST, port: 0 });
        const setup = yield* KvClient.connect(HOST, server.port);
        yield* setup.call("SET", "big", "b".repeat(100_000));
        yield* setup.close();
        // 50 GETs of 100 kB in one write: 5 MB of replies, far more than the network
        // window, so the server is still writing them when shutdown begins.
        const [reader, writer] = yield* openConnection(HOST, server.port);
        writer.write("GET big\r\n".repeat(50));
        yield* until(() => server.stats.commandsProcessed >= 2);
        const shutdown = createTask(server.shutdown());
        let bytes = 0;
        for (;;) {
          const chunk = yield* reader.read(1 << 20);
          if (chunk.length === 0) break;
          bytes += chunk.length;
        }
        yield* shutdown;
        return { bytes, commands: server.stats.commandsProcessed };
      },
      { net: new MemoryNetwork() },
    );
    const reply = `$100000\r\n${"b".repeat(100_000)}\r\n`.length;
    expect(result.commands).toBe(51);
    expect(result.bytes).toBe(50 * reply);
  });

  it("aborts connections that do not finish within the grace period", async () => {
    const result = await runVirtual(
      function* () {
        const server = yield* startKvServer({ host: HOST, port: 0, shutdownGraceMs: 250 });
        const setup = yield* KvClient.connect(HOST, server.port);
        yield* setup.call("SET", "big", "b".repeat(100_000));
        yield* setup.close();
        // A client that sends a big pipeline and never reads its replies.
        const [, writer] = yield* openConnection(HOST, server.port);
        writer.write("GET big\r\n".repeat(50));
        yield* until(() => server.stats.commandsProcessed >= 2);
        const started = now();
        yield* server.shutdown();
        return { took: now() - started, open: server.connections };
      },
      { net: new MemoryNetwork() },
    );
    expect(result).toEqual({ took: 250, open: 0 });
  });

  it("QUIT answers OK, then the server closes the connection", async () => {
    const result = await virtual({}, function* (server) {
      const [reader, writer] = yield* openConnection(HOST, server.port);
      writer.write("QUIT\r\nPING\r\n");
      const rest = yield* reader.read(); // up to the end of the stream
      return latin1(rest);
    });
    expect(result).toBe("+OK\r\n");
  });

  it("a second shutdown() waits for the same shutdown", async () => {
    const order = await runVirtual(
      function* () {
        const server = yield* startKvServer({ host: HOST, port: 0 });
        const log: string[] = [];
        const first = createTask(
          (function* () {
            yield* server.shutdown();
            log.push("first");
          })(),
        );
        yield* server.shutdown();
        log.push("second");
        yield* first;
        return log;
      },
      { net: new MemoryNetwork() },
    );
    expect(order.sort()).toEqual(["first", "second"]);
  });
});

describe("startKvServer checks its arguments at the call", () => {
  it.each([
    [{ port: -1 }, RangeError],
    [{ port: 70000 }, RangeError],
    [{ port: "6379" }, TypeError],
    [{ subscriberQueueSize: 0 }, RangeError],
    [{ sweepIntervalMs: 0 }, RangeError],
    [{ limits: { maxBulkLength: -1 } }, RangeError],
    [{ host: 1 }, TypeError],
  ])("%o", (options, errorClass) => {
    expect(() => startKvServer(options as KvServerOptions)).toThrow(errorClass);
  });

  it("KvClient.connect checks its arguments at the call", () => {
    expect(() => KvClient.connect("localhost", 0)).toThrow(RangeError);
    expect(() => KvClient.connect(1 as unknown as string, 6379)).toThrow(TypeError);
  });

  it("an unknown command error is a value on the client, not a crash", async () => {
    const reply = await virtual({}, function* (server) {
      const c = yield* KvClient.connect(HOST, server.port);
      const r = yield* c.command("FLY");
      yield* c.close();
      return r;
    });
    expect(reply).toBeInstanceOf(ReplyError);
  });
});

import { describe, expect, it } from "vitest";
import { latin1, utf8Bytes } from "../src/kv/bytes.js";
import { execute, findCommand, commands, runCommand } from "../src/kv/commands/index.js";
import type { CommandContext } from "../src/kv/commands/context.js";
import { Keyspace } from "../src/kv/keyspace.js";
import { PubSub, Subscriber } from "../src/kv/pubsub.js";
import { ReplyError, parseReplies, type RespValue } from "../src/kv/reply-parser.js";
import { CommandParser } from "../src/kv/resp-parser.js";
import { ReplyBuffer, concat } from "../src/kv/resp-writer.js";

/** A connection without a socket: commands run against it, replies are decoded. */
class FakeConnection implements CommandContext {
  readonly out = new ReplyBuffer();
  clientName: string | null = null;
  subscriber: Subscriber | null = null;
  closing = false;
  dropped = 0;
  constructor(
    readonly keyspace: Keyspace,
    readonly pubsub: PubSub,
    readonly clientId = 1,
    private readonly queueSize = 16,
  ) {}
  startSubscriber(): Subscriber {
    this.subscriber = new Subscriber(this.queueSize, () => this.dropped++);
    return this.subscriber;
  }
  closeAfterReply(): void {
    this.closing = true;
  }
  /** Runs one command and returns its replies (several for SUBSCRIBE). */
  run(...args: string[]): RespValue {
    execute(this, args.map((a) => utf8Bytes(a)));
    const replies = parseReplies(concat(this.out.take()));
    return replies.length === 1 ? text(replies[0]!) : replies.map(text);
  }
  /** The messages queued for this subscriber, decoded. */
  messages(): RespValue[] {
    const queue = this.subscriber!.queue;
    const frames: Uint8Array[] = [];
    while (!queue.empty()) frames.push(queue.getNowait());
    return parseReplies(concat(frames)).map(text);
  }
}

/** Bulk strings as text, so expectations read naturally. */
function text(value: RespValue): RespValue {
  if (value instanceof Uint8Array) return latin1(value);
  if (Array.isArray(value)) return value.map(text);
  return value;
}

function setup(): { c: FakeConnection; clock: { now: number }; ks: Keyspace; pubsub: PubSub } {
  const clock = { now: 10_000 };
  const ks = new Keyspace(() => clock.now);
  const pubsub = new PubSub();
  return { c: new FakeConnection(ks, pubsub), clock, ks, pubsub };
}

const err = (message: string): ReplyError => new ReplyError(message);

describe("dispatch", () => {
  it("finds commands in any case", () => {
    const { c } = setup();
    expect(c.run("PING")).toBe("PONG");
    expect(c.run("ping")).toBe("PONG");
    expect(c.run("pInG")).toBe("PONG");
  });

  it("answers an unknown command with Redis's message, quoting the first arguments", () => {
    const { c } = setup();
    expect(c.run("NOPE", "a", "b")).toEqual(err("ERR unknown command 'NOPE', with args beginning with: 'a' 'b' "));
    const long = c.run("NOPE", "x".repeat(300)) as ReplyError;
    expect(long.message).toBe(`ERR unknown command 'NOPE', with args beginning with: '${"x".repeat(128)}' `);
  });

  it("checks arity: exact for positive, at least for negative", () => {
    const { c } = setup();
    expect(c.run("GET")).toEqual(err("ERR wrong number of arguments for 'get' command"));
    expect(c.run("GET", "a", "b")).toEqual(err("ERR wrong number of arguments for 'get' command"));
    expect(c.run("SET", "a")).toEqual(err("ERR wrong number of arguments for 'set' command"));
    expect(c.run("DEL")).toEqual(err("ERR wrong number of arguments for 'del' command"));
  });

  it("has every command the issue lists", () => {
    for (const name of ["ping", "echo", "get", "set", "del", "exists", "incr", "expire", "ttl", "mget", "mset", "keys", "publish", "subscribe"]) {
      expect(findCommand(name), name).toBeDefined();
    }
    expect(new Set(commands.map((x) => x.name)).size).toBe(commands.length);
  });
});

describe("connection commands", () => {
  it("PING with a message echoes it as a bulk string", () => {
    const { c } = setup();
    expect(c.run("PING", "hi")).toBe("hi");
    expect(c.run("PING", "a", "b")).toEqual(err("ERR wrong number of arguments for 'ping' command"));
  });

  it("ECHO returns its argument", () => {
    const { c } = setup();
    expect(c.run("ECHO", "hello world")).toBe("hello world");
  });

  it("QUIT answers OK and asks the connection to close", () => {
    const { c } = setup();
    expect(c.run("QUIT")).toBe("OK");
    expect(c.closing).toBe(true);
  });

  it("CONFIG GET answers what redis-benchmark asks, and matches globs", () => {
    const { c } = setup();
    expect(c.run("CONFIG", "GET", "save")).toEqual(["save", ""]);
    expect(c.run("CONFIG", "GET", "appendonly")).toEqual(["appendonly", "no"]);
    expect(c.run("CONFIG", "GET", "nothing")).toEqual([]);
    expect(c.run("CONFIG", "GET", "app*")).toEqual(["appendonly", "no"]);
    expect(c.run("CONFIG", "SET", "save", "")).toEqual(err("ERR unknown subcommand 'SET'. Try CONFIG HELP."));
  });

  it("SELECT accepts database 0 only", () => {
    const { c } = setup();
    expect(c.run("SELECT", "0")).toBe("OK");
    expect(c.run("SELECT", "1")).toEqual(err("ERR DB index is out of range"));
    expect(c.run("SELECT", "x")).toEqual(err("ERR value is not an integer or out of range"));
  });

  it("HELLO negotiates RESP2 or RESP3; RESP3 has its null, maps and pushes", () => {
    const { c } = setup();
    const reply = c.run("HELLO", "2") as RespValue[];
    expect(reply.slice(0, 6)).toEqual(["server", "loop-kv", "version", "7.0.0", "proto", 2]);
    expect(c.run("HELLO", "4")).toEqual(err("NOPROTO unsupported protocol version"));
    const raw = (...args: string[]): string => {
      execute(c, args.map((a) => utf8Bytes(a)));
      return latin1(concat(c.out.take()));
    };
    expect(raw("HELLO", "3", "SETNAME", "three")).toMatch(/^%7\r\n\$6\r\nserver\r\n\$7\r\nloop-kv\r\n\$7\r\nversion\r\n\$5\r\n7\.0\.0\r\n\$5\r\nproto\r\n:3\r\n/);
    expect(c.clientName).toBe("three");
    expect(raw("GET", "missing")).toBe("_\r\n");
    expect(raw("CONFIG", "GET", "save")).toBe("%1\r\n$4\r\nsave\r\n$0\r\n\r\n");
    expect(raw("SUBSCRIBE", "ch")).toBe(">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
    // RESP3 pushes are typed: a subscribed RESP3 connection may run any command.
    expect(raw("SET", "k", "v")).toBe("+OK\r\n");
    expect(raw("PING")).toBe("+PONG\r\n");
    expect(c.run("HELLO", "2", "AUTH", "u", "p")).toBeInstanceOf(ReplyError);
  });

  it("INFO prints the sections clients parse; unknown sections print nothing", () => {
    const { c, ks } = setup();
    ks.set("k", utf8Bytes("v"));
    const all = c.run("INFO") as string;
    for (const header of ["# Server", "# Clients", "# Memory", "# Persistence", "# Stats", "# Replication", "# Cpu", "# Keyspace"]) {
      expect(all).toContain(`${header}\r\n`);
    }
    expect(all).toMatch(/\r\nredis_version:7\.0\.0\r\n/);
    expect(all).toMatch(/\r\nloading:0\r\n/);
    expect(all).toMatch(/\r\nrole:master\r\n/);
    expect(all).toMatch(/\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n/);
    const persistence = c.run("INFO", "persistence") as string;
    expect(persistence.startsWith("# Persistence\r\nloading:0\r\n")).toBe(true);
    expect(persistence).not.toContain("# Server");
    expect(c.run("INFO", "nosuchsection")).toBe("");
  });

  it("error replies never carry a NUL, CR or LF from the arguments", () => {
    const { c } = setup();
    execute(c, [utf8Bytes("NO\u0000PE"), utf8Bytes("a\u0000b\r\nc")]);
    const bytes = concat(c.out.take());
    expect(bytes.indexOf(0)).toBe(-1);
    expect(latin1(bytes)).toBe("-ERR unknown command 'NO PE', with args beginning with: 'a b  c' \r\n");
    execute(c, [utf8Bytes("EXPIRE"), utf8Bytes("k"), utf8Bytes("10"), utf8Bytes("F\u0000O")]);
    expect(latin1(concat(c.out.take()))).toBe("-ERR Unsupported option F O\r\n");
  });

  it("MULTI queues, EXEC runs the queue and answers its replies, DISCARD drops it; a refused command aborts EXEC", () => {
    const { c } = setup();
    expect(c.run("EXEC")).toEqual(err("ERR EXEC without MULTI"));
    expect(c.run("MULTI")).toBe("OK");
    expect(c.run("MULTI")).toEqual(err("ERR MULTI calls can not be nested"));
    expect(c.run("INCRBY", "n", "5")).toBe("QUEUED");
    expect(c.run("DECR", "n")).toBe("QUEUED");
    expect(c.run("GET", "n")).toBe("QUEUED");
    expect(c.run("EXEC")).toEqual([5, 4, "4"]);
    expect(c.run("MULTI")).toBe("OK");
    expect(c.run("SET", "n", "0")).toBe("QUEUED");
    expect(c.run("DISCARD")).toBe("OK");
    expect(c.run("GET", "n")).toBe("4");
    expect(c.run("MULTI")).toBe("OK");
    expect(c.run("NOSUCH")).toBeInstanceOf(ReplyError);
    expect(c.run("SET", "n", "0")).toBe("QUEUED");
    expect(c.run("EXEC")).toEqual(err("EXECABORT Transaction discarded because of previous errors."));
    expect(c.run("GET", "n")).toBe("4");
    expect(c.run("DECRBY", "n", "-9223372036854775807")).toEqual(err("ERR increment or decrement would overflow"));
  });

  it("EXPIRE with an unknown option gives Redis's option error, whatever the key and the seconds", () => {
    const { c } = setup();
    c.run("SET", "k", "v");
    expect(c.run("EXPIRE", "k", "10", "FOO")).toEqual(err("ERR Unsupported option FOO"));
    expect(c.run("EXPIRE", "nokey", "10", "FOO")).toEqual(err("ERR Unsupported option FOO"));
    expect(c.run("EXPIRE", "k", "ten", "FOO")).toEqual(err("ERR Unsupported option FOO"));
    expect(c.run("TTL", "k")).toBe(-1);
  });

  it("CLIENT SETNAME / GETNAME / ID", () => {
    const { c } = setup();
    expect(c.run("CLIENT", "GETNAME")).toBeNull();
    expect(c.run("CLIENT", "SETNAME", "worker")).toBe("OK");
    expect(c.run("CLIENT", "GETNAME")).toBe("worker");
    expect(c.run("CLIENT", "ID")).toBe(1);
    expect(c.run("CLIENT", "SETNAME", "a b")).toBeInstanceOf(ReplyError);
  });

  it("COMMAND answers an empty table, COMMAND COUNT the number of commands", () => {
    const { c } = setup();
    expect(c.run("COMMAND", "DOCS")).toEqual([]);
    expect(c.run("COMMAND", "COUNT")).toBe(commands.length);
  });

  it("DBSIZE and FLUSHALL", () => {
    const { c } = setup();
    c.run("MSET", "a", "1", "b", "2");
    expect(c.run("DBSIZE")).toBe(2);
    expect(c.run("FLUSHALL")).toBe("OK");
    expect(c.run("DBSIZE")).toBe(0);
    expect(c.run("FLUSHDB", "NOW")).toEqual(err("ERR syntax error"));
  });
});

describe("GET / SET", () => {
  it("SET then GET; GET of a missing key is nil", () => {
    const { c } = setup();
    expect(c.run("GET", "k")).toBeNull();
    expect(c.run("SET", "k", "v")).toBe("OK");
    expect(c.run("GET", "k")).toBe("v");
  });

  it("stores a copy of the value, not a view of the request, even for a Node Buffer", () => {
    const { c, ks } = setup();
    const chunk = Buffer.from("SET k abc MSET m xyz");
    execute(c, [chunk.subarray(0, 3), chunk.subarray(4, 5), chunk.subarray(6, 9)]);
    execute(c, [chunk.subarray(10, 14), chunk.subarray(15, 16), chunk.subarray(17, 20)]);
    chunk.fill(0);
    expect(latin1(ks.get("k")!)).toBe("abc");
    expect(latin1(ks.get("m")!)).toBe("xyz");
    // Exactly sized arrays of their own: the 20-byte chunk is not kept alive by them.
    expect(ks.get("k")!.buffer.byteLength).toBe(3);
  });

  it("stores a copy of the value when run from the parser's ranges of a received chunk", () => {
    const { c, ks } = setup();
    const parser = new CommandParser();
    const chunk = Buffer.from("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nabc\r\n*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\nq\r\n$3\r\nxyz\r\n");
    parser.feed(chunk);
    for (let args = parser.nextArgs(); args !== null; args = parser.nextArgs()) runCommand(c, args);
    // The chunk's memory is reused by whoever owns it: neither the stored value nor the
    // command MULTI queued may still point into it.
    chunk.fill(0);
    expect(latin1(ks.get("k")!)).toBe("abc");
    expect(ks.get("k")!.buffer.byteLength).toBe(3);
    c.out.take();
    expect(c.run("EXEC")).toEqual(["OK"]);
    expect(latin1(ks.get("q")!)).toBe("xyz");
  });

  it("keeps a large value where the parser assembled it instead of copying it; a small one is copied", () => {
    const { c, ks } = setup();
    const parser = new CommandParser();
    const size = 256 * 1024;
    // Fed and run read by read, as the server does.
    const receive = (chunk: Uint8Array): void => {
      parser.feed(chunk);
      for (let args = parser.nextArgs(); args !== null; args = parser.nextArgs()) runCommand(c, args);
    };
    receive(utf8Bytes(`*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$${size}\r\n`));
    for (let sent = 0; sent < size; sent += 4096) receive(new Uint8Array(4096).fill(120));
    receive(utf8Bytes("\r\n*3\r\n$3\r\nSET\r\n$5\r\nsmall\r\n$1\r\ny\r\n"));
    const big = ks.get("big")!;
    expect(big.length).toBe(size);
    expect(big.every((b) => b === 120)).toBe(true);
    // A view into the parser's buffer (after the command's header), which holds little else.
    expect(big.byteOffset).toBeGreaterThan(0);
    expect(big.buffer.byteLength).toBeLessThan(2 * size);
    expect(ks.get("small")!.buffer.byteLength).toBe(1);
  });

  it("NX sets only a missing key, XX only an existing one (nil otherwise)", () => {
    const { c } = setup();
    expect(c.run("SET", "k", "1", "XX")).toBeNull();
    expect(c.run("SET", "k", "1", "NX")).toBe("OK");
    expect(c.run("SET", "k", "2", "nx")).toBeNull();
    expect(c.run("SET", "k", "3", "xx")).toBe("OK");
    expect(c.run("GET", "k")).toBe("3");
  });

  it("EX and PX set a deadline on the loop clock; the key vanishes when it passes", () => {
    const { c, clock } = setup();
    expect(c.run("SET", "s", "v", "EX", "10")).toBe("OK");
    expect(c.run("SET", "m", "v", "PX", "1500")).toBe("OK");
    expect(c.run("TTL", "s")).toBe(10);
    expect(c.run("PTTL", "m")).toBe(1500);
    clock.now += 1500;
    expect(c.run("GET", "m")).toBeNull();
    expect(c.run("GET", "s")).toBe("v");
    clock.now += 8500;
    expect(c.run("EXISTS", "s")).toBe(0);
  });

  it("a plain SET clears the deadline, KEEPTTL keeps it", () => {
    const { c } = setup();
    c.run("SET", "k", "v", "EX", "100");
    c.run("SET", "k", "w", "KEEPTTL");
    expect(c.run("TTL", "k")).toBe(100);
    c.run("SET", "k", "x");
    expect(c.run("TTL", "k")).toBe(-1);
  });

  it("GET returns the old value", () => {
    const { c } = setup();
    expect(c.run("SET", "k", "1", "GET")).toBeNull();
    expect(c.run("SET", "k", "2", "GET")).toBe("1");
    expect(c.run("SET", "k", "3", "NX", "GET")).toBe("2");
    expect(c.run("GET", "k")).toBe("2");
  });

  it("rejects conflicting or malformed options as Redis does", () => {
    const { c } = setup();
    const syntax = err("ERR syntax error");
    expect(c.run("SET", "k", "v", "NX", "XX")).toEqual(syntax);
    expect(c.run("SET", "k", "v", "EX", "1", "PX", "1")).toEqual(syntax);
    expect(c.run("SET", "k", "v", "EX", "1", "KEEPTTL")).toEqual(syntax);
    expect(c.run("SET", "k", "v", "KEEPTTL", "EX", "1")).toEqual(syntax);
    expect(c.run("SET", "k", "v", "EX")).toEqual(syntax);
    expect(c.run("SET", "k", "v", "BOGUS")).toEqual(syntax);
    expect(c.run("SET", "k", "v", "EXAT", "1")).toEqual(syntax);
    expect(c.run("SET", "k", "v", "EX", "ten")).toEqual(err("ERR value is not an integer or out of range"));
    expect(c.run("SET", "k", "v", "EX", "0")).toEqual(err("ERR invalid expire time in 'set' command"));
    expect(c.run("SET", "k", "v", "PX", "-5")).toEqual(err("ERR invalid expire time in 'set' command"));
    expect(c.run("SET", "k", "v", "EX", "9223372036854775807")).toEqual(err("ERR invalid expire time in 'set' command"));
    expect(c.run("EXISTS", "k")).toBe(0);
  });
});

describe("INCR", () => {
  it("counts from 0 for a missing key and returns the new value", () => {
    const { c } = setup();
    expect(c.run("INCR", "n")).toBe(1);
    expect(c.run("INCR", "n")).toBe(2);
    expect(c.run("GET", "n")).toBe("2");
  });

  it("refuses values that are not int64 decimals", () => {
    const { c } = setup();
    for (const bad of ["abc", "1.5", " 1", "+1", "01", "", "-0", "9223372036854775808"]) {
      c.run("SET", "n", bad);
      expect(c.run("INCR", "n"), bad).toEqual(err("ERR value is not an integer or out of range"));
    }
  });

  it("is exact beyond 2^53 and refuses to overflow int64", () => {
    const { c } = setup();
    c.run("SET", "n", "9223372036854775806");
    expect(c.run("INCR", "n")).toBe(9223372036854775807n);
    expect(c.run("INCR", "n")).toEqual(err("ERR increment or decrement would overflow"));
    c.run("SET", "m", "-9223372036854775808");
    expect(c.run("INCR", "m")).toBe(-9223372036854775807n);
  });

  it("keeps the key's deadline", () => {
    const { c } = setup();
    c.run("SET", "n", "5", "EX", "50");
    c.run("INCR", "n");
    expect(c.run("TTL", "n")).toBe(50);
  });
});

describe("DEL, EXISTS, MGET, MSET, KEYS", () => {
  it("DEL counts the keys it removed", () => {
    const { c } = setup();
    c.run("MSET", "a", "1", "b", "2");
    expect(c.run("DEL", "a", "b", "c")).toBe(2);
    expect(c.run("DEL", "a")).toBe(0);
  });

  it("EXISTS counts a key named twice twice", () => {
    const { c } = setup();
    c.run("SET", "a", "1");
    expect(c.run("EXISTS", "a", "a", "b")).toBe(2);
  });

  it("MGET answers nil for missing keys, in order", () => {
    const { c } = setup();
    c.run("MSET", "a", "1", "c", "3");
    expect(c.run("MGET", "a", "b", "c")).toEqual(["1", null, "3"]);
  });

  it("MSET needs pairs and clears deadlines", () => {
    const { c } = setup();
    expect(c.run("MSET", "a", "1", "b")).toEqual(err("ERR wrong number of arguments for 'mset' command"));
    c.run("SET", "a", "0", "EX", "5");
    c.run("MSET", "a", "1");
    expect(c.run("TTL", "a")).toBe(-1);
  });

  it("KEYS lists live keys matching a glob", () => {
    const { c, clock } = setup();
    c.run("MSET", "user:1", "a", "user:2", "b", "order:1", "c");
    c.run("SET", "user:3", "d", "PX", "10");
    clock.now += 10;
    expect((c.run("KEYS", "user:*") as string[]).sort()).toEqual(["user:1", "user:2"]);
    expect((c.run("KEYS", "*") as string[]).length).toBe(3);
    expect(c.run("KEYS", "nothing*")).toEqual([]);
  });

  it("keys are binary-safe: a non-UTF-8 key comes back byte for byte", () => {
    const { c } = setup();
    const key = new Uint8Array([0xff, 0x00, 0xc3]);
    execute(c, [utf8Bytes("SET"), key, utf8Bytes("v")]);
    c.out.take();
    execute(c, [utf8Bytes("KEYS"), utf8Bytes("*")]);
    const [keys] = parseReplies(concat(c.out.take()));
    expect(keys).toEqual([key]);
  });
});

describe("EXPIRE and TTL", () => {
  it("TTL is -2 without key, -1 without deadline, else rounded seconds", () => {
    const { c, clock } = setup();
    expect(c.run("TTL", "k")).toBe(-2);
    c.run("SET", "k", "v");
    expect(c.run("TTL", "k")).toBe(-1);
    expect(c.run("EXPIRE", "k", "10")).toBe(1);
    clock.now += 4400;
    expect(c.run("TTL", "k")).toBe(6);
    clock.now += 200;
    expect(c.run("TTL", "k")).toBe(5); // 5.4 s left: Redis rounds to nearest
  });

  it("EXPIRE answers 0 for a missing key", () => {
    const { c } = setup();
    expect(c.run("EXPIRE", "k", "10")).toBe(0);
  });

  it("EXPIRE with a deadline in the past deletes the key", () => {
    const { c } = setup();
    c.run("SET", "k", "v");
    expect(c.run("EXPIRE", "k", "0")).toBe(1);
    expect(c.run("EXISTS", "k")).toBe(0);
    c.run("SET", "k", "v");
    expect(c.run("EXPIRE", "k", "-10")).toBe(1);
    expect(c.run("EXISTS", "k")).toBe(0);
  });

  it("NX, XX, GT and LT conditions (GT treats no deadline as infinite)", () => {
    const { c } = setup();
    c.run("SET", "k", "v");
    expect(c.run("EXPIRE", "k", "100", "XX")).toBe(0);
    expect(c.run("EXPIRE", "k", "100", "GT")).toBe(0);
    expect(c.run("EXPIRE", "k", "100", "NX")).toBe(1);
    expect(c.run("EXPIRE", "k", "50", "NX")).toBe(0);
    expect(c.run("EXPIRE", "k", "50", "GT")).toBe(0);
    expect(c.run("EXPIRE", "k", "200", "GT")).toBe(1);
    expect(c.run("EXPIRE", "k", "300", "LT")).toBe(0);
    expect(c.run("EXPIRE", "k", "150", "LT")).toBe(1);
    expect(c.run("TTL", "k")).toBe(150);
    c.run("SET", "p", "v");
    expect(c.run("EXPIRE", "p", "10", "LT")).toBe(1);
  });

  it("rejects bad arguments with Redis's messages", () => {
    const { c } = setup();
    c.run("SET", "k", "v");
    expect(c.run("EXPIRE", "k", "x")).toEqual(err("ERR value is not an integer or out of range"));
    expect(c.run("EXPIRE", "k", "1", "NX", "XX")).toEqual(err("ERR NX and XX, GT or LT options at the same time are not compatible"));
    expect(c.run("EXPIRE", "k", "1", "GT", "LT")).toEqual(err("ERR GT and LT options at the same time are not compatible"));
    expect(c.run("EXPIRE", "k", "1", "SOON")).toEqual(err("ERR Unsupported option SOON"));
    expect(c.run("EXPIRE", "k", "9223372036854775807")).toEqual(err("ERR invalid expire time in 'expire' command"));
    expect(c.run("TTL", "k")).toBe(-1);
  });
});

describe("PUBLISH / SUBSCRIBE", () => {
  it("SUBSCRIBE confirms each channel with the running count", () => {
    const { c } = setup();
    expect(c.run("SUBSCRIBE", "a", "b", "a")).toEqual([
      ["subscribe", "a", 1],
      ["subscribe", "b", 2],
      ["subscribe", "a", 2],
    ]);
  });

  it("PUBLISH queues the message for every subscriber and answers how many", () => {
    const { ks, pubsub, c: publisher } = setup();
    const s1 = new FakeConnection(ks, pubsub, 2);
    const s2 = new FakeConnection(ks, pubsub, 3);
    s1.run("SUBSCRIBE", "news");
    s2.run("SUBSCRIBE", "news", "other");
    expect(publisher.run("PUBLISH", "news", "hello")).toBe(2);
    expect(publisher.run("PUBLISH", "nobody", "x")).toBe(0);
    expect(s1.messages()).toEqual([["message", "news", "hello"]]);
    expect(s2.messages()).toEqual([["message", "news", "hello"]]);
  });

  it("in subscribed mode only pub/sub commands, PING and QUIT run; PING answers [pong, msg]", () => {
    const { c } = setup();
    c.run("SUBSCRIBE", "a");
    expect(c.run("GET", "k")).toEqual(
      err("ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"),
    );
    expect(c.run("PING")).toEqual(["pong", ""]);
    expect(c.run("PING", "x")).toEqual(["pong", "x"]);
  });

  it("UNSUBSCRIBE leaves the named channels, or all; subscribed mode ends at 0", () => {
    const { c, pubsub } = setup();
    c.run("SUBSCRIBE", "a", "b", "c");
    expect(c.run("UNSUBSCRIBE", "b")).toEqual(["unsubscribe", "b", 2]);
    expect(c.run("UNSUBSCRIBE")).toEqual([
      ["unsubscribe", "a", 1],
      ["unsubscribe", "c", 0],
    ]);
    expect(pubsub.channelNames()).toEqual([]);
    expect(c.run("UNSUBSCRIBE")).toEqual(["unsubscribe", null, 0]);
    expect(c.run("GET", "k")).toBeNull();
  });

  it("drops a subscriber whose queue is full instead of buffering more, and tells its connection", () => {
    const { ks, pubsub, c: publisher } = setup();
    const slow = new FakeConnection(ks, pubsub, 2, 3);
    const fast = new FakeConnection(ks, pubsub, 3, 100);
    slow.run("SUBSCRIBE", "ch");
    fast.run("SUBSCRIBE", "ch");
    for (let i = 0; i < 3; i++) expect(publisher.run("PUBLISH", "ch", `m${i}`)).toBe(2);
    expect(publisher.run("PUBLISH", "ch", "m3")).toBe(1);
    expect(slow.dropped).toBe(1);
    expect(slow.subscriber!.dropped).toBe(true);
    expect(slow.subscriber!.queue.qsize()).toBe(3);
    expect(pubsub.subscriberCount("ch")).toBe(1);
    expect(pubsub.droppedCount).toBe(1);
    // Later publishes no longer reach it, and it cannot subscribe again.
    expect(publisher.run("PUBLISH", "ch", "m4")).toBe(1);
    expect(pubsub.subscribe(slow.subscriber!, "ch")).toBe(false);
    expect(slow.dropped).toBe(1);
    expect(fast.messages()).toHaveLength(5);
  });

  it("encodes a published message once and shares it between subscribers", () => {
    const { ks, pubsub, c: publisher } = setup();
    const a = new FakeConnection(ks, pubsub, 2);
    const b = new FakeConnection(ks, pubsub, 3);
    a.run("SUBSCRIBE", "ch");
    b.run("SUBSCRIBE", "ch");
    publisher.run("PUBLISH", "ch", "x");
    expect(a.subscriber!.queue.getNowait()).toBe(b.subscriber!.queue.getNowait());
  });
});

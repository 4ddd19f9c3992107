import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { latin1, utf8Bytes } from "../src/kv/bytes.js";
import { ReplyError, ReplyParser, INCOMPLETE, parseReplies } from "../src/kv/reply-parser.js";
import { CommandParser, RespProtocolError, parseCommands, splitInlineArgs } from "../src/kv/resp-parser.js";
import { ReplyBuffer, concat, encodeCommand } from "../src/kv/resp-writer.js";

const bytes = (text: string): Uint8Array => utf8Bytes(text);
const words = (command: Uint8Array[] | null): string[] | null => (command === null ? null : command.map(latin1));
const texts = (commands: Uint8Array[][]): string[][] => commands.map((c) => c.map(latin1));

function parseAll(input: string | Uint8Array, limits?: ConstructorParameters<typeof CommandParser>[0]): string[][] {
  return texts(parseCommands(typeof input === "string" ? bytes(input) : input, limits).commands);
}

function protocolError(input: string, limits?: ConstructorParameters<typeof CommandParser>[0]): string {
  try {
    parseCommands(bytes(input), limits);
  } catch (error) {
    expect(error).toBeInstanceOf(RespProtocolError);
    return (error as Error).message;
  }
  throw new Error(`no protocol error for ${JSON.stringify(input)}`);
}

describe("CommandParser: multibulk requests", () => {
  it("parses a command into its arguments, name first", () => {
    expect(parseAll("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n")).toEqual([["SET", "key", "value"]]);
  });

  it("parses every command of a pipelined batch, in order", () => {
    const batch = "*1\r\n$4\r\nPING\r\n".repeat(3) + "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
    expect(parseAll(batch)).toEqual([["PING"], ["PING"], ["PING"], ["GET", "k"]]);
  });

  it("keeps bulk strings binary-safe: CR, LF and NUL inside a bulk are data", () => {
    const payload = new Uint8Array([0, 13, 10, 255, 42, 36]);
    const input = concat([bytes("*2\r\n$4\r\nECHO\r\n$6\r\n"), payload, bytes("\r\n")]);
    const [command] = parseCommands(input).commands;
    expect([...command![1]!]).toEqual([...payload]);
  });

  it("accepts empty bulk strings", () => {
    expect(parseAll("*2\r\n$4\r\nECHO\r\n$0\r\n\r\n")).toEqual([["ECHO", ""]]);
  });

  it("returns arguments as views of the input, without copying", () => {
    const input = bytes("*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n");
    const [command] = parseCommands(input).commands;
    expect(command![1]!.buffer).toBe(input.buffer);
    expect(command![1]!.byteOffset).toBe(input.byteOffset + 17);
  });

  it("skips empty commands (*0 and *-1) as Redis does", () => {
    expect(parseAll("*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n")).toEqual([["PING"]]);
  });

  it("returns null until a command is complete, then the command", () => {
    const parser = new CommandParser();
    parser.feed(bytes("*2\r\n$3\r\nGET\r\n$3\r\nke"));
    expect(parser.next()).toBeNull();
    expect(parser.idle()).toBe(false);
    parser.feed(bytes("y\r"));
    expect(parser.next()).toBeNull();
    parser.feed(bytes("\n"));
    expect(words(parser.next())).toEqual(["GET", "key"]);
    expect(parser.next()).toBeNull();
    expect(parser.idle()).toBe(true);
  });

  it("keeps the views of a command valid after the parser moves to a new buffer", () => {
    const parser = new CommandParser();
    parser.feed(bytes("*2\r\n$3\r\nGET\r\n$3\r\nabc\r\n*2\r\n$4\r\nECHO\r\n$3\r\nx"));
    const first = parser.next()!;
    expect(parser.next()).toBeNull();
    parser.feed(bytes("yz\r\n"));
    const second = parser.next()!;
    expect(words(first)).toEqual(["GET", "abc"]);
    expect(words(second)).toEqual(["ECHO", "xyz"]);
  });

  it("assembles a large bulk string fed in many small chunks", () => {
    const parser = new CommandParser();
    const size = 1 << 20;
    parser.feed(bytes(`*2\r\n$4\r\nECHO\r\n$${size}\r\n`));
    const chunk = new Uint8Array(1024).fill(120);
    for (let sent = 0; sent < size; sent += chunk.length) {
      expect(parser.next()).toBeNull();
      parser.feed(chunk);
    }
    parser.feed(bytes("\r\n"));
    const command = parser.next()!;
    expect(command[1]!.length).toBe(size);
    expect(command[1]!.every((b) => b === 120)).toBe(true);
  });

  it("gives the same commands however the input is cut into chunks (property)", () => {
    const arg = fc.uint8Array({ maxLength: 40 });
    const command = fc.array(arg, { minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(fc.array(command, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 20 }), (commands, cutSeeds) => {
        const input = concat(commands.map((c) => encodeCommand(c)));
        const cuts = [...new Set(cutSeeds.map((s) => s % (input.length + 1)))].sort((a, b) => a - b);
        const parser = new CommandParser();
        const parsed: number[][][] = [];
        let from = 0;
        for (const at of [...cuts, input.length]) {
          parser.feed(input.subarray(from, at));
          from = at;
          for (let c = parser.next(); c !== null; c = parser.next()) parsed.push(c.map((a) => [...a]));
        }
        expect(parsed).toEqual(commands.map((c) => c.map((a) => [...a])));
        expect(parser.idle()).toBe(true);
      }),
    );
  });

  it("nextArgs refills one CommandArgs with ranges, also for a multibulk cut across chunks", () => {
    const parser = new CommandParser();
    // The second command is cut inside its second argument, so its first one (already
    // parsed) must move with it to the parser's new buffer.
    parser.feed(Buffer.from("*2\r\n$3\r\nGET\r\n$3\r\nabc\r\n*3\r\n$3\r\nSET\r\n$2\r\nk1\r\n$5\r\nhe"));
    const first = parser.nextArgs()!;
    expect([first.length, first.latin1(0), first.latin1(1), first.size(1)]).toEqual([2, "GET", "abc", 3]);
    expect(first.is(0, "get")).toBe(true);
    expect(parser.nextArgs()).toBeNull();
    parser.feed(bytes("llo\r\nPING x\r\n"));
    const second = parser.nextArgs()!;
    expect(second).toBe(first); // the same object, refilled
    expect([second.length, second.latin1(0), second.latin1(1), latin1(second.copy(2))]).toEqual([3, "SET", "k1", "hello"]);
    const inline = parser.nextArgs()!;
    expect(inline.toArray().map(latin1)).toEqual(["PING", "x"]);
    expect(parser.nextArgs()).toBeNull();
    expect(parser.idle()).toBe(true);
  });

  it("CommandArgs.detach copies the arguments out of the chunk", () => {
    const parser = new CommandParser();
    const chunk = Buffer.from("*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n");
    parser.feed(chunk);
    const kept = parser.nextArgs()!.detach();
    chunk.fill(0);
    expect(kept.toArray().map(latin1)).toEqual(["ECHO", "hi"]);
    // One array from the first argument to the end of the last ("ECHO\r\n$2\r\nhi"), not the chunk.
    expect(kept.bytes(1).buffer.byteLength).toBe(12);
  });

  it("never throws anything but RespProtocolError, whatever the bytes (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }), (chunks) => {
        const parser = new CommandParser({ maxBulkLength: 1000, maxArrayLength: 100, maxInlineLength: 200 });
        try {
          for (const chunk of chunks) {
            parser.feed(chunk);
            while (parser.next() !== null);
          }
        } catch (error) {
          expect(error).toBeInstanceOf(RespProtocolError);
        }
      }),
    );
  });
});

describe("CommandParser: malformed input and limits", () => {
  it("rejects a bulk length over maxBulkLength, before any of its bytes arrive", () => {
    expect(protocolError("*2\r\n$4\r\nECHO\r\n$1001\r\n", { maxBulkLength: 1000 })).toBe("Protocol error: invalid bulk length");
    expect(protocolError("*2\r\n$4\r\nECHO\r\n$999999999999\r\n")).toBe("Protocol error: invalid bulk length");
  });

  it("accepts a bulk of exactly maxBulkLength bytes", () => {
    const input = `*2\r\n$4\r\nECHO\r\n$10\r\n${"x".repeat(10)}\r\n`;
    expect(parseAll(input, { maxBulkLength: 10 })).toEqual([["ECHO", "x".repeat(10)]]);
  });

  it("rejects negative and non-numeric bulk lengths", () => {
    expect(protocolError("*1\r\n$-1\r\n")).toBe("Protocol error: invalid bulk length");
    expect(protocolError("*1\r\n$abc\r\n")).toBe("Protocol error: invalid bulk length");
    expect(protocolError("*1\r\n$+3\r\nabc\r\n")).toBe("Protocol error: invalid bulk length");
    expect(protocolError("*1\r\n$03\r\nabc\r\n")).toBe("Protocol error: invalid bulk length");
    expect(protocolError("*1\r\n$\r\n")).toBe("Protocol error: invalid bulk length");
  });

  it("rejects bad multibulk counts, and counts over maxArrayLength", () => {
    expect(protocolError("*x\r\n")).toBe("Protocol error: invalid multibulk length");
    expect(protocolError("*\r\n")).toBe("Protocol error: invalid multibulk length");
    expect(protocolError("*101\r\n", { maxArrayLength: 100 })).toBe("Protocol error: invalid multibulk length");
  });

  it("says what it got instead of '$'", () => {
    expect(protocolError("*1\r\n:3\r\n")).toBe("Protocol error: expected '$', got ':'");
    expect(protocolError("*1\r\n\x01")).toBe("Protocol error: expected '$', got '\\x01'");
  });

  it("requires CRLF after a bulk string's bytes", () => {
    expect(protocolError("*1\r\n$4\r\nPINGxx")).toBe("Protocol error: expected CRLF after a bulk string");
  });

  it("requires CRLF at the end of header lines", () => {
    expect(protocolError("*1\rx")).toBe("Protocol error: expected CRLF at the end of a header line");
  });

  it("bounds header lines that never end", () => {
    expect(protocolError(`*${"1".repeat(300)}`, { maxInlineLength: 200 })).toBe("Protocol error: too big mbulk count string");
    expect(protocolError(`*1\r\n$${"1".repeat(300)}`, { maxInlineLength: 200 })).toBe("Protocol error: too big bulk count string");
  });

  it("bounds inline lines that never end", () => {
    expect(protocolError("x".repeat(300), { maxInlineLength: 200 })).toBe("Protocol error: too big inline request");
  });

  it("refuses to go on after an error: the stream is out of sync", () => {
    const parser = new CommandParser();
    parser.feed(bytes("*1\r\n$x\r\n"));
    expect(() => parser.next()).toThrow("invalid bulk length");
    parser.feed(bytes("PING\r\n"));
    expect(() => parser.next()).toThrow("invalid bulk length");
  });

  it("checks its limits at construction", () => {
    expect(() => new CommandParser({ maxBulkLength: 0 })).toThrow(RangeError);
    expect(() => new CommandParser({ maxArrayLength: 1.5 })).toThrow(RangeError);
    expect(() => new CommandParser({ maxInlineLength: "1" as unknown as number })).toThrow(TypeError);
  });
});

describe("CommandParser: inline commands", () => {
  it("splits a line on whitespace (telnet style), with or without CR", () => {
    expect(parseAll("SET  key\tvalue\r\nGET key\n")).toEqual([
      ["SET", "key", "value"],
      ["GET", "key"],
    ]);
  });

  it("skips blank lines", () => {
    expect(parseAll("\r\n   \r\n\nPING\r\n")).toEqual([["PING"]]);
  });

  it("mixes with multibulk commands on one connection", () => {
    expect(parseAll("PING\r\n*1\r\n$4\r\nPING\r\nECHO hi\r\n")).toEqual([["PING"], ["PING"], ["ECHO", "hi"]]);
  });

  it("waits for the end of the line", () => {
    const parser = new CommandParser();
    parser.feed(bytes("GET ke"));
    expect(parser.next()).toBeNull();
    parser.feed(bytes("y\r\n"));
    expect(words(parser.next())).toEqual(["GET", "key"]);
  });

  it("rejects unbalanced quotes", () => {
    expect(protocolError('SET k "abc\r\n')).toBe("Protocol error: unbalanced quotes in request");
    expect(protocolError("SET k 'abc\r\n")).toBe("Protocol error: unbalanced quotes in request");
  });
});

describe("splitInlineArgs (Redis sdssplitargs)", () => {
  const split = (line: string): string[] | null => {
    const args = splitInlineArgs(bytes(line));
    return args === null ? null : args.map(latin1);
  };

  it("handles double quotes with escapes", () => {
    expect(split('SET "a key" "line\\nbreak\\t\\"q\\" \\x41\\x7a"')).toEqual(["SET", "a key", 'line\nbreak\t"q" Az']);
  });

  it("handles single quotes, where only \\' is an escape", () => {
    expect(split("SET 'it\\'s' 'a\\nb'")).toEqual(["SET", "it's", "a\\nb"]);
  });

  it("joins a quoted part to the unquoted text before it", () => {
    expect(split('a"b c" d')).toEqual(["ab c", "d"]);
  });

  it("requires whitespace after a closing quote", () => {
    expect(split('"abc"def')).toBeNull();
    expect(split("'abc'def")).toBeNull();
  });

  it("accepts empty quoted words", () => {
    expect(split('SET k ""')).toEqual(["SET", "k", ""]);
  });

  it("leaves an invalid \\x escape as the letter", () => {
    expect(split('"\\xZZ"')).toEqual(["xZZ"]);
  });

  it("returns an empty list for a blank line", () => {
    expect(split("  \t ")).toEqual([]);
  });
});

describe("ReplyBuffer", () => {
  const encode = (fill: (out: ReplyBuffer) => void): string => {
    const out = new ReplyBuffer(8);
    fill(out);
    return latin1(concat(out.take()));
  };

  it("encodes each RESP2 reply type", () => {
    expect(encode((o) => o.simple("OK"))).toBe("+OK\r\n");
    expect(encode((o) => o.error("ERR nope"))).toBe("-ERR nope\r\n");
    expect(encode((o) => o.integer(0))).toBe(":0\r\n");
    expect(encode((o) => o.integer(-1234567890123))).toBe(":-1234567890123\r\n");
    expect(encode((o) => o.integer(9223372036854775807n))).toBe(":9223372036854775807\r\n");
    expect(encode((o) => o.bulk(bytes("abc")))).toBe("$3\r\nabc\r\n");
    expect(encode((o) => o.bulk(null))).toBe("$-1\r\n");
    expect(encode((o) => o.bulkLatin1("ch\xff"))).toBe("$3\r\nch\xff\r\n");
    expect(encode((o) => o.arrayHeader(2))).toBe("*2\r\n");
  });

  it("turns CR and LF in error messages into spaces, so a client cannot break the framing", () => {
    expect(encode((o) => o.error("ERR a\r\nb"))).toBe("-ERR a  b\r\n");
  });

  it("accumulates a batch and starts empty again after take()", () => {
    const out = new ReplyBuffer(4);
    for (let i = 0; i < 100; i++) out.integer(i);
    expect(out.size).toBe(concat(out.take()).length);
    expect(out.size).toBe(0);
    expect(out.take()).toEqual([]);
  });

  it("never rewrites bytes it handed out, so later replies cannot corrupt what the transport holds", () => {
    const out = new ReplyBuffer(64);
    out.simple("OK");
    const [first] = out.take();
    // Enough replies to fill the slab and move to another one, several times.
    for (let i = 0; i < 100; i++) {
      out.simple("XX");
      if (i % 7 === 0) out.take();
    }
    expect(latin1(first!)).toBe("+OK\r\n");
  });

  it("passes large bulk payloads by reference, in order with the rest", () => {
    const big = new Uint8Array(10_000).fill(97);
    const out = new ReplyBuffer();
    out.simple("A");
    out.bulk(big);
    out.simple("B");
    const chunks = out.take();
    expect(chunks).toContain(big);
    expect(parseReplies(concat(chunks))).toEqual(["A", big, "B"]);
  });

  it("round-trips through the reply parser (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.uint8Array({ maxLength: 20_000 }), fc.integer(), fc.constant(null)), { maxLength: 20 }), (values) => {
        const out = new ReplyBuffer(16);
        for (const v of values) {
          if (v === null) out.nullBulk();
          else if (typeof v === "number") out.integer(v);
          else out.bulk(v);
        }
        expect(parseReplies(concat(out.take()))).toEqual(values);
      }),
    );
  });
});

describe("encodeCommand and ReplyParser", () => {
  it("encodes strings as UTF-8 bulk strings", () => {
    expect(latin1(encodeCommand(["SET", "k", "é"]))).toBe("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n\xc3\xa9\r\n");
  });

  it("parses nested arrays, nulls and errors, across chunk boundaries", () => {
    const wire = bytes("*3\r\n$7\r\nmessage\r\n*2\r\n:1\r\n$-1\r\n-ERR bad\r\n*-1\r\n");
    const parser = new ReplyParser();
    const replies: unknown[] = [];
    for (const b of wire) {
      parser.feed(new Uint8Array([b]));
      for (let r = parser.next(); r !== INCOMPLETE; r = parser.next()) replies.push(r);
    }
    expect(replies).toEqual([[bytes("message"), [1, null], new ReplyError("ERR bad")], null]);
    expect((replies[0] as unknown[])[2]).toBeInstanceOf(ReplyError);
  });

  it("keeps integers beyond 2^53 exact as bigint", () => {
    expect(parseReplies(bytes(":9223372036854775807\r\n"))).toEqual([9223372036854775807n]);
  });
});

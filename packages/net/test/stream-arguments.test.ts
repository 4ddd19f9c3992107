/**
 * Bad arguments of the stream API: each is refused at the call, before any coroutine runs,
 * with the exact error class and a message naming the function, the argument and what it
 * got. The accepted edge of every range is checked too (the coroutines made there are
 * never started, so nothing is opened).
 */
import { getRunningLoop, run } from "@loop/core";
import { describe, expect, it } from "vitest";
import { chunks, lines, openConnection, openUnixConnection, startServer, startUnixServer, StreamReader, StreamReaderProtocol, StreamWriter, type ClientConnected } from "../src/index.js";
import { FakeTransport } from "./fake-net.js";

const handler: ClientConnected = function* () {};
const bad = <T>(value: unknown): T => value as T;

describe("openConnection and openUnixConnection refuse bad arguments at the call", () => {
  it("host: a non-empty string, and the message shows what was given", () => {
    expect(() => openConnection("", 80)).toThrow(new TypeError('openConnection(host, port): host must be a non-empty string, got ""'));
    expect(() => openConnection(bad(5), 80)).toThrow(new TypeError("openConnection(host, port): host must be a non-empty string, got number"));
    expect(() => openConnection(bad(null), 80)).toThrow(new TypeError("openConnection(host, port): host must be a non-empty string, got null"));
  });

  it("port: a number from 1 to 65535", () => {
    expect(() => openConnection("h", bad("80"))).toThrow(new TypeError('openConnection(host, port): port must be a number, got "80"'));
    expect(() => openConnection("h", 0)).toThrow(new RangeError("openConnection(host, port): port must be an integer from 1 to 65535, got 0"));
    expect(() => openConnection("h", 65_536)).toThrow(new RangeError("openConnection(host, port): port must be an integer from 1 to 65535, got 65536"));
    expect(() => openConnection("h", 1.5)).toThrow(new RangeError("openConnection(host, port): port must be an integer from 1 to 65535, got 1.5"));
    expect(() => openConnection("h", 1)).not.toThrow();
    expect(() => openConnection("h", 65_535)).not.toThrow();
  });

  it("path: a non-empty string", () => {
    expect(() => openUnixConnection("")).toThrow(new TypeError('openUnixConnection(path): path must be a non-empty string, got ""'));
    expect(() => openUnixConnection(bad(5))).toThrow(new TypeError("openUnixConnection(path): path must be a non-empty string, got number"));
    expect(() => openUnixConnection("/tmp/socket")).not.toThrow();
  });

  it("opts: an object (not null), each option checked and named", () => {
    for (const opts of [5, null, "x"]) {
      expect(() => openConnection("h", 1, bad(opts))).toThrow(new TypeError("openConnection(…, opts): opts must be an object like { limit, tls, signal, timeout }"));
    }
    expect(() => openUnixConnection("/p", bad(null))).toThrow(new TypeError("openUnixConnection(…, opts): opts must be an object like { limit, tls, signal, timeout }"));
    expect(() => openConnection("h", 1, { limit: bad("8") })).toThrow(new TypeError("openConnection(…, { limit }): limit must be a number of bytes, got string"));
    expect(() => openUnixConnection("/p", { limit: bad("8") })).toThrow(new TypeError("openUnixConnection(…, { limit }): limit must be a number of bytes, got string"));
    for (const tls of [null, 5, "yes"]) {
      expect(() => openConnection("h", 1, { tls: bad(tls) })).toThrow(new TypeError("openConnection(…, { tls }): tls must be true, false or an object of TLS options"));
    }
    expect(() => openConnection("h", 1, { tls: true })).not.toThrow();
    expect(() => openConnection("h", 1, { tls: {} })).not.toThrow();
    expect(() => openConnection("h", 1, { signal: bad({ aborted: false }) })).toThrow(new TypeError("openConnection(…, { signal }): signal must be an AbortSignal"));
    expect(() => openConnection("h", 1, { timeout: bad("5") })).toThrow(new TypeError("openConnection(…, { timeout }): timeout must be a number of milliseconds"));
    expect(() => openConnection("h", 1, { timeout: -1 })).toThrow(new RangeError("openConnection(…, { timeout }): timeout must be 0 or more milliseconds, got -1"));
    expect(() => openConnection("h", 1, { timeout: Number.NaN })).toThrow(new RangeError("openConnection(…, { timeout }): timeout must be 0 or more milliseconds, got NaN"));
    expect(() => openConnection("h", 1, { timeout: 0 })).not.toThrow();
    expect(() => openConnection("h", 1, { serverHostname: bad(5) })).toThrow(new TypeError("openConnection(…, { serverHostname }): serverHostname must be a string"));
    expect(() => openConnection("h", 1, { serverHostname: "example.com" })).not.toThrow();
  });
});

describe("startServer and startUnixServer refuse bad arguments at the call", () => {
  it("onClient: a function, and the message shows what was given", () => {
    expect(() => startServer(bad(null), "h", 0)).toThrow(
      new TypeError("startServer(onClient, host, port): onClient must be a generator function (reader, writer) => Coroutine, got null"),
    );
    expect(() => startUnixServer(bad("x"), "/p")).toThrow(
      new TypeError('startUnixServer(onClient, path): onClient must be a generator function (reader, writer) => Coroutine, got "x"'),
    );
  });

  it("host: a string or undefined (all interfaces)", () => {
    expect(() => startServer(handler, bad(5), 0)).toThrow(new TypeError("startServer(onClient, host, port): host must be a string or undefined, got number"));
    expect(() => startServer(handler, undefined, 0)).not.toThrow();
  });

  it("port: a number from 0 (pick a free one) to 65535", () => {
    expect(() => startServer(handler, "h", bad("80"))).toThrow(new TypeError('startServer(onClient, host, port): port must be a number, got "80"'));
    expect(() => startServer(handler, "h", -1)).toThrow(new RangeError("startServer(onClient, host, port): port must be an integer from 0 to 65535, got -1"));
    expect(() => startServer(handler, "h", 65_536)).toThrow(new RangeError("startServer(onClient, host, port): port must be an integer from 0 to 65535, got 65536"));
    expect(() => startServer(handler, "h", 0)).not.toThrow();
    expect(() => startServer(handler, "h", 65_535)).not.toThrow();
  });

  it("path: a non-empty string", () => {
    expect(() => startUnixServer(handler, "")).toThrow(new TypeError('startUnixServer(onClient, path): path must be a non-empty string, got ""'));
    expect(() => startUnixServer(handler, bad(5))).toThrow(new TypeError("startUnixServer(onClient, path): path must be a non-empty string, got number"));
    expect(() => startUnixServer(handler, "/tmp/socket")).not.toThrow();
  });

  it("opts: an object (not null), each option checked and named", () => {
    for (const opts of [5, null, "x"]) {
      expect(() => startServer(handler, "h", 0, bad(opts))).toThrow(new TypeError("startServer(…, opts): opts must be an object like { limit, backlog, tls }"));
    }
    expect(() => startUnixServer(handler, "/p", bad(null))).toThrow(new TypeError("startUnixServer(…, opts): opts must be an object like { limit, backlog, tls }"));
    expect(() => startServer(handler, "h", 0, { limit: bad("8") })).toThrow(new TypeError("startServer(…, { limit }): limit must be a number of bytes, got string"));
    expect(() => startUnixServer(handler, "/p", { limit: bad("8") })).toThrow(new TypeError("startUnixServer(…, { limit }): limit must be a number of bytes, got string"));
    for (const backlog of ["5", 1.5, -1, Number.NaN]) {
      expect(() => startServer(handler, "h", 0, { backlog: bad(backlog) })).toThrow(new RangeError("startServer(…, { backlog }): backlog must be an integer of 0 or more"));
    }
    expect(() => startServer(handler, "h", 0, { backlog: 0 })).not.toThrow();
    expect(() => startServer(handler, "h", 0, { backlog: 511 })).not.toThrow();
    for (const tls of [null, 5, true]) {
      expect(() => startServer(handler, "h", 0, { tls: bad(tls) })).toThrow(new TypeError("startServer(…, { tls }): tls must be an object of TLS server options (key, cert, …)"));
    }
    expect(() => startServer(handler, "h", 0, { tls: {} })).not.toThrow();
    expect(() => startServer(handler, "h", 0, { reusePort: bad("yes") })).toThrow(new TypeError("startServer(…, { reusePort }): reusePort must be a boolean"));
    expect(() => startServer(handler, "h", 0, { reusePort: true })).not.toThrow();
  });
});

describe("StreamReader refuses bad arguments at the call", () => {
  it("new StreamReader(opts): opts an object, limit a number", () => {
    for (const opts of [5, null]) {
      expect(() => new StreamReader(bad(opts))).toThrow(new TypeError("new StreamReader(opts): opts must be an object like { limit }"));
    }
    expect(() => new StreamReader({ limit: bad("8") })).toThrow(new TypeError("new StreamReader({ limit }): limit must be a number of bytes, got string"));
    expect(() => new StreamReader({ limit: 0 })).toThrow(new RangeError("new StreamReader({ limit }): limit must be a positive number of bytes, got 0"));
  });

  it("read(n) and readexactly(n): an integer; readexactly's 0 or more", async () => {
    await run(function* () {
      const reader = new StreamReader();
      expect(() => reader.read(bad("1"))).toThrow(new TypeError("StreamReader.read(n): n must be a number of bytes, got string"));
      expect(() => reader.read(1.5)).toThrow(new RangeError("StreamReader.read(n): n must be an integer, got 1.5"));
      expect(() => reader.readexactly(bad("1"))).toThrow(new TypeError("StreamReader.readexactly(n): n must be a number of bytes, got string"));
      expect(() => reader.readexactly(-1)).toThrow(new RangeError("StreamReader.readexactly(n): n must be 0 or more, got -1"));
      yield;
    });
  });

  it("readuntil(separator): a string or bytes, at least one byte", async () => {
    await run(function* () {
      const reader = new StreamReader();
      for (const separator of [5, null, [10]]) {
        expect(() => reader.readuntil(bad(separator))).toThrow(
          new TypeError(`StreamReader.readuntil(separator): separator must be a string or a Uint8Array, got ${typeof separator}`),
        );
      }
      expect(() => reader.readuntil("")).toThrow(new RangeError("StreamReader.readuntil(separator): the separator must be at least one byte long"));
      yield;
    });
  });
});

describe("StreamWriter refuses bad arguments at the call", () => {
  function writerOn(transport: FakeTransport): StreamWriter {
    const loop = getRunningLoop();
    return new StreamWriter(transport, new StreamReaderProtocol(null, null, loop), null, loop);
  }

  it("write(data): bytes as they are (not copied), a string as UTF-8, anything else a TypeError", async () => {
    await run(function* () {
      const transport = new FakeTransport();
      const writer = writerOn(transport);
      const bytes = new Uint8Array([1, 2, 3]);
      writer.write(bytes);
      writer.write("é");
      expect(transport.written[0]).toBe(bytes);
      expect([...(transport.written[1] as Uint8Array)]).toEqual([0xc3, 0xa9]);
      for (const data of [5, null, [1]]) {
        expect(() => writer.write(bad(data))).toThrow(new TypeError(`StreamWriter.write(data): data must be a Uint8Array or a string, got ${typeof data}`));
      }
      expect(transport.written).toHaveLength(2);
    });
  });

  it("writelines(list): an iterable object; a string is refused, not written character by character", async () => {
    await run(function* () {
      const transport = new FakeTransport();
      const writer = writerOn(transport);
      for (const list of [null, 5, "ab", {}]) {
        expect(() => writer.writelines(bad(list))).toThrow(new TypeError("StreamWriter.writelines(list): list must be an iterable of Uint8Array or string"));
      }
      expect(transport.written).toHaveLength(0);
      writer.writelines(new Set(["a", "b"]));
      expect(transport.written).toHaveLength(2);
    });
  });

  it("startTls(options): an object", async () => {
    await run(function* () {
      const writer = writerOn(new FakeTransport());
      for (const options of [null, "x", 5]) {
        expect(() => writer.startTls(bad(options))).toThrow(new TypeError("StreamWriter.startTls(options): options must be an object of TLS options"));
      }
    });
  });
});

describe("chunks and lines refuse bad arguments at the call", () => {
  it("reader: a StreamReader; size: an integer of 1 or more", async () => {
    await run(function* () {
      expect(() => chunks(bad({}))).toThrow(new TypeError("chunks(reader, size): reader must be a StreamReader (from openConnection, startServer or a subprocess)"));
      expect(() => lines(bad(null))).toThrow(new TypeError("lines(reader): reader must be a StreamReader (from openConnection, startServer or a subprocess)"));
      const reader = new StreamReader();
      for (const size of [0, 1.5, "8", Number.NaN]) {
        expect(() => chunks(reader, bad(size))).toThrow(new RangeError(`chunks(reader, size): size must be an integer >= 1 (bytes), got ${String(size)}`));
      }
      expect(() => chunks(reader, 1)).not.toThrow();
      yield;
    });
  });
});

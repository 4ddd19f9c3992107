import { getRunningLoop, type BaseTransport, type Coroutine, type Protocol, type Transport } from "@loop/core";
import { describe, expect, it } from "vitest";
import { MemoryNetwork, runVirtual } from "../src/index.js";

type SystemError = Error & { code?: string; errno?: number; syscall?: string; address?: string; port?: number };

/** A stream protocol that logs every call with the loop time. */
class Log implements Protocol {
  readonly events: string[] = [];
  transport!: Transport;
  lostWith: Error | null | undefined;
  /** What eofReceived answers: true keeps the connection half-open. */
  keepOpenOnEof = true;
  /** Called after each dataReceived is logged. */
  onData: (data: Uint8Array) => void = () => {};

  private _note(event: string): void {
    this.events.push(`${getRunningLoop().time()}ms ${event}`);
  }
  connectionMade(transport: BaseTransport): void {
    this.transport = transport as Transport;
    this._note("made");
  }
  connectionLost(error: Error | null): void {
    this.lostWith = error;
    this._note(`lost ${error === null ? "cleanly" : (error as SystemError).code}`);
  }
  dataReceived(data: Uint8Array): void {
    this._note(`data ${new TextDecoder().decode(data)}`);
    this.onData(data);
  }
  eofReceived(): boolean {
    this._note("eof");
    return this.keepOpenOnEof;
  }
  pauseWriting(): void {
    this._note("pauseWriting");
  }
  resumeWriting(): void {
    this._note("resumeWriting");
  }
}

const bytes = (text: string) => new TextEncoder().encode(text);

/** Waits `ms` of (virtual) loop time; 0 lets the callbacks already scheduled run. */
function* sleep(ms: number): Coroutine<void> {
  const loop = getRunningLoop();
  const done = loop.createFuture<void>();
  loop.callLater(ms, () => done.setResult(undefined));
  yield* done;
}

/** A connection from localhost to localhost:80: the client's and the server's protocols. */
function* pair(network: MemoryNetwork, tls = false): Coroutine<{ client: Log; server: Log }> {
  const loop = getRunningLoop();
  const server = new Log();
  const handle = yield* network.listen(loop, () => server, { host: "localhost", port: 80 });
  const client = new Log();
  yield* network.connect(loop, () => client, { host: "localhost", port: 80, tls: tls ? true : undefined });
  handle.close();
  return { client, server };
}

/** Errors the loop's exception handler saw (a callback that threw). */
function watchLoopErrors(): unknown[] {
  const seen: unknown[] = [];
  getRunningLoop().setExceptionHandler((_loop, context) => void seen.push(context.exception ?? context.message));
  return seen;
}

function dataOf(log: Log): string[] {
  return log.events.filter((e) => / (data|eof)/.test(e)).map((e) => e.replace(/^\d+ms /, ""));
}

describe("MemoryTransport flow control", () => {
  it("the write buffer holds what a partition keeps from the link, pauses the protocol only above the high-water mark and resumes it at the low one", async () => {
    const network = new MemoryNetwork();
    await runVirtual(function* () {
      const { client, server } = yield* pair(network);
      const t = client.transport;
      expect(t.getWriteBufferLimits()).toEqual({ low: 16 * 1024, high: 64 * 1024 });
      t.setWriteBufferLimits(100, 10);
      network.partition("localhost", "localhost");
      const reused = bytes("x".repeat(100));
      t.write(reused);
      reused.fill(0x79); // "y": the transport took a copy
      expect(t.getWriteBufferSize()).toBe(100);
      expect(client.events).toEqual(["0ms made"]); // exactly at the mark: no pause
      t.write(bytes("z"));
      expect(t.getWriteBufferSize()).toBe(101);
      expect(client.events).toEqual(["0ms made", "0ms pauseWriting"]);
      yield* sleep(10);
      expect(dataOf(server)).toEqual([]); // nothing crosses the partition
      network.heal();
      yield* sleep(0);
      expect(t.getWriteBufferSize()).toBe(0);
      expect(client.events).toEqual(["0ms made", "0ms pauseWriting", "10ms resumeWriting"]);
      expect(dataOf(server)).toEqual([`data ${"x".repeat(100)}`, "data z"]);
      t.abort();
      server.transport.abort();
    });
  });

  it("setWriteBufferLimits pauses or resumes the protocol against what is buffered now, once each, and checks its arguments", async () => {
    const network = new MemoryNetwork();
    await runVirtual(function* () {
      const { client, server } = yield* pair(network);
      const t = client.transport;
      network.partition("localhost", "localhost");
      t.write(bytes("a".repeat(1000)));
      const flow = () => client.events.slice(1);
      t.setWriteBufferLimits(1000, 0);
      expect(flow()).toEqual([]);
      t.setWriteBufferLimits(999, 0);
      t.setWriteBufferLimits(999, 0);
      expect(flow()).toEqual(["0ms pauseWriting"]);
      t.setWriteBufferLimits(4000, 999);
      expect(flow()).toEqual(["0ms pauseWriting"]);
      t.setWriteBufferLimits(4000, 1000);
      expect(flow()).toEqual(["0ms pauseWriting", "0ms resumeWriting"]);
      t.setWriteBufferLimits(4000, 1000);
      expect(flow()).toEqual(["0ms pauseWriting", "0ms resumeWriting"]);

      t.setWriteBufferLimits(1000);
      expect(t.getWriteBufferLimits()).toEqual({ low: 250, high: 1000 });
      t.setWriteBufferLimits(undefined, 300);
      expect(t.getWriteBufferLimits()).toEqual({ low: 300, high: 1200 });
      t.setWriteBufferLimits(2000, 2000);
      expect(t.getWriteBufferLimits()).toEqual({ low: 2000, high: 2000 });
      t.setWriteBufferLimits();
      expect(t.getWriteBufferLimits()).toEqual({ low: 16 * 1024, high: 64 * 1024 });
      expect(() => t.setWriteBufferLimits(10, 20)).toThrow(new RangeError("setWriteBufferLimits(high, low): need high (10) >= low (20) >= 0"));
      expect(() => t.setWriteBufferLimits(10, -1)).toThrow(RangeError);
      expect(() => t.setWriteBufferLimits(-4)).toThrow(RangeError);
      expect(t.getWriteBufferLimits()).toEqual({ low: 16 * 1024, high: 64 * 1024 });
      t.setWriteBufferLimits(0, 0);
      expect(t.getWriteBufferLimits()).toEqual({ low: 0, high: 0 });
      t.abort();
      server.transport.abort();
    });
  });

  it("the window splits writes exactly: a reader that does not read holds one window in flight, the rest stays in the write buffer, and nothing is lost or empty", async () => {
    const network = new MemoryNetwork({ window: 100 });
    await runVirtual(function* () {
      const { client, server } = yield* pair(network);
      const t = client.transport;
      server.transport.pauseReading();
      expect(server.transport.isReading()).toBe(false);
      t.write(bytes("a".repeat(30)));
      t.write(bytes("b".repeat(100)));
      expect(t.getWriteBufferSize()).toBe(30);
      yield* sleep(5);
      expect(dataOf(server)).toEqual([]);
      server.transport.resumeReading();
      yield* sleep(5);
      expect(dataOf(server)).toEqual([`data ${"a".repeat(30)}`, `data ${"b".repeat(70)}`, `data ${"b".repeat(30)}`]);
      expect(t.getWriteBufferSize()).toBe(0);

      server.transport.pauseReading();
      server.events.length = 0;
      t.write(bytes("c".repeat(100)));
      t.writelines([bytes("d".repeat(20)), new Uint8Array(0), bytes("e".repeat(5))]);
      expect(t.getWriteBufferSize()).toBe(25);
      server.transport.resumeReading();
      yield* sleep(5);
      expect(dataOf(server)).toEqual([`data ${"c".repeat(100)}`, `data ${"d".repeat(20)}`, "data eeeee"]);
      t.abort();
      server.transport.abort();
    });
  });

  it("bytes arriving while held bytes wait keep their place; a reader that pauses, or aborts, in dataReceived gets nothing more", async () => {
    const network = new MemoryNetwork({ latency: 10 });
    await runVirtual(function* () {
      const loop = getRunningLoop();
      const { client, server } = yield* pair(network);
      const reader = server.transport;
      const writer = client.transport;
      reader.pauseReading();
      writer.write(bytes("1")); // held from 10 ms
      loop.callLater(15, () => reader.resumeReading()); // due in the same turn as "2" arrives, and first
      yield* sleep(5);
      writer.write(bytes("2"));
      yield* sleep(15);
      expect(dataOf(server)).toEqual(["data 1", "data 2"]);

      reader.pauseReading();
      writer.write(bytes("3"));
      writer.write(bytes("4"));
      yield* sleep(10);
      server.onData = () => reader.pauseReading();
      reader.resumeReading();
      yield* sleep(0);
      expect(dataOf(server)).toEqual(["data 1", "data 2", "data 3"]);
      server.onData = () => {};
      reader.resumeReading();
      yield* sleep(0);
      expect(dataOf(server)).toEqual(["data 1", "data 2", "data 3", "data 4"]);

      reader.pauseReading();
      writer.write(bytes("5"));
      writer.write(bytes("6"));
      yield* sleep(10);
      server.onData = () => reader.abort();
      reader.resumeReading();
      yield* sleep(0);
      expect(dataOf(server)).toEqual(["data 1", "data 2", "data 3", "data 4", "data 5"]);
      expect(server.lostWith).toBe(null);
      writer.abort();
      yield* sleep(20);
    });
  });
});

describe("MemoryTransport ends", () => {
  it("writeEof is sent once and after the bytes before it; close() after it sends no second EOF; writes after it throw", async () => {
    const network = new MemoryNetwork({ window: 10 });
    await runVirtual(function* () {
      const { client, server } = yield* pair(network);
      const t = client.transport;
      t.write(bytes("0123456789abcdefghij"));
      t.writeEof();
      t.writeEof();
      expect(() => t.write(bytes("late"))).toThrow(new Error("Transport.write: cannot write after writeEof()"));
      yield* sleep(0);
      t.close();
      yield* sleep(0);
      expect(dataOf(server)).toEqual(["data 0123456789", "data abcdefghij", "eof"]);
      expect(client.lostWith).toBe(null);
      server.transport.close();
      yield* sleep(0);
      expect(server.lostWith).toBe(null);
      expect(network.openConnections).toBe(0);
    });
  });

  it("close() sends what is buffered, then the EOF; it ignores later writes, stops reading, and bytes the peer sends meanwhile are taken and dropped", async () => {
    const network = new MemoryNetwork({ window: 10 });
    await runVirtual(function* () {
      const seen = watchLoopErrors();
      const { client, server } = yield* pair(network);
      server.transport.pauseReading();
      client.transport.write(bytes("0123456789abc"));
      client.transport.close();
      expect(client.transport.isClosing()).toBe(true);
      expect(client.transport.isReading()).toBe(false);
      client.transport.resumeReading();
      expect(client.transport.isReading()).toBe(false);
      client.transport.write(bytes("late"));
      expect(client.transport.getWriteBufferSize()).toBe(3);
      // The server writes more than a window to the closing client: it is acknowledged, not held.
      server.transport.write(bytes("x".repeat(25)));
      server.transport.writeEof();
      yield* sleep(1);
      expect(server.transport.getWriteBufferSize()).toBe(0);
      expect(dataOf(client)).toEqual([]);
      server.transport.resumeReading();
      yield* sleep(1);
      expect(dataOf(server)).toEqual(["data 0123456789", "data abc", "eof"]);
      expect(client.lostWith).toBe(null);
      server.transport.close();
      yield* sleep(0);
      expect(seen).toEqual([]);
      expect(network.openConnections).toBe(0);
    });
  });

  it("bytes sent to an end that is gone come back as a reset (ECONNRESET); an EOF sent to it ends cleanly", async () => {
    const network = new MemoryNetwork({ latency: 5 });
    await runVirtual(function* () {
      const first = yield* pair(network);
      first.client.transport.close();
      yield* sleep(10);
      expect(dataOf(first.server)).toEqual(["eof"]);
      first.server.transport.write(bytes("anyone?"));
      yield* sleep(20);
      expect(first.server.lostWith).toMatchObject({ code: "ECONNRESET" });

      const second = yield* pair(network);
      second.client.transport.close();
      yield* sleep(10);
      second.server.transport.writeEof(); // the FIN reaches a closed end: no reset
      yield* sleep(20);
      expect(second.server.lostWith).toBe(undefined);
      second.server.transport.close();
      yield* sleep(0);
      expect(second.server.lostWith).toBe(null);
      expect(network.openConnections).toBe(0);
    });
  });

  it("abort() drops the write buffer and ends at once: the peer sees the EOF, the protocol connectionLost(null) from a loop callback", async () => {
    const network = new MemoryNetwork();
    await runVirtual(function* () {
      const { client, server } = yield* pair(network);
      network.partition("localhost", "localhost");
      client.transport.write(bytes("dropped"));
      client.transport.close();
      client.transport.abort();
      expect(client.transport.isClosing()).toBe(true);
      expect(client.transport.getWriteBufferSize()).toBe(0);
      expect(client.lostWith).toBe(undefined);
      network.heal();
      yield* sleep(0);
      expect(client.lostWith).toBe(null);
      expect(dataOf(server)).toEqual(["eof"]);
      server.transport.close();
      yield* sleep(0);
      expect(network.openConnections).toBe(0);
    });
  });

  it("a reset loses the buffered bytes, reports read ECONNRESET with the peer's address, and never tells a paused writer to resume", async () => {
    const network = new MemoryNetwork();
    await runVirtual(function* () {
      const { client, server } = yield* pair(network);
      const t = client.transport;
      t.setWriteBufferLimits(10, 0);
      network.partition("localhost", "localhost");
      t.write(bytes("more than ten bytes"));
      expect(t.isReading()).toBe(true);
      expect(network.reset("localhost", 80)).toBe(1);
      expect(t.isClosing()).toBe(true);
      expect(t.isReading()).toBe(false);
      expect(server.transport.isReading()).toBe(false);
      expect(t.getWriteBufferSize()).toBe(0);
      network.heal();
      yield* sleep(0);
      const error = client.lostWith as SystemError;
      expect(error.message).toBe("read ECONNRESET");
      expect(error).toMatchObject({ code: "ECONNRESET", errno: -104, syscall: "read", address: "localhost", port: 80 });
      expect(client.events.map((e) => e.replace(/^\d+ms /, ""))).toEqual(["made", "pauseWriting", "lost ECONNRESET"]);
      expect(server.lostWith).toMatchObject({ code: "ECONNRESET", port: t.getExtraInfo<{ port: number }>("sockname")!.port });
      expect(dataOf(server)).toEqual([]);
      expect(network.openConnections).toBe(0);
    });
  });

  it("an end reset on its own (through its \"socket\") sends no EOF when aborted after", async () => {
    const network = new MemoryNetwork();
    await runVirtual(function* () {
      const { client, server } = yield* pair(network);
      const socket = client.transport.getExtraInfo<{ reset(): void }>("socket")!;
      socket.reset();
      client.transport.abort();
      yield* sleep(1);
      expect(client.lostWith).toMatchObject({ code: "ECONNRESET" });
      expect(dataOf(server)).toEqual([]);
      server.transport.abort();
      yield* sleep(0);
      expect(network.openConnections).toBe(0);
    });
  });

  it("bytes the server sends before the client's end starts wait for it, in order", async () => {
    const network = new MemoryNetwork({ latency: 10 });
    await runVirtual(function* () {
      const loop = getRunningLoop();
      const client = new Log();
      const handle = yield* network.listen(loop, () => {
        const server = new Log();
        server.connectionMade = (transport) => {
          server.transport = transport as Transport;
          server.transport.write(bytes("220 hello"));
        };
        return server;
      }, { host: "localhost", port: 25 });
      yield* network.connect(loop, () => client, { host: "localhost", port: 25 });
      yield* sleep(0);
      expect(client.events).toEqual(["20ms made", "20ms data 220 hello"]);
      handle.close();
      client.transport.abort();
      yield* sleep(20);
    });
  });
});

describe("MemoryTransport surface", () => {
  it("a connection reset during the handshake is made and then lost with ECONNRESET, not left silent", async () => {
    const network = new MemoryNetwork({ latency: 10 });
    await runVirtual(function* () {
      const loop = getRunningLoop();
      const server = new Log();
      const handle = yield* network.listen(loop, () => server, { host: "localhost", port: 25 });
      const client = new Log();
      loop.callLater(15, () => network.reset("localhost", 25)); // the server end exists, the client's not yet
      yield* network.connect(loop, () => client, { host: "localhost", port: 25 });
      yield* sleep(0);
      expect(client.events).toEqual(["20ms made", "20ms lost ECONNRESET"]);
      expect(server.events).toEqual(["10ms made", "15ms lost ECONNRESET"]);
      expect(client.transport.isClosing()).toBe(true);
      expect(network.openConnections).toBe(0);

      // Reset in the very turn the client's end starts, before its loss is reported: still once.
      const seen = watchLoopErrors();
      const start = loop.time();
      const late = new Log();
      loop.callLater(20, () => network.reset("localhost", 25));
      yield* network.connect(loop, () => late, { host: "localhost", port: 25 });
      yield* sleep(0);
      expect(late.events).toEqual([`${start + 20}ms made`, `${start + 20}ms lost ECONNRESET`]);
      expect(late.lostWith).toMatchObject({ code: "ECONNRESET" });
      expect(seen).toEqual([]);
      expect(network.openConnections).toBe(0);
      handle.close();
    });
  });

  it("reports its addresses, the transport as its socket, and TLS: a TLS end cannot half-close", async () => {
    const network = new MemoryNetwork();
    await runVirtual(function* () {
      const plain = yield* pair(network);
      const t = plain.client.transport;
      const port = t.getExtraInfo<{ port: number }>("sockname")!.port;
      expect(t.getExtraInfo("sockname")).toEqual({ address: "localhost", family: "memory", port });
      expect(t.getExtraInfo("peername")).toEqual({ address: "localhost", family: "memory", port: 80 });
      expect(plain.server.transport.getExtraInfo("sockname")).toEqual({ address: "localhost", family: "memory", port: 80 });
      expect(t.getExtraInfo("socket")).toBe(t);
      expect(t.getExtraInfo("sslcontext", "none")).toBe("none");
      expect(t.canWriteEof()).toBe(true);
      t.abort();
      plain.server.transport.abort();

      const secure = yield* pair(network, true);
      const s = secure.client.transport;
      expect(s.getExtraInfo("sslcontext")).toBe("memory-tls");
      expect(s.canWriteEof()).toBe(false);
      expect(() => s.writeEof()).toThrow(new Error("Transport.writeEof: TLS transports cannot half-close (canWriteEof() is false)"));
      s.close();
      expect(() => s.writeEof()).not.toThrow();
      secure.server.transport.close();
      yield* sleep(0);
      expect(network.openConnections).toBe(0);
    });
  });

  it("a Unix-style connection names the path as sockname and peername", async () => {
    const network = new MemoryNetwork();
    await runVirtual(function* () {
      const loop = getRunningLoop();
      const server = new Log();
      const handle = yield* network.listen(loop, () => server, { path: "/run/app.sock" });
      const client = new Log();
      yield* network.connect(loop, () => client, { path: "/run/app.sock" });
      expect(client.transport.getExtraInfo("sockname")).toBe("/run/app.sock");
      expect(client.transport.getExtraInfo("peername")).toBe("/run/app.sock");
      handle.close();
      client.transport.abort();
      server.transport.abort();
      yield* sleep(0);
    });
  });

  it("setProtocol() hands the bytes that arrive next, and the end, to the new protocol", async () => {
    const network = new MemoryNetwork();
    await runVirtual(function* () {
      const { client, server } = yield* pair(network);
      client.transport.write(bytes("one"));
      yield* sleep(0);
      const next = new Log();
      server.transport.setProtocol(next);
      expect(server.transport.getProtocol()).toBe(next);
      client.transport.write(bytes("two"));
      client.transport.close();
      yield* sleep(0);
      expect(dataOf(server)).toEqual(["data one"]);
      expect(dataOf(next)).toEqual(["data two", "eof"]);
      server.transport.close();
      yield* sleep(0);
      expect(next.lostWith).toBe(null);
    });
  });
});

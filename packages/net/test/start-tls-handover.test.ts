/**
 * startTls hands the socket over with everything Node already read from it: what the old
 * transport held, what waited in the dispatcher's queue (`Dispatcher.withdraw`) and what
 * waited for its share, in arrival order; an end of stream among them (or already seen)
 * fails the upgrade instead of leaving the handshake waiting forever.
 *
 * The race of the real-socket tests is made deterministic, not waited for: the server's
 * task is ready before Node reads the peer's next bytes (it yields once per loop turn until
 * the dispatcher has them), so its startTls runs in the turn before the flush that would
 * deliver them, as when a STARTTLS reply and the handshake's first bytes cross.
 */
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { getRunningLoop, run, type Coroutine, type Future } from "@loop/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConnectionResetError, openConnection, startServer, type Server, type StreamReader, type StreamWriter } from "../src/index.js";
import { Dispatcher, dispatcherFor, type DispatchTarget } from "../src/node-dispatcher.js";
import { CLOSE, DATA, END, NodeTransport } from "../src/node-transport.js";
import { bytes, FakeSocket, fakeTransport, LogProtocol } from "./fake-socket.js";
import { expectNoOpenSocketHandles } from "./node-handles.js";
import { makeTestCertificate } from "./tls-cert.js";

const text = (chunk: Uint8Array): string => Buffer.from(chunk).toString();

/** A dispatch target that logs what it is given, as `<name> <kind> <payload>`. */
function target(name: string, log: string[], onEvent?: (payload: unknown) => void): DispatchTarget {
  return {
    handleEvent(kind, payload) {
      log.push(`${name} ${kind} ${payload === null ? "null" : String(payload)}`);
      onEvent?.(payload);
    },
    discard() {},
  };
}

describe("Dispatcher.withdraw", () => {
  it("takes back one target's queued events in order; the others' are delivered in theirs", async () => {
    await run(function* () {
      const dispatcher = new Dispatcher(getRunningLoop());
      const log: string[] = [];
      const a = target("a", log);
      const b = target("b", log);
      dispatcher.push(a, DATA, "a1");
      dispatcher.push(b, DATA, "b1");
      dispatcher.push(a, END, null);
      dispatcher.push(b, DATA, "b2");
      const into: unknown[] = [];
      dispatcher.withdraw(a, into);
      expect(into).toEqual([DATA, "a1", END, null]);
      dispatcher.flush();
      expect(log).toEqual([`b ${DATA} b1`, `b ${DATA} b2`]);
      // The slots were reused, not left behind: the next events of `a` reach it.
      dispatcher.push(a, DATA, "a3");
      dispatcher.flush();
      expect(log.slice(2)).toEqual([`a ${DATA} a3`]);
      yield; // the flush the first push scheduled finds nothing left
      expect(log).toHaveLength(3);
    });
  });

  it("during a flush, takes the target's events not yet delivered in it, then those queued for the next", async () => {
    await run(function* () {
      const dispatcher = new Dispatcher(getRunningLoop());
      const log: string[] = [];
      const into: unknown[] = [];
      const a = target("a", log);
      const b = target("b", log, (payload) => {
        if (payload !== "b1") return;
        dispatcher.push(a, DATA, "a3"); // queued for the next flush
        dispatcher.withdraw(a, into);
      });
      dispatcher.push(a, DATA, "a1");
      dispatcher.push(b, DATA, "b1");
      dispatcher.push(a, DATA, "a2");
      dispatcher.push(b, DATA, "b2");
      dispatcher.flush();
      expect(into).toEqual([DATA, "a2", DATA, "a3"]);
      expect(log).toEqual([`a ${DATA} a1`, `b ${DATA} b1`, `b ${DATA} b2`]);
      dispatcher.flush();
      expect(log).toHaveLength(3);
      // Outside a flush nothing of the last one is taken back.
      dispatcher.withdraw(b, into);
      expect(into).toHaveLength(4);
    });
  });
});

describe("NodeTransport.detach hands over everything the protocol has not had", () => {
  it("the data and the end still queued in the dispatcher; another socket's events stay queued, in order", async () => {
    await run(function* () {
      const loop = getRunningLoop();
      const dispatcher = new Dispatcher(loop);
      const log: string[] = [];
      const protocol = new LogProtocol(log);
      loop.refExternal(); // the transport's, released by the hand-over's new owner (here: nobody)
      const transport = new NodeTransport(loop, new FakeSocket(log) as never, dispatcher, { tls: false });
      transport.start(protocol, true);
      const other = target("other", log);
      transport.incoming(DATA, bytes("client "));
      dispatcher.push(other, DATA, "x");
      transport.incoming(DATA, bytes("hello"));
      transport.incoming(END, null);
      dispatcher.push(other, END, null);
      log.length = 0;
      const { held, eof } = transport.detach();
      expect(held.map(text)).toEqual(["client ", "hello"]);
      expect(eof).toBe(true);
      dispatcher.flush();
      expect(log).toEqual([`other ${DATA} x`, `other ${END} null`]);
      loop.unrefExternal();
    });
  });

  it("held while paused, then queued, then waiting for their share, and the end behind them", async () => {
    await run(function* () {
      const { transport, dispatcher, log } = fakeTransport();
      transport.pauseReading();
      transport.incoming(DATA, bytes("held"));
      dispatcher.deliver();
      transport.incoming(DATA, bytes("queued....")); // a whole share: still in the dispatcher
      transport.incoming(DATA, bytes("waiting"));
      transport.incoming(END, null);
      log.length = 0;
      const { held, eof } = transport.detach();
      expect(held.map(text)).toEqual(["held", "queued....", "waiting"]);
      expect(eof).toBe(true);
      dispatcher.deliver();
      dispatcher.releaseHeld(); // the release asked for before the detach finds nothing
      expect(log).toEqual(["release → false"]);
    });
  });

  it("an end held while paused", async () => {
    await run(function* () {
      const { transport, dispatcher } = fakeTransport();
      transport.pauseReading();
      transport.incoming(DATA, bytes("last"));
      transport.incoming(END, null);
      dispatcher.deliver();
      const { held, eof } = transport.detach();
      expect(held.map(text)).toEqual(["last"]);
      expect(eof).toBe(true);
    });
  });

  it("no end when none came", async () => {
    await run(function* () {
      const { transport } = fakeTransport();
      transport.incoming(DATA, bytes("more to come"));
      expect(transport.detach()).toMatchObject({ eof: false });
    });
  });
});

let key = "";
let cert = "";

beforeAll(() => {
  ({ key, cert } = makeTestCertificate());
});

afterAll(async () => {
  await expectNoOpenSocketHandles();
});

/**
 * Watches the loop's dispatcher: `arm(transport, kind)` makes `seen()` true once Node has
 * queued an event of that kind for that transport (before the flush that delivers it).
 */
function watchDispatcher(): { arm(transport: unknown, kind: number): void; seen(): boolean; restore(): void } {
  const dispatcher = dispatcherFor(getRunningLoop());
  const push = dispatcher.push;
  let watched: unknown = null;
  let watchedKind = -1;
  let seen = false;
  dispatcher.push = function (this: Dispatcher, t, kind, payload) {
    push.call(this, t, kind, payload);
    if (t === watched && kind === watchedKind) seen = true;
  };
  return {
    arm(transport, kind) {
      watched = transport;
      watchedKind = kind;
    },
    seen: () => seen,
    restore: () => void (dispatcher.push = push),
  };
}

/** Reads "STARTTLS", says GO, then yields once per loop turn until Node has queued the peer's next event of `kind`. */
function* untilQueued(reader: StreamReader, writer: StreamWriter, watch: ReturnType<typeof watchDispatcher>, kind: number): Coroutine<void> {
  expect(text(yield* reader.readline())).toBe("STARTTLS\n");
  watch.arm(writer.transport, kind);
  writer.write("GO\n");
  while (!watch.seen()) yield;
}

/**
 * A server whose handler runs `before`, then tries `startTls`: `outcome` gets "upgraded"
 * or the error it threw. Returns it with a client connected to it.
 */
function* upgradingServer(before: (reader: StreamReader, writer: StreamWriter) => Coroutine<void>): Coroutine<{ server: Server; outcome: Future<unknown>; reader: StreamReader; writer: StreamWriter }> {
  const outcome = getRunningLoop().createFuture<unknown>();
  const server = yield* startServer(
    function* (reader, writer) {
      yield* before(reader, writer);
      try {
        yield* writer.startTls({ key, cert });
        outcome.setResult("upgraded");
      } catch (error) {
        outcome.setResult(error);
      }
    },
    "127.0.0.1",
    0,
  );
  const port = (server.address() as { port: number }).port;
  const [reader, writer] = yield* openConnection("127.0.0.1", port);
  return { server, outcome, reader, writer };
}

describe("startTls on a real connection (127.0.0.1)", () => {
  it("the peer's first handshake bytes, queued in the dispatcher when the server detaches, reach the TLS socket", async (context) => {
    if (cert === "") return context.skip("openssl is not installed: no certificate for the TLS tests");
    await run(function* () {
      const watch = watchDispatcher();
      const serverSaw: string[] = [];
      const server = yield* startServer(
        function* (reader, writer) {
          yield* untilQueued(reader, writer, watch, DATA);
          yield* writer.startTls({ key, cert });
          serverSaw.push(text(yield* reader.readline()));
          writer.write("over tls\n");
          yield* writer.drain();
          writer.close();
        },
        "127.0.0.1",
        0,
      );
      const port = (server.address() as { port: number }).port;
      const [reader, writer] = yield* openConnection("127.0.0.1", port);
      writer.write("STARTTLS\n");
      expect(text(yield* reader.readline())).toBe("GO\n");
      yield* writer.startTls({ ca: cert, serverHostname: "localhost" });
      expect(writer.getExtraInfo<TLSSocket>("socket")!.encrypted).toBe(true);
      writer.write("hello\n");
      expect(text(yield* reader.readline())).toBe("over tls\n");
      expect(serverSaw).toEqual(["hello\n"]);
      expect(watch.seen()).toBe(true);
      watch.restore();
      writer.close();
      yield* writer.waitClosed();
      server.close();
      yield* server.waitClosed();
    });
    await expectNoOpenSocketHandles();
  });

  it("the peer's first handshake bytes, left in the socket's own buffer while the server had paused reading, reach the TLS socket", async (context) => {
    if (cert === "") return context.skip("openssl is not installed: no certificate for the TLS tests");
    await run(function* () {
      const serverSaw: string[] = [];
      const server = yield* startServer(
        function* (reader, writer) {
          expect(text(yield* reader.readline())).toBe("STARTTLS\n");
          writer.transport.pauseReading();
          writer.write("GO\n");
          // Node keeps reading into a paused socket's buffer: wait for the handshake there.
          const raw = writer.getExtraInfo<Socket>("socket")!;
          while (raw.readableLength === 0) yield;
          yield* writer.startTls({ key, cert });
          serverSaw.push(text(yield* reader.readline()));
          writer.write("over tls\n");
          yield* writer.drain();
          writer.close();
        },
        "127.0.0.1",
        0,
      );
      const port = (server.address() as { port: number }).port;
      const [reader, writer] = yield* openConnection("127.0.0.1", port);
      writer.write("STARTTLS\n");
      expect(text(yield* reader.readline())).toBe("GO\n");
      yield* writer.startTls({ ca: cert, serverHostname: "localhost" });
      writer.write("hello\n");
      expect(text(yield* reader.readline())).toBe("over tls\n");
      expect(serverSaw).toEqual(["hello\n"]);
      writer.close();
      yield* writer.waitClosed();
      server.close();
      yield* server.waitClosed();
    });
    await expectNoOpenSocketHandles();
  });

  it("an end queued in the dispatcher when the server detaches fails the upgrade with ConnectionResetError (no hang)", async (context) => {
    if (cert === "") return context.skip("openssl is not installed: no certificate for the TLS tests");
    await run(function* () {
      const watch = watchDispatcher();
      const { server, outcome, reader, writer } = yield* upgradingServer((r, w) => untilQueued(r, w, watch, END));
      writer.write("STARTTLS\n");
      expect(text(yield* reader.readline())).toBe("GO\n");
      writer.writeEof();
      // The server drops the connection: the client reads its end.
      expect(yield* reader.read()).toHaveLength(0);
      expect(yield* outcome).toBeInstanceOf(ConnectionResetError);
      watch.restore();
      writer.close();
      yield* writer.waitClosed();
      server.close();
      yield* server.waitClosed();
    });
    await expectNoOpenSocketHandles();
  });

  it("a reset queued in the dispatcher when the server detaches fails the upgrade with the socket's error (no hang)", async (context) => {
    if (cert === "") return context.skip("openssl is not installed: no certificate for the TLS tests");
    await run(function* () {
      const watch = watchDispatcher();
      const { server, outcome, reader, writer } = yield* upgradingServer((r, w) => untilQueued(r, w, watch, CLOSE));
      writer.write("STARTTLS\n");
      expect(text(yield* reader.readline())).toBe("GO\n");
      writer.getExtraInfo<Socket>("socket")!.resetAndDestroy();
      expect(yield* outcome).toMatchObject({ code: "ECONNRESET" });
      watch.restore();
      yield* writer.waitClosed(); // the client's own reset: a close, not an error
      server.close();
      yield* server.waitClosed();
    });
    await expectNoOpenSocketHandles();
  });

  it("an end the old protocol already had (kept open) fails the upgrade with ConnectionResetError (no hang)", async (context) => {
    if (cert === "") return context.skip("openssl is not installed: no certificate for the TLS tests");
    await run(function* () {
      const { server, outcome, reader, writer } = yield* upgradingServer(function* (reader) {
        expect(text(yield* reader.readline())).toBe("STARTTLS\n");
        expect(yield* reader.read()).toHaveLength(0); // the end: a plain socket stays half-open
      });
      writer.write("STARTTLS\n");
      writer.writeEof();
      expect(yield* reader.read()).toHaveLength(0);
      expect(yield* outcome).toBeInstanceOf(ConnectionResetError);
      writer.close();
      yield* writer.waitClosed();
      server.close();
      yield* server.waitClosed();
    });
    await expectNoOpenSocketHandles();
  });
});

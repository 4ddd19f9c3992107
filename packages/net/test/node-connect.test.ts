/**
 * Connecting through the Node socket driver (`createConnection`, `openConnection`,
 * `NodeNetDriver.connect`): what a cancelled, timed-out or failed connect leaves behind
 * (nothing), which TLS options reach Node, and what the attempt hands the transport.
 */
import * as net from "node:net";
import * as tls from "node:tls";
import { CancelledError, TimeoutError, createTask, getRunningLoop, run, type BaseTransport, type Coroutine, type ErrorContext, type EventLoop, type Future, type Protocol, type Transport, ensureFuture } from "@loop/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createConnection, createServer, nodeNetDriver, openConnection, openUnixConnection, startServer, startUnixServer, type StreamReader, type StreamWriter } from "../src/index.js";
import { dispatcherFor, type DispatchTarget } from "../src/node-dispatcher.js";
import { expectNoOpenSocketHandles } from "./node-handles.js";
import { catching } from "./stream-suite.js";
import { makeTestCertificate } from "./tls-cert.js";

let key = "";
let cert = "";

beforeAll(() => {
  ({ key, cert } = makeTestCertificate());
});

afterAll(async () => {
  await expectNoOpenSocketHandles();
});

class Quiet implements Protocol {
  readonly log: string[] = [];
  connectionMade(_transport: BaseTransport): void {
    this.log.push("made");
  }
  dataReceived(data: Uint8Array): void {
    this.log.push(`data ${Buffer.from(data).toString()}`);
  }
  eofReceived(): boolean {
    this.log.push("eof");
    return false;
  }
  connectionLost(error: Error | null): void {
    this.log.push(`lost ${error === null ? "null" : error.message}`);
  }
  pauseWriting(): void {}
  resumeWriting(): void {}
}

const quiet = (): Quiet => new Quiet();

/** Waits a bounded number of loop turns (each lets Node poll) for `condition`: no sleeps. */
function* until(condition: () => boolean, turns = 10_000): Coroutine<void> {
  for (let i = 0; i < turns; i++) {
    if (condition()) return;
    yield;
  }
  throw new Error("condition not reached");
}

function externalRefs(loop: EventLoop): number {
  return (loop as unknown as { _externalRefs: number })._externalRefs;
}

/** Errors the loop's exception handler hears while `body` runs. */
function* collectingLoopErrors<T>(body: (errors: ErrorContext[]) => Coroutine<T>): Coroutine<T> {
  const loop = getRunningLoop();
  const errors: ErrorContext[] = [];
  loop.setExceptionHandler((_loop, context) => errors.push(context));
  try {
    return yield* body(errors);
  } finally {
    loop.setExceptionHandler(null);
  }
}

/**
 * A plain TCP listener (Node's own) that accepts and never answers: a TLS connect to it
 * waits in its handshake for as long as the test wants.
 */
function* silentServer(): Coroutine<{ port: number; accepted: net.Socket[]; close: () => Coroutine<void> }> {
  const accepted: net.Socket[] = [];
  const server = net.createServer((socket) => {
    socket.on("error", () => {});
    // Reading (and dropping) what comes lets it see the client's FIN or RST.
    socket.resume();
    accepted.push(socket);
  });
  yield* ensureFuture(new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve)));
  return {
    port: (server.address() as net.AddressInfo).port,
    accepted,
    *close() {
      for (const socket of accepted) socket.destroy();
      yield* ensureFuture(new Promise<void>((resolve) => server.close(() => resolve())));
    },
  };
}

/** The connect attempts (not transports) the driver has open on `loop`, newest last. */
function openAttempts(loop: EventLoop): (DispatchTarget & { _future: Future<Transport> })[] {
  return [...dispatcherFor(loop).open].filter((target) => "_protocolFactory" in target && "_future" in target && !("transports" in target)) as never;
}

function* echoLines(reader: StreamReader, writer: StreamWriter): Coroutine<void> {
  for (;;) {
    const line = yield* reader.readline();
    if (line.length === 0) return;
    writer.write(line);
    yield* writer.drain();
  }
}

describe("a connect that does not finish", () => {
  it("cancelled in its TLS handshake: throws CancelledError, closes the socket, leaves no external ref and reports nothing", async (context) => {
    if (cert === "") return context.skip("openssl is not installed");
    await run(function* () {
      const silent = yield* silentServer();
      const loop = getRunningLoop();
      const refsBefore = externalRefs(loop);
      yield* collectingLoopErrors(function* (errors) {
        const connecting = createTask(createConnection(quiet, "127.0.0.1", silent.port, { tls: { ca: cert } }));
        yield* until(() => silent.accepted.length === 1);
        expect(connecting.waitingOn()?.label).toBe(`createConnection to 127.0.0.1:${silent.port}`);
        connecting.cancel();
        const error = yield* catching(connecting);
        expect(error).toBeInstanceOf(CancelledError);
        // The peer sees the connection go: the socket was destroyed, not left to the loop's close.
        yield* until(() => silent.accepted[0]!.closed);
        expect(externalRefs(loop)).toBe(refsBefore);
        expect(openAttempts(loop)).toEqual([]);
        for (let i = 0; i < 5; i++) yield;
        expect(errors).toEqual([]);
      });
      yield* silent.close();
    });
    await expectNoOpenSocketHandles();
  });

  it("past createConnection's timeout: a TimeoutError with code ETIMEDOUT and the address, and the socket closed", async (context) => {
    if (cert === "") return context.skip("openssl is not installed");
    await run(function* () {
      const silent = yield* silentServer();
      const loop = getRunningLoop();
      const refsBefore = externalRefs(loop);
      const error = (yield* catching(createConnection(quiet, "127.0.0.1", silent.port, { tls: { ca: cert }, timeout: 0 }))) as TimeoutError & { code: string; host: string; port: number };
      expect(error).toBeInstanceOf(TimeoutError);
      expect(error.message).toBe(`createConnection: connecting to 127.0.0.1:${silent.port} timed out after 0 ms`);
      expect(error.code).toBe("ETIMEDOUT");
      expect(error.port).toBe(silent.port);
      yield* until(() => openAttempts(loop).length === 0 && externalRefs(loop) === refsBefore);
      yield* silent.close();
    });
    await expectNoOpenSocketHandles();
  });

  it("a timeout that does not expire is cancelled: the connection is made and nothing fires later", async () => {
    await run(function* () {
      const server = yield* startServer(echoLines, "127.0.0.1", 0);
      const port = (server.address() as { port: number }).port;
      const loop = getRunningLoop();
      const timers = (): number => (loop as unknown as { _timers: { size: number } })._timers.size;
      const before = timers();
      const [transport, protocol] = yield* createConnection(quiet, "127.0.0.1", port, { timeout: 60_000 });
      expect(protocol.log).toEqual(["made"]);
      // The connect timeout's timer went with the connect: none is left armed.
      expect(timers()).toBe(before);
      transport.close();
      server.close();
      yield* server.waitClosed();
    });
    await expectNoOpenSocketHandles();
  });

  it("cancelled after the connection was made but before the task resumed: the transport is aborted, not leaked", async () => {
    await run(function* () {
      const served: Quiet[] = [];
      const server = yield* createServer(
        () => {
          const protocol = new Quiet();
          served.push(protocol);
          return protocol;
        },
        "127.0.0.1",
        0,
      );
      const port = (server.address() as { port: number }).port;
      const loop = getRunningLoop();
      const made: Quiet[] = [];
      const connecting = createTask(
        createConnection(
          () => {
            const protocol = new Quiet();
            made.push(protocol);
            return protocol;
          },
          "127.0.0.1",
          port,
        ),
      );
      yield;
      const [attempt] = openAttempts(loop);
      expect(attempt).toBeDefined();
      const pending = attempt!._future;
      yield* until(() => pending.done());
      // The task is woken with the transport but has not run yet: cancel it now.
      connecting.cancel();
      expect(yield* catching(connecting)).toBeInstanceOf(CancelledError);
      expect(made).toHaveLength(1);
      yield* until(() => made[0]!.log.at(-1)?.startsWith("lost") === true);
      yield* until(() => served.length === 1 && served[0]!.log.at(-1)?.startsWith("lost") === true);
      server.close();
      yield* server.waitClosed();
    });
    await expectNoOpenSocketHandles();
  });

  it("cancelled after the connect failed but before the task resumed: the cancellation wins, not the connect's error", async () => {
    await run(function* () {
      const server = yield* startServer(echoLines, "127.0.0.1", 0);
      const port = (server.address() as { port: number }).port;
      server.close();
      yield* server.waitClosed();
      const loop = getRunningLoop();
      const connecting = createTask(createConnection(quiet, "127.0.0.1", port));
      yield;
      const pending = openAttempts(loop)[0]!._future;
      yield* until(() => pending.done());
      expect((pending.exception() as { code?: string }).code).toBe("ECONNREFUSED");
      connecting.cancel();
      expect(yield* catching(connecting)).toBeInstanceOf(CancelledError);
    });
    await expectNoOpenSocketHandles();
  });

  it("left pending when the loop closes: the socket is destroyed with the loop", async (context) => {
    if (cert === "") return context.skip("openssl is not installed");
    let silent: { port: number; accepted: net.Socket[]; close: () => Coroutine<void> } | null = null;
    let pending: Future<Transport> | null = null;
    await run(function* () {
      silent = yield* silentServer();
      const loop = getRunningLoop();
      pending = nodeNetDriver.connect(loop, quiet, { host: "127.0.0.1", port: silent.port, tls: { ca: cert } }) as Future<Transport>;
      yield* until(() => silent!.accepted.length === 1);
      // run() returns with the handshake still going: the loop's close must release the socket.
    });
    expect(pending!.done()).toBe(false);
    const peer = silent!.accepted[0]!;
    for (let i = 0; i < 50 && !peer.closed; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(peer.closed).toBe(true);
    await run(function* () {
      yield* silent!.close();
    });
    await expectNoOpenSocketHandles();
  });
});

describe("a connect that fails", () => {
  it("refused: gives back its one external ref exactly once", async () => {
    await run(function* () {
      const loop = getRunningLoop();
      // A listener keeps a ref of its own, so that one given back twice would show.
      const server = yield* startServer(echoLines, "127.0.0.1", 0);
      const closed = yield* startServer(echoLines, "127.0.0.1", 0);
      const port = (closed.address() as { port: number }).port;
      closed.close();
      yield* closed.waitClosed();
      const refsBefore = externalRefs(loop);
      expect(refsBefore).toBeGreaterThan(0);
      const error = (yield* catching(createConnection(quiet, "127.0.0.1", port))) as { code?: string };
      expect(error.code).toBe("ECONNREFUSED");
      for (let i = 0; i < 5; i++) yield;
      expect(externalRefs(loop)).toBe(refsBefore);
      server.close();
      yield* server.waitClosed();
    });
    await expectNoOpenSocketHandles();
  });

  it("when Node refuses the options at once (a bad CA): the future fails with Node's TypeError and the address, and no ref is left", async () => {
    await run(function* () {
      const loop = getRunningLoop();
      const refsBefore = externalRefs(loop);
      const pending = nodeNetDriver.connect(loop, quiet, { host: "127.0.0.1", port: 1, tls: { ca: 5 as unknown as string } });
      const error = (yield* catching(pending)) as TypeError & { code: string; port: number; host: string };
      expect(error).toBeInstanceOf(TypeError);
      expect(error.code).toBe("ERR_INVALID_ARG_TYPE");
      expect(error.port).toBe(1);
      expect(externalRefs(loop)).toBe(refsBefore);
      expect(openAttempts(loop)).toEqual([]);
    });
    await expectNoOpenSocketHandles();
  });

  it("with a port Node refuses (called directly, without createConnection's checks): a RangeError naming the port, and no socket handle left open", async () => {
    for (const port of [70000, -1, 1.5, 65536]) {
      await run(function* () {
        const loop = getRunningLoop();
        const refsBefore = externalRefs(loop);
        const pending = nodeNetDriver.connect(loop, quiet, { host: "127.0.0.1", port });
        const error = (yield* catching(pending)) as RangeError & { port: number; address: string };
        expect(error).toBeInstanceOf(RangeError);
        expect(error.message).toBe(`NodeNetDriver.connect: port must be an integer from 0 to 65535, got ${port}`);
        expect([error.address, error.port]).toEqual(["127.0.0.1", port]);
        expect(externalRefs(loop)).toBe(refsBefore);
      });
      // Node's own check threw after making a TCP handle, which stayed open.
      await expectNoOpenSocketHandles();
    }
  });

  it("when the protocol factory throws: createConnection throws that error and the new connection is aborted", async () => {
    await run(function* () {
      const served: StreamReader[] = [];
      const server = yield* startServer(
        function* (reader) {
          served.push(reader);
          yield* reader.read();
        },
        "127.0.0.1",
        0,
      );
      const port = (server.address() as { port: number }).port;
      const boom = new Error("no protocol for you");
      const loop = getRunningLoop();
      const refsBefore = externalRefs(loop);
      const error = yield* catching(
        createConnection(
          () => {
            throw boom;
          },
          "127.0.0.1",
          port,
        ),
      );
      expect(error).toBe(boom);
      // The server's side ends: the client socket was aborted, not left open.
      yield* until(() => served.length === 1 && served[0]!.atEof());
      yield* until(() => externalRefs(loop) === refsBefore);
      server.close();
      yield* server.waitClosed();
    });
    await expectNoOpenSocketHandles();
  });
});

describe("what the attempt hands the transport", () => {
  it("a Unix connection is half-open: the client still writes after the server's EOF", async () => {
    const { mkdtempSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dir = mkdtempSync(join(tmpdir(), "loop-net-half-"));
    const path = join(dir, "half.sock");
    try {
      await run(function* () {
        const heard: string[] = [];
        const server = yield* startUnixServer(function* (reader, writer) {
          writer.writeEof();
          heard.push(Buffer.from(yield* reader.read()).toString());
          writer.close();
        }, path);
        const [reader, writer] = yield* openUnixConnection(path);
        expect((yield* reader.read()).length).toBe(0);
        writer.write("after your EOF");
        writer.writeEof();
        yield* until(() => heard.length === 1);
        expect(heard).toEqual(["after your EOF"]);
        writer.close();
        yield* writer.waitClosed();
        server.close();
        yield* server.waitClosed();
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await expectNoOpenSocketHandles();
  });


  it("once the transport has the socket, an error the attempt still hears is not the attempt's: the connection goes on", async () => {
    await run(function* () {
      const server = yield* startServer(echoLines, "127.0.0.1", 0);
      const port = (server.address() as { port: number }).port;
      const loop = getRunningLoop();
      const pending = nodeNetDriver.connect(loop, quiet, { host: "127.0.0.1", port });
      const attempt = openAttempts(loop)[0]!;
      const transport = yield* pending;
      const socket = transport.getExtraInfo<net.Socket>("socket")!;
      // Node may queue an 'error' in the same batch as 'connect'; delivered after the hand-over, it must not touch the socket.
      attempt.handleEvent(1, new Error("late"));
      expect(socket.destroyed).toBe(false);
      // Only the transport listens for the socket's errors now.
      expect(socket.listenerCount("error")).toBe(1);
      const protocol = (transport as unknown as { _protocol: Quiet })._protocol;
      transport.write(Buffer.from("still here\n"));
      yield* until(() => protocol.log.includes("data still here\n"));
      transport.close();
      server.close();
      yield* server.waitClosed();
    });
    await expectNoOpenSocketHandles();
  });

  it("an error delivered after the future was cancelled, before the cancellation's callback ran, fails nothing twice", async (context) => {
    if (cert === "") return context.skip("openssl is not installed");
    await run(function* () {
      const silent = yield* silentServer();
      const loop = getRunningLoop();
      const refsBefore = externalRefs(loop);
      yield* collectingLoopErrors(function* (errors) {
        const pending = nodeNetDriver.connect(loop, quiet, { host: "127.0.0.1", port: silent.port, tls: { ca: cert } });
        const attempt = openAttempts(loop)[0]!;
        yield* until(() => silent.accepted.length === 1);
        pending.cancel();
        expect(() => attempt.handleEvent(1, Object.assign(new Error("reset"), { code: "ECONNRESET" }))).not.toThrow();
        for (let i = 0; i < 5; i++) yield;
        expect(pending.cancelled()).toBe(true);
        expect(errors).toEqual([]);
        yield* until(() => silent.accepted[0]!.closed);
        expect(externalRefs(loop)).toBe(refsBefore);
      });
      yield* silent.close();
    });
    await expectNoOpenSocketHandles();
  });
});

describe("the TLS options a connect gives Node", () => {
  /** A TLS server (Node's own) that records the SNI name each client sent. */
  function* sniServer(): Coroutine<{ port: number; names: (string | false)[]; close: () => Coroutine<void> }> {
    const names: (string | false)[] = [];
    const sockets: tls.TLSSocket[] = [];
    const server = tls.createServer({ key, cert }, (socket) => {
      names.push((socket as tls.TLSSocket & { servername: string | false }).servername);
      sockets.push(socket);
      socket.on("error", () => {});
    });
    yield* ensureFuture(new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve)));
    return {
      port: (server.address() as net.AddressInfo).port,
      names,
      *close() {
        for (const socket of sockets) socket.destroy();
        yield* ensureFuture(new Promise<void>((resolve) => server.close(() => resolve())));
      },
    };
  }

  it("SNI: the host when it is a name, none for an IP address, and serverHostname over both", async (context) => {
    if (cert === "") return context.skip("openssl is not installed");
    await run(function* () {
      const sni = yield* sniServer();
      const [, byName] = yield* openConnection("localhost", sni.port, { tls: { ca: cert } });
      const [, byIp] = yield* openConnection("127.0.0.1", sni.port, { tls: { ca: cert } });
      const [, named] = yield* openConnection("localhost", sni.port, { tls: { ca: cert, checkServerIdentity: () => undefined }, serverHostname: "other.example" });
      yield* until(() => sni.names.length === 3);
      expect(sni.names).toEqual(["localhost", false, "other.example"]);
      for (const writer of [byName, byIp, named]) writer.transport.abort();
      yield* sni.close();
    });
    await expectNoOpenSocketHandles();
  });

  it("tls: false is a plain connection, tls: true a TLS one with Node's defaults", async (context) => {
    if (cert === "") return context.skip("openssl is not installed");
    await run(function* () {
      const plain = yield* startServer(echoLines, "127.0.0.1", 0);
      const [plainReader, plainWriter] = yield* openConnection("127.0.0.1", (plain.address() as { port: number }).port, { tls: false });
      expect(plainWriter.getExtraInfo("sslcontext")).toBeUndefined();
      expect(plainWriter.canWriteEof()).toBe(true);
      plainWriter.write("plain\n");
      expect(Buffer.from(yield* plainReader.readline()).toString()).toBe("plain\n");
      plainWriter.close();
      yield* plainWriter.waitClosed();
      plain.close();
      yield* plain.waitClosed();

      const secure = yield* startServer(echoLines, "127.0.0.1", 0, { tls: { key, cert } });
      // tls: true verifies against the default CAs; this test's certificate is self-signed.
      const previous = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      const warnings = process.listeners("warning");
      process.removeAllListeners("warning");
      process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
      let writer: StreamWriter;
      try {
        [, writer] = yield* openConnection("127.0.0.1", (secure.address() as { port: number }).port, { tls: true });
      } finally {
        if (previous === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
        else process.env.NODE_TLS_REJECT_UNAUTHORIZED = previous;
        for (const listener of warnings) process.on("warning", listener);
      }
      expect(writer.getExtraInfo("sslcontext")).not.toBeUndefined();
      expect(writer.canWriteEof()).toBe(false);
      writer.transport.abort();
      secure.close();
      secure.abortClients();
      yield* secure.waitClosed();
    });
    await expectNoOpenSocketHandles();
  });

  it("turns TCP_NODELAY on for TLS connections, on the client's socket and the server's", async (context) => {
    if (cert === "") return context.skip("openssl is not installed");
    const noDelay = (socket: net.Socket): boolean => {
      const symbol = Object.getOwnPropertySymbols(socket).find((s) => s.description === "kSetNoDelay");
      return symbol === undefined ? true : (socket as unknown as Record<symbol, boolean>)[symbol] === true;
    };
    await run(function* () {
      const accepted: StreamWriter[] = [];
      const server = yield* startServer(
        function* (reader, writer) {
          accepted.push(writer);
          yield* echoLines(reader, writer);
        },
        "127.0.0.1",
        0,
        { tls: { key, cert } },
      );
      const [reader, writer] = yield* openConnection("127.0.0.1", (server.address() as { port: number }).port, { tls: { ca: cert } });
      writer.write("x\n");
      yield* reader.readline();
      expect(noDelay(writer.getExtraInfo<net.Socket>("socket")!)).toBe(true);
      expect(noDelay(accepted[0]!.getExtraInfo<net.Socket>("socket")!)).toBe(true);
      writer.close();
      yield* writer.waitClosed();
      server.close();
      yield* server.waitClosed();
    });
    await expectNoOpenSocketHandles();
  });
});

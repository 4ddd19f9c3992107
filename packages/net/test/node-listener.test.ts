/**
 * Listening through the Node socket driver and the `Server` on top (`createServer`,
 * `createUnixServer`, `startServer`, `NodeNetDriver.listen`): where it listens, what its
 * handle tracks, what close and cancellation leave behind, and how `Server` counts
 * connections for `waitClosed()`.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CancelledError, createTask, ensureFuture, getRunningLoop, run, type BaseTransport, type Coroutine, type ErrorContext, type EventLoop, type Future, type Protocol, type ServerHandle, type Transport } from "@loop/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer, createUnixServer, nodeNetDriver, openConnection, openUnixConnection, startServer, startUnixServer, type Server, type StreamReader, type StreamWriter } from "../src/index.js";
import { nodeCanReusePort } from "../src/node-driver.js";
import { dispatcherFor } from "../src/node-dispatcher.js";
import { expectNoOpenSocketHandles } from "./node-handles.js";
import { catching } from "./stream-suite.js";
import { makeTestCertificate } from "./tls-cert.js";

let dir = "";
let key = "";
let cert = "";

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "loop-net-listen-"));
  ({ key, cert } = makeTestCertificate());
});

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await expectNoOpenSocketHandles();
});

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString();

class Logging implements Protocol {
  readonly log: string[] = [];
  transport: Transport | null = null;
  connectionMade(transport: BaseTransport): void {
    this.transport = transport as Transport;
    this.log.push("made");
  }
  dataReceived(data: Uint8Array): void {
    this.log.push(`data ${text(data)}`);
  }
  eofReceived(): boolean {
    this.log.push("eof");
    return false;
  }
  connectionLost(error: Error | null): void {
    this.log.push(`lost ${error === null ? "null" : error.message}`);
  }
  pauseWriting(): void {
    this.log.push("pause");
  }
  resumeWriting(): void {
    this.log.push("resume");
  }
}

function* until(condition: () => boolean, turns = 10_000): Coroutine<void> {
  for (let i = 0; i < turns; i++) {
    if (condition()) return;
    yield;
  }
  throw new Error("condition not reached");
}

function portOf(server: Server | ServerHandle): number {
  return (server.address() as net.AddressInfo).port;
}

function externalRefs(loop: EventLoop): number {
  return (loop as unknown as { _externalRefs: number })._externalRefs;
}

function handleOf(server: Server): ServerHandle {
  return (server as unknown as { _handle: ServerHandle })._handle;
}

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

function* echoLines(reader: StreamReader, writer: StreamWriter): Coroutine<void> {
  for (;;) {
    const line = yield* reader.readline();
    if (line.length === 0) return;
    writer.write(line);
    yield* writer.drain();
  }
}

/** A client with Node's own socket: connects and reports when the server ends the connection. */
function* rawClient(port: number): Coroutine<{ socket: net.Socket; ended: () => boolean }> {
  const socket = net.connect({ host: "127.0.0.1", port });
  let ended = false;
  socket.on("error", () => {});
  socket.on("close", () => (ended = true));
  socket.resume();
  yield* ensureFuture(new Promise<void>((resolve) => socket.once("connect", () => resolve())));
  return { socket, ended: () => ended };
}

describe("reusePort", () => {
  it("Node has it from 22.12 on (and in every later major)", () => {
    expect(nodeCanReusePort("22.12.0")).toBe(true);
    expect(nodeCanReusePort("22.13.1")).toBe(true);
    expect(nodeCanReusePort("23.0.0")).toBe(true);
    expect(nodeCanReusePort("24.1.0")).toBe(true);
    expect(nodeCanReusePort("22.11.9")).toBe(false);
    expect(nodeCanReusePort("21.99.0")).toBe(false);
    expect(nodeCanReusePort("20.20.2")).toBe(false);
  });

  it("where Node has it, two listeners share one port", async () => {
    await run(function* () {
      if (!nodeCanReusePort(process.versions.node)) {
        const refused = yield* catching(createServer(() => new Logging(), "127.0.0.1", 0, { reusePort: true }));
        expect(String(refused)).toMatch(/reusePort: Node v\d+.*cannot set SO_REUSEPORT/);
        return;
      }
      const one = yield* createServer(() => new Logging(), "127.0.0.1", 0, { reusePort: true });
      const two = yield* createServer(() => new Logging(), "127.0.0.1", portOf(one), { reusePort: true });
      expect(portOf(two)).toBe(portOf(one));
      for (const server of [one, two]) {
        server.close();
        yield* server.waitClosed();
      }
    });
    await expectNoOpenSocketHandles();
  });
});

describe("where a server listens", () => {
  it("createServer listens on the host and port asked for, and serves TLS when given tls", async (context) => {
    if (cert === "") return context.skip("openssl is not installed");
    await run(function* () {
      const server = yield* createServer(() => new Logging(), "127.0.0.1", 0, { tls: { key, cert }, backlog: 8 });
      expect((server.address() as net.AddressInfo).address).toBe("127.0.0.1");
      const [, writer] = yield* openConnection("127.0.0.1", portOf(server), { tls: { ca: cert } });
      expect(writer.getExtraInfo("sslcontext")).not.toBeUndefined();
      writer.transport.abort();
      server.close();
      server.abortClients();
      yield* server.waitClosed();
    });
    await expectNoOpenSocketHandles();
  });

  it("createUnixServer listens on its path; close() removes the socket file", async () => {
    const path = join(dir, "proto.sock");
    await run(function* () {
      const served: Logging[] = [];
      const server = yield* createUnixServer(() => {
        const protocol = new Logging();
        served.push(protocol);
        return protocol;
      }, path);
      expect(server.address()).toBe(path);
      const [, writer] = yield* openUnixConnection(path);
      writer.write("hi");
      yield* until(() => served[0]?.log.includes("data hi") === true);
      writer.close();
      yield* writer.waitClosed();
      server.close();
      yield* server.waitClosed();
    });
    expect(existsSync(path)).toBe(false);
    await expectNoOpenSocketHandles();
  });

  it("a Unix server that failed to listen (the path is taken) leaves the other server's socket file alone", async () => {
    const path = join(dir, "taken.sock");
    await run(function* () {
      const first = yield* startUnixServerEcho(path);
      const error = (yield* catching(createUnixServer(() => new Logging(), path))) as { code?: string };
      expect(error.code).toBe("EADDRINUSE");
      // Its socket file is still there: clients still reach it.
      const [reader, writer] = yield* openUnixConnection(path);
      writer.write("still served\n");
      expect(text(yield* reader.readline())).toBe("still served\n");
      writer.close();
      yield* writer.waitClosed();
      first.close();
      yield* first.waitClosed();
    });
    await expectNoOpenSocketHandles();
  });
});

function* startUnixServerEcho(path: string): Coroutine<Server> {
  return yield* startUnixServer(echoLines, path);
}

describe("the listener's handle", () => {
  it("an accepted TCP connection names its peer's address; an accepted Unix one has an empty peer name, as asyncio's", async () => {
    const path = join(dir, "peer.sock");
    await run(function* () {
      const writers: StreamWriter[] = [];
      const keep = function* (reader: StreamReader, writer: StreamWriter): Coroutine<void> {
        writers.push(writer);
        yield* reader.read();
      };
      const tcp = yield* startServer(keep, "127.0.0.1", 0);
      const [, tcpClient] = yield* openConnection("127.0.0.1", portOf(tcp));
      const unix = yield* startUnixServer(keep, path);
      const [, unixClient] = yield* openUnixConnection(path);
      yield* until(() => writers.length === 2);
      const [tcpServed, unixServed] = writers;
      expect((tcpServed!.getExtraInfo("peername") as net.AddressInfo).address).toBe("127.0.0.1");
      expect((tcpServed!.getExtraInfo("peername") as net.AddressInfo).port).toBe((tcpClient.getExtraInfo("sockname") as net.AddressInfo).port);
      expect(unixServed!.getExtraInfo("peername")).toBe("");
      for (const writer of [tcpClient, unixClient]) {
        writer.close();
        yield* writer.waitClosed();
      }
      for (const server of [tcp, unix]) {
        server.close();
        yield* server.waitClosed();
      }
    });
    await expectNoOpenSocketHandles();
  });


  it("tracks the transports it accepted while they are open", async () => {
    await run(function* () {
      const loop = getRunningLoop();
      const handle = yield* nodeNetDriver.listen(loop, () => new Logging(), { host: "127.0.0.1", port: 0 });
      const client = yield* rawClient(portOf(handle));
      yield* until(() => handle.transports.size === 1);
      const [transport] = handle.transports;
      client.socket.destroy();
      yield* until(() => transport!.isClosing() && handle.transports.size === 0);
      handle.close();
    });
    await expectNoOpenSocketHandles();
  });

  it("closing it twice gives back its external ref once", async () => {
    await run(function* () {
      const loop = getRunningLoop();
      const refsBefore = externalRefs(loop);
      const handle = yield* nodeNetDriver.listen(loop, () => new Logging(), { host: "127.0.0.1", port: 0 });
      const client = yield* rawClient(portOf(handle));
      yield* until(() => handle.transports.size === 1);
      // One ref for the listener, one for the open connection.
      expect(externalRefs(loop)).toBe(refsBefore + 2);
      handle.close();
      handle.close();
      expect(externalRefs(loop)).toBe(refsBefore + 1);
      client.socket.destroy();
      yield* until(() => handle.transports.size === 0);
      expect(externalRefs(loop)).toBe(refsBefore);
    });
    await expectNoOpenSocketHandles();
  });

  it("an error on a socket already listening goes to the loop's exception handler, with the address, and the server keeps serving", async () => {
    await run(function* () {
      yield* collectingLoopErrors(function* (errors) {
        const server = yield* startServer(echoLines, "127.0.0.1", 0);
        const port = portOf(server);
        const nodeServer = (handleOf(server) as unknown as { _server: net.Server })._server;
        nodeServer.emit("error", Object.assign(new Error("accept failed"), { code: "EMFILE" }));
        yield* until(() => errors.length === 1);
        expect(errors[0]!.message).toBe("Error on a listening socket");
        expect((errors[0]!.exception as Error).message).toBe("accept failed");
        // The address the server was asked to listen on.
        expect((errors[0]!.exception as { address?: string; port?: number }).address).toBe("127.0.0.1");
        expect((errors[0]!.exception as { address?: string; port?: number }).port).toBe(0);
        expect(server.isServing()).toBe(true);
        const [reader, writer] = yield* openConnection("127.0.0.1", port);
        writer.write("after the error\n");
        expect(text(yield* reader.readline())).toBe("after the error\n");
        writer.close();
        yield* writer.waitClosed();
        server.close();
        yield* server.waitClosed();
      });
    });
    await expectNoOpenSocketHandles();
  });

  it("a TLS client that fails its handshake concerns only itself: the server goes on serving", async (context) => {
    if (cert === "") return context.skip("openssl is not installed");
    await run(function* () {
      yield* collectingLoopErrors(function* (errors) {
        const server = yield* startServer(echoLines, "127.0.0.1", 0, { tls: { key, cert } });
        const plain = yield* rawClient(portOf(server));
        plain.socket.write("GET / HTTP/1.0\r\n\r\n");
        yield* until(() => plain.ended());
        const [reader, writer] = yield* openConnection("127.0.0.1", portOf(server), { tls: { ca: cert } });
        writer.write("fine\n");
        expect(text(yield* reader.readline())).toBe("fine\n");
        writer.close();
        yield* writer.waitClosed();
        server.close();
        yield* server.waitClosed();
        expect(errors).toEqual([]);
      });
    });
    await expectNoOpenSocketHandles();
  });
});

describe("a listen that does not finish", () => {
  it("cancelled before it listens: throws CancelledError and closes the listener", async () => {
    await run(function* () {
      const loop = getRunningLoop();
      const refsBefore = externalRefs(loop);
      yield* collectingLoopErrors(function* (errors) {
        const listening = createTask(createServer(() => new Logging(), "127.0.0.1", 0));
        yield;
        const [listener] = dispatcherFor(loop).open;
        listening.cancel();
        expect(yield* catching(listening)).toBeInstanceOf(CancelledError);
        yield* until(() => dispatcherFor(loop).open.size === 0);
        expect(externalRefs(loop)).toBe(refsBefore);
        // Node's listen error, or its 'listening', may already be queued when the cancellation lands: each is ignored.
        expect(() => listener!.handleEvent(1, Object.assign(new Error("late"), { code: "EADDRINUSE" }))).not.toThrow();
        expect(() => listener!.handleEvent(0, null)).not.toThrow();
        expect(errors).toEqual([]);
      });
    });
    await expectNoOpenSocketHandles();
  });

  it("cancelled once it listens but before the task resumed: the listener is closed, not leaked", async () => {
    await run(function* () {
      const loop = getRunningLoop();
      const refsBefore = externalRefs(loop);
      const listening = createTask(createServer(() => new Logging(), "127.0.0.1", 0));
      yield;
      const [listener] = dispatcherFor(loop).open as Set<unknown> as Set<{ _future: Future<ServerHandle> }>;
      const pending = listener!._future;
      yield* until(() => pending.done());
      listening.cancel();
      expect(yield* catching(listening)).toBeInstanceOf(CancelledError);
      expect(dispatcherFor(loop).open.size).toBe(0);
      expect(externalRefs(loop)).toBe(refsBefore);
    });
    await expectNoOpenSocketHandles();
  });

  it("cancelled after its listen failed but before the task resumed: the cancellation wins, not the listen's error", async () => {
    await run(function* () {
      const loop = getRunningLoop();
      const taken = yield* createServer(() => new Logging(), "127.0.0.1", 0);
      const listening = createTask(createServer(() => new Logging(), "127.0.0.1", portOf(taken)));
      yield;
      const [listener] = [...dispatcherFor(loop).open].filter((target) => target !== (handleOf(taken) as unknown)) as unknown as { _future: Future<ServerHandle> }[];
      const pending = listener!._future;
      yield* until(() => pending.done());
      expect((pending.exception() as { code?: string }).code).toBe("EADDRINUSE");
      listening.cancel();
      expect(yield* catching(listening)).toBeInstanceOf(CancelledError);
      taken.close();
      yield* taken.waitClosed();
    });
    await expectNoOpenSocketHandles();
  });

  it("labels what the task waits on: the listen, serveForever and waitClosed name the server", async () => {
    await run(function* () {
      const listening = createTask(createServer(() => new Logging(), "127.0.0.1", 0));
      yield;
      expect(listening.waitingOn()?.label).toBe("createServer on 127.0.0.1:0");
      const server = yield* listening;
      const anyHost = createTask(createServer(() => new Logging(), undefined, 0));
      yield;
      expect(anyHost.waitingOn()?.label).toBe("createServer on *:0");
      const other = yield* anyHost;
      const forever = createTask(server.serveForever());
      const closed = createTask(other.waitClosed());
      yield;
      expect(forever.waitingOn()?.label).toBe("Server.serveForever on 127.0.0.1:0");
      expect(closed.waitingOn()?.label).toBe("Server.waitClosed on *:0");
      forever.cancel();
      yield* catching(forever);
      other.close();
      yield* closed;
    });
    await expectNoOpenSocketHandles();
  });
});

describe("the protocols a createServer server makes", () => {
  it("a factory that returns no Protocol: the connection is aborted and the loop hears a TypeError naming it", async () => {
    await run(function* () {
      yield* collectingLoopErrors(function* (errors) {
        const returns: unknown[] = [null, 42, { connectionMade() {} }];
        const server = yield* createServer(() => returns.shift() as Protocol, "127.0.0.1", 0);
        for (const got of ["null", "number", "object"]) {
          const client = yield* rawClient(portOf(server));
          yield* until(() => client.ended());
          expect(errors.at(-1)!.exception).toBeInstanceOf(TypeError);
          expect((errors.at(-1)!.exception as Error).message).toBe(
            `createServer: protocolFactory must return a Protocol (connectionMade, dataReceived, eofReceived, connectionLost, …), got ${got}`,
          );
        }
        expect(errors).toHaveLength(3);
        server.close();
        yield* server.waitClosed();
      });
    });
    await expectNoOpenSocketHandles();
  });

  it("hear pauseWriting and resumeWriting from their transport", async () => {
    await run(function* () {
      const served: Logging[] = [];
      const server = yield* createServer(
        () => {
          const protocol = new Logging();
          served.push(protocol);
          return protocol;
        },
        "127.0.0.1",
        0,
      );
      const client = yield* rawClient(portOf(server));
      client.socket.pause();
      yield* until(() => served[0]?.transport !== null && served[0]?.transport !== undefined);
      const transport = served[0]!.transport!;
      // More than the kernel buffers and the high-water mark: the transport must pause the protocol.
      const chunk = Buffer.alloc(1024 * 1024, 120);
      for (let i = 0; i < 16 && !served[0]!.log.includes("pause"); i++) transport.write(chunk);
      expect(served[0]!.log).toContain("pause");
      client.socket.resume();
      yield* until(() => served[0]!.log.includes("resume"));
      client.socket.destroy();
      server.close();
      yield* server.waitClosed();
    });
    await expectNoOpenSocketHandles();
  });
});

describe("Server", () => {
  it("address() and isServing() while it serves and once closed", async () => {
    await run(function* () {
      const server = yield* createServer(() => new Logging(), "127.0.0.1", 0);
      expect(server.isServing()).toBe(true);
      expect(server.address()).not.toBeNull();
      server.close();
      expect(server.isServing()).toBe(false);
      expect(server.address()).toBeNull();
      server.close();
      yield* server.waitClosed();
    });
    await expectNoOpenSocketHandles();
  });

  it("serveForever: cancelling it closes the server and waits; then it cannot serve again; twice at once is an error", async () => {
    await run(function* () {
      const server = yield* startServer(echoLines, "127.0.0.1", 0);
      const forever = createTask(server.serveForever());
      yield;
      expect(() => server.serveForever()).toThrow(new Error("Server.serveForever: the server is already being awaited on serveForever()"));
      forever.cancel();
      expect(yield* catching(forever)).toBeInstanceOf(CancelledError);
      expect(server.isServing()).toBe(false);
      let thrown: unknown = null;
      const serveAgain = (): unknown => server.serveForever();
      try {
        serveAgain();
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(Error);
      expect((thrown as Error).message).toBe("Server.serveForever: the server is closed");
    });
    await expectNoOpenSocketHandles();
  });

  it("close() ends a serveForever still waiting", async () => {
    await run(function* () {
      const server = yield* startServer(echoLines, "127.0.0.1", 0);
      const forever = createTask(server.serveForever());
      yield;
      server.close();
      expect(yield* catching(forever)).toBeInstanceOf(CancelledError);
      yield* server.waitClosed();
    });
    await expectNoOpenSocketHandles();
  });

  it("abortClients() ends every connection at once", async () => {
    await run(function* () {
      const server = yield* createServer(() => new Logging(), "127.0.0.1", 0);
      const one = yield* rawClient(portOf(server));
      const two = yield* rawClient(portOf(server));
      server.close();
      // Wait for both to be tracked (each protocol made) before aborting.
      const waiter = createTask(server.waitClosed());
      for (let i = 0; i < 20; i++) yield;
      expect(waiter.done()).toBe(false);
      server.abortClients();
      yield* until(() => one.ended() && two.ended());
      yield* waiter;
    });
    await expectNoOpenSocketHandles();
  });

  it("waitClosed() waits for close() even when every connection has gone, and for the last connection after it", async () => {
    await run(function* () {
      const server = yield* createServer(() => new Logging(), "127.0.0.1", 0);
      const waiter = createTask(server.waitClosed());
      const first = yield* rawClient(portOf(server));
      yield* until(() => handleOf(server).transports.size === 1);
      first.socket.destroy();
      yield* until(() => handleOf(server).transports.size === 0);
      for (let i = 0; i < 5; i++) yield;
      expect(waiter.done()).toBe(false);
      const one = yield* rawClient(portOf(server));
      const two = yield* rawClient(portOf(server));
      yield* until(() => handleOf(server).transports.size === 2);
      server.close();
      one.socket.destroy();
      yield* until(() => handleOf(server).transports.size === 1);
      for (let i = 0; i < 5; i++) yield;
      expect(waiter.done()).toBe(false);
      two.socket.destroy();
      yield* waiter;
    });
    await expectNoOpenSocketHandles();
  });

  it("a waitClosed() cancelled before close() does not break close()", async () => {
    await run(function* () {
      const server = yield* createServer(() => new Logging(), "127.0.0.1", 0);
      const waiter = createTask(server.waitClosed());
      const other = createTask(server.waitClosed());
      yield;
      waiter.cancel();
      yield* catching(waiter);
      expect(() => server.close()).not.toThrow();
      yield* other;
      expect(other.done() && !other.cancelled()).toBe(true);
    });
    await expectNoOpenSocketHandles();
  });

  it("after STARTTLS on a server connection, the server and its handle track the TLS transport", async (context) => {
    if (cert === "") return context.skip("openssl is not installed");
    await run(function* () {
      const upgraded: StreamWriter[] = [];
      const server = yield* startServer(
        function* (reader, writer) {
          yield* reader.readline();
          writer.write("GO\n");
          yield* writer.startTls({ key, cert });
          upgraded.push(writer);
          yield* echoLines(reader, writer);
        },
        "127.0.0.1",
        0,
      );
      const [reader, writer] = yield* openConnection("127.0.0.1", portOf(server));
      writer.write("STARTTLS\n");
      yield* reader.readline();
      yield* writer.startTls({ ca: cert, serverHostname: "localhost" });
      writer.write("secret\n");
      expect(text(yield* reader.readline())).toBe("secret\n");
      const handle = handleOf(server);
      expect([...handle.transports]).toEqual([upgraded[0]!.transport]);
      // The upgrades let go of the sockets they handed over: none of their listeners is left.
      for (const side of [writer, upgraded[0]!]) {
        const socket = side.getExtraInfo<net.Socket>("socket")!;
        const names = ["end", "close", "error"].flatMap((event) => socket.listeners(event).map((listener) => listener.name));
        expect(names.filter((name) => name.startsWith("_on"))).toEqual([]);
      }
      server.close();
      server.abortClients();
      // The client sees the TLS connection end: abortClients reached the new transport.
      expect((yield* reader.read()).length).toBe(0);
      yield* server.waitClosed();
      expect(handle.transports.size).toBe(0);
      writer.transport.abort();
    });
    await expectNoOpenSocketHandles();
  });
});

/**
 * `startTls` through the Node socket driver: an upgrade that fails, is cancelled or is
 * refused at once leaves no socket and no external ref behind, and the protocol hears
 * of the lost connection as asyncio's does.
 */
import type * as net from "node:net";
import { CancelledError, createTask, getRunningLoop, run, type BaseTransport, type Coroutine, type EventLoop, type Protocol, type ServerHandle, type Transport } from "@loop/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConnectionResetError, nodeNetDriver, openConnection, startServer, type Server, type StreamReader, type StreamWriter } from "../src/index.js";
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

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString();

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

function handleOf(server: Server): ServerHandle {
  return (server as unknown as { _handle: ServerHandle })._handle;
}

/**
 * A server whose handler reads "STARTTLS\n", answers "GO\n", then does `afterGo` (its own
 * startTls, or nothing); `ended` says when its side of the connection saw the end.
 */
function* starttlsServer(afterGo: (reader: StreamReader, writer: StreamWriter) => Coroutine<void>): Coroutine<{ server: Server; port: number; outcome: unknown[] }> {
  const outcome: unknown[] = [];
  const server = yield* startServer(
    function* (reader, writer) {
      yield* reader.readline();
      writer.write("GO\n");
      try {
        yield* afterGo(reader, writer);
        outcome.push("done");
      } catch (error) {
        outcome.push(error);
      }
    },
    "127.0.0.1",
    0,
  );
  return { server, port: (server.address() as net.AddressInfo).port, outcome };
}

function* askToStart(port: number): Coroutine<[StreamReader, StreamWriter]> {
  const [reader, writer] = yield* openConnection("127.0.0.1", port);
  writer.write("STARTTLS\n");
  expect(text(yield* reader.readline())).toBe("GO\n");
  return [reader, writer];
}

/** Reads until the end: what the server side of a dropped connection sees. */
function* readToEnd(reader: StreamReader): Coroutine<void> {
  for (;;) if ((yield* reader.read(1024)).length === 0) return;
}

describe("startTls through the Node driver", () => {
  it("refuses a transport that is not one of its own, with a TypeError", async () => {
    await run(function* () {
      const loop = getRunningLoop();
      const protocol = { connectionLost() {} } as unknown as Protocol;
      const error = yield* catching(nodeNetDriver.startTls(loop, {} as Transport, protocol, {}));
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toBe("NodeNetDriver.startTls: the transport is not a Node socket transport");
    });
  });

  it("a handshake that fails: startTls throws the TLS error on both sides, the reader hears it, and no socket, ref or tracked transport is left", async (context) => {
    if (cert === "") return context.skip("openssl is not installed");
    await run(function* () {
      const loop = getRunningLoop();
      const refsBefore = externalRefs(loop);
      const { server, port, outcome } = yield* starttlsServer(function* (_reader, writer) {
        yield* writer.startTls({ key, cert });
      });
      const [reader, writer] = yield* askToStart(port);
      // The certificate names localhost and 127.0.0.1, not this.
      const error = (yield* catching(writer.startTls({ ca: cert, serverHostname: "wrong.example" }))) as { code?: string };
      expect(error.code).toBe("ERR_TLS_CERT_ALTNAME_INVALID");
      expect(yield* catching(reader.read())).toBe(error);
      // The server's startTls fails too: the client dropped the handshake (before, it waited forever).
      yield* until(() => outcome.length === 1);
      expect(outcome[0]).toBeInstanceOf(ConnectionResetError);
      expect((outcome[0] as ConnectionResetError).message).toBe("startTls: the connection was lost during the TLS handshake");
      yield* until(() => handleOf(server).transports.size === 0);
      server.close();
      yield* server.waitClosed();
      expect(externalRefs(loop)).toBe(refsBefore);
    });
    await expectNoOpenSocketHandles();
  });

  it("TLS options Node refuses at once: startTls throws Node's TypeError and the connection is closed", async () => {
    await run(function* () {
      const loop = getRunningLoop();
      const refsBefore = externalRefs(loop);
      const { server, port, outcome } = yield* starttlsServer(readToEnd);
      const [, writer] = yield* askToStart(port);
      const error = (yield* catching(writer.startTls({ ca: 5 as unknown as string }))) as TypeError & { code?: string };
      expect(error).toBeInstanceOf(TypeError);
      expect(error.code).toBe("ERR_INVALID_ARG_TYPE");
      // The server's side of the connection ends: the socket was destroyed.
      yield* until(() => outcome.length === 1);
      expect(outcome).toEqual(["done"]);
      server.close();
      yield* server.waitClosed();
      expect(externalRefs(loop)).toBe(refsBefore);
    });
    await expectNoOpenSocketHandles();
  });

  it("cancelled in its handshake: throws CancelledError, the protocol hears a clean loss, and the connection is closed", async () => {
    await run(function* () {
      const loop = getRunningLoop();
      const refsBefore = externalRefs(loop);
      // The server never starts TLS: the client's handshake waits until cancelled.
      const { server, port, outcome } = yield* starttlsServer(readToEnd);
      const [reader, writer] = yield* askToStart(port);
      const upgrading = createTask(writer.startTls({ ca: cert === "" ? undefined : cert }));
      for (let i = 0; i < 5; i++) yield;
      expect(upgrading.done()).toBe(false);
      upgrading.cancel();
      expect(yield* catching(upgrading)).toBeInstanceOf(CancelledError);
      expect((yield* reader.read()).length).toBe(0);
      yield* until(() => outcome.length === 1);
      expect(outcome).toEqual(["done"]);
      server.close();
      yield* server.waitClosed();
      expect(externalRefs(loop)).toBe(refsBefore);
    });
    await expectNoOpenSocketHandles();
  });

  it("the protocol of a failed upgrade hears connectionLost once, with the error", async (context) => {
    if (cert === "") return context.skip("openssl is not installed");
    await run(function* () {
      const { server, port } = yield* starttlsServer(function* (_reader, writer) {
        yield* writer.startTls({ key, cert });
      });
      const [, writer] = yield* askToStart(port);
      const lost: (Error | null)[] = [];
      const protocol: Protocol = {
        connectionMade(_transport: BaseTransport) {},
        dataReceived() {},
        eofReceived: () => false,
        connectionLost: (error) => void lost.push(error),
        pauseWriting() {},
        resumeWriting() {},
      };
      const loop = getRunningLoop();
      const error = yield* catching(nodeNetDriver.startTls(loop, writer.transport, protocol, { ca: cert, serverHostname: "wrong.example" }));
      expect((error as { code?: string }).code).toBe("ERR_TLS_CERT_ALTNAME_INVALID");
      for (let i = 0; i < 5; i++) yield;
      expect(lost).toEqual([error]);
      server.close();
      server.abortClients();
      yield* server.waitClosed();
    });
    await expectNoOpenSocketHandles();
  });
});

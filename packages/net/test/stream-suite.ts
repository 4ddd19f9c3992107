/**
 * The stream test suite, run over every network driver: real sockets on 127.0.0.1
 * (`streams-node.test.ts`) and the in-memory network (`streams-memory.test.ts`). Each
 * backend says how to run a coroutine and how to do the few things only it can do.
 */
import { Buffer } from "node:buffer";
import { CancelledError, TimeoutError, createTask, currentTask, getRunningLoop, type Coroutine, type ErrorContext } from "@loop/core";
import { describe, expect, it } from "vitest";
import type { BaseTransport, Protocol, Transport } from "@loop/core";
import {
  ConnectionResetError,
  createConnection,
  createServer,
  IncompleteReadError,
  LimitOverrunError,
  openConnection,
  startServer,
  type Server,
  type StreamReader,
  type StreamWriter,
} from "../src/index.js";

export interface Backend {
  name: string;
  /** The host servers listen on and clients connect to. */
  host: string;
  run<T>(main: () => Coroutine<T>): Promise<T>;
  /** Makes the peer of `writer`'s connection reset it (RST). */
  resetConnection(writer: StreamWriter): void;
  /** A host and port where connecting hangs (the SYN is dropped); and how to clean up. */
  unreachable(): Coroutine<{ host: string; port: number; cleanup: () => Coroutine<void> }>;
  /** A host name that does not resolve. */
  unknownHost: string;
  /** Lets the network move on a little: a loop turn over real sockets, 1 ms of virtual time in memory. */
  tick(): Coroutine<void>;
  /** Throws unless every socket and listener the suite opened is closed. */
  expectNoOpenHandles(): Promise<void>;
}

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString();

function portOf(server: Server): number {
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error(`not a TCP address: ${String(address)}`);
  return address.port;
}


function* echoHandler(reader: StreamReader, writer: StreamWriter): Coroutine<void> {
  for (;;) {
    const line = yield* reader.readline();
    if (line.length === 0) break;
    writer.write(line);
    yield* writer.drain();
  }
}

function* closeWriter(writer: StreamWriter): Coroutine<void> {
  writer.close();
  try {
    yield* writer.waitClosed();
  } catch (error) {
    // A reset connection's waitClosed throws its error; the socket is gone either way.
    if (error instanceof CancelledError) throw error;
  }
}

export function streamSuite(backend: Backend): void {
  const { host } = backend;
  protocolSuite(backend);

  /** Waits for a condition, a bounded number of network ticks: tests never sleep to let things settle. */
  function* until(condition: () => boolean, ticks = 10_000): Coroutine<void> {
    for (let i = 0; i < ticks; i++) {
      if (condition()) return;
      yield* backend.tick();
    }
    throw new Error("condition not reached");
  }

  function* withServer<T>(
    handler: (r: StreamReader, w: StreamWriter) => Coroutine<void>,
    body: (port: number, server: Server) => Coroutine<T>,
    opts?: { limit?: number },
  ): Coroutine<T> {
    const server = yield* startServer(handler, host, 0, opts);
    try {
      return yield* body(portOf(server), server);
    } finally {
      server.close();
      server.abortClients();
      yield* server.waitClosed();
    }
  }

  describe(`streams over ${backend.name}`, () => {
    it("echoes lines, and read, readexactly and readuntil take exactly what they ask for", async () => {
      await backend.run(function* () {
        return yield* withServer(echoHandler, function* (port) {
          const [reader, writer] = yield* openConnection(host, port);
          writer.write("hello\n");
          writer.writelines(["a;b;", Buffer.from("c\n"), "0123456789\n", "end\r\n"]);
          expect(text(yield* reader.readline())).toBe("hello\n");
          expect(text(yield* reader.readuntil(";"))).toBe("a;");
          expect(text(yield* reader.readuntil(Buffer.from(";")))).toBe("b;");
          expect(text(yield* reader.readexactly(2))).toBe("c\n");
          expect(text(yield* reader.readexactly(4))).toBe("0123");
          expect((yield* reader.read(0)).length).toBe(0);
          expect(text(yield* reader.read(3))).toBe("456");
          expect(text(yield* reader.readexactly(4))).toBe("789\n");
          expect(text(yield* reader.readuntil("\r\n"))).toBe("end\r\n");
          yield* closeWriter(writer);
        });
      });
    });

    it("read() at the end of the stream returns an empty array, and read(-1) reads to the end", async () => {
      await backend.run(function* () {
        return yield* withServer(
          function* (_reader, writer) {
            writer.write("all of it");
            yield* writer.drain();
          },
          function* (port) {
            const [reader, writer] = yield* openConnection(host, port);
            expect(text(yield* reader.read())).toBe("all of it");
            expect(reader.atEof()).toBe(true);
            const end = yield* reader.read(10);
            expect(end).toBeInstanceOf(Uint8Array);
            expect(end.length).toBe(0);
            expect((yield* reader.readline()).length).toBe(0);
            yield* closeWriter(writer);
          },
        );
      });
    });

    it("a half-close (writeEof) ends the peer's reads while the other direction still carries the reply", async () => {
      await backend.run(function* () {
        return yield* withServer(
          function* (reader, writer) {
            const request = yield* reader.read();
            expect(reader.atEof()).toBe(true);
            writer.write(`got ${request.length} bytes`);
            yield* writer.drain();
          },
          function* (port) {
            const [reader, writer] = yield* openConnection(host, port);
            expect(writer.canWriteEof()).toBe(true);
            writer.write("12345");
            writer.writeEof();
            expect(text(yield* reader.read())).toBe("got 5 bytes");
            yield* closeWriter(writer);
          },
        );
      });
    });

    it("readexactly past the end throws IncompleteReadError with the partial bytes", async () => {
      await backend.run(function* () {
        return yield* withServer(
          function* (_reader, writer) {
            writer.write("abc");
            yield* writer.drain();
          },
          function* (port) {
            const [reader, writer] = yield* openConnection(host, port);
            const error = yield* catching(reader.readexactly(10));
            expect(error).toBeInstanceOf(IncompleteReadError);
            expect(text((error as IncompleteReadError).partial)).toBe("abc");
            expect((error as IncompleteReadError).expected).toBe(10);
            yield* closeWriter(writer);
          },
        );
      });
    });

    it("a separator beyond the limit throws LimitOverrunError and leaves the bytes readable", async () => {
      await backend.run(function* () {
        return yield* withServer(
          function* (_reader, writer) {
            writer.write("x".repeat(20) + "\nrest\n");
            yield* writer.drain();
          },
          function* (port) {
            const [reader, writer] = yield* openConnection(host, port, { limit: 8 });
            const error = yield* catching(reader.readuntil("\n"));
            expect(error).toBeInstanceOf(LimitOverrunError);
            expect((error as LimitOverrunError).consumed).toBeGreaterThan(8);
            expect(text(yield* reader.readexactly(21))).toBe("x".repeat(20) + "\n");
            expect(text(yield* reader.readline())).toBe("rest\n");
            yield* closeWriter(writer);
          },
        );
      });
    });

    it("connection refused rejects with ECONNREFUSED and the address", async () => {
      await backend.run(function* () {
        const server = yield* startServer(echoHandler, host, 0);
        const port = portOf(server);
        server.close();
        yield* server.waitClosed();
        const error = (yield* catching(openConnection(host, port))) as { code?: string; address?: string; port?: number };
        expect(error.code).toBe("ECONNREFUSED");
        expect(error.address).toBe(host);
        expect(error.port).toBe(port);
      });
    });

    it("a host that does not resolve rejects with ENOTFOUND naming it", async () => {
      await backend.run(function* () {
        const error = (yield* catching(openConnection(backend.unknownHost, 80))) as { code?: string; address?: string; port?: number };
        expect(["ENOTFOUND", "EAI_AGAIN"]).toContain(error.code);
        expect(error.address).toBe(backend.unknownHost);
        expect(error.port).toBe(80);
      });
    });

    it("a connect timeout rejects with a TimeoutError whose code is ETIMEDOUT, with the address", async () => {
      await backend.run(function* () {
        const target = yield* backend.unreachable();
        try {
          const error = (yield* catching(openConnection(target.host, target.port, { timeout: 50 }))) as TimeoutError & { code?: string; address?: string; port?: number };
          expect(error).toBeInstanceOf(TimeoutError);
          expect(error.code).toBe("ETIMEDOUT");
          expect(error.address).toBe(target.host);
          expect(error.port).toBe(target.port);
        } finally {
          yield* target.cleanup();
        }
      });
      await backend.expectNoOpenHandles();
    });

    it("a task cancelled while connecting leaves no socket open", async () => {
      await backend.run(function* () {
        const target = yield* backend.unreachable();
        try {
          const task = createTask(openConnection(target.host, target.port));
          yield;
          yield;
          task.cancel();
          expect(yield* catching(task)).toBeInstanceOf(CancelledError);
        } finally {
          yield* target.cleanup();
        }
      });
      await backend.expectNoOpenHandles();
    });

    it("a task cancelled while reading gets CancelledError there, its cleanup closes the socket, and the reader stays usable", async () => {
      await backend.run(function* () {
        return yield* withServer(echoHandler, function* (port) {
          const [reader, writer] = yield* openConnection(host, port);
          const log: string[] = [];
          const task = createTask(
            (function* () {
              try {
                yield* reader.readline();
              } catch (error) {
                log.push(error instanceof CancelledError ? "cancelled in readline" : String(error));
                throw error;
              }
            })(),
          );
          yield* until(() => task.waitingOn() !== null);
          expect(task.waitingOn()!.label).toMatch(/^StreamReader\.readline from /);
          task.cancel();
          yield* catching(task);
          expect(log).toEqual(["cancelled in readline"]);
          writer.write("again\n");
          expect(text(yield* reader.readline())).toBe("again\n");
          yield* closeWriter(writer);
        });
      });
      await backend.expectNoOpenHandles();
    });

    it("drain() suspends while the write buffer is above its high-water mark, and a task cancelled while draining leaves no socket open", async () => {
      await backend.run(function* () {
        let serverReader: StreamReader | null = null;
        const release = getRunningLoop().createFuture<void>();
        return yield* withServer(
          function* (reader) {
            serverReader = reader;
            yield* release; // not reading: the client's bytes pile up
          },
          function* (port) {
            const [, writer] = yield* openConnection(host, port, {});
            try {
              writer.transport.setWriteBufferLimits(1024);
              const chunk = Buffer.alloc(64 * 1024, 1);
              const task = createTask(
                (function* () {
                  for (;;) {
                    writer.write(chunk);
                    yield* writer.drain();
                  }
                })(),
              );
              yield* until(() => writer.transport.getWriteBufferSize() > 1024 && task.waitingOn()?.done() === false);
              expect(task.waitingOn()!.label).toMatch(/^StreamWriter\.drain to /);
              expect(serverReader).not.toBeNull();
              task.cancel();
              expect(yield* catching(task)).toBeInstanceOf(CancelledError);
            } finally {
              release.setResult();
              writer.transport.abort();
              yield* catching(writer.waitClosed());
            }
          },
          { limit: 1024 },
        );
      });
      await backend.expectNoOpenHandles();
    });

    it("the reader pauses its transport past twice its limit and resumes it once read down to the limit", async () => {
      await backend.run(function* () {
        let server: { reader: StreamReader; writer: StreamWriter } | null = null;
        const done = getRunningLoop().createFuture<void>();
        return yield* withServer(
          function* (reader, writer) {
            server = { reader, writer };
            yield* done;
          },
          function* (port) {
            const [, writer] = yield* openConnection(host, port);
            writer.write(Buffer.alloc(4000, 7));
            yield* until(() => server !== null && server.reader.bufferedSize === 4000);
            const { reader: serverReader, writer: serverWriter } = server!;
            expect(serverWriter.transport.isReading()).toBe(false);
            yield* serverReader.readexactly(2000);
            expect(serverWriter.transport.isReading()).toBe(false); // 2000 left: still above the limit
            yield* serverReader.readexactly(1000);
            expect(serverWriter.transport.isReading()).toBe(true);
            done.setResult();
            yield* closeWriter(writer);
          },
          { limit: 1000 },
        );
      });
    });

    it("a peer that resets mid-write is reported at the next drain or read, never as an uncaught error", async () => {
      const reported: ErrorContext[] = [];
      await backend.run(function* () {
        getRunningLoop().setExceptionHandler((_loop, context) => reported.push(context));
        const serverWriters: StreamWriter[] = [];
        return yield* withServer(
          function* (reader, writer) {
            serverWriters.push(writer);
            yield* reader.read(1);
            backend.resetConnection(writer);
            yield* catching(reader.read());
          },
          function* (port) {
            const [reader, writer] = yield* openConnection(host, port);
            writer.write("x");
            let error: unknown = null;
            const chunk = Buffer.alloc(16 * 1024, 2);
            for (let i = 0; i < 10_000 && error === null; i++) {
              writer.write(chunk);
              error = yield* catching(writer.drain());
              if (error === null) yield;
            }
            expect(["ECONNRESET", "EPIPE"]).toContain((error as { code?: string }).code);
            const readError = yield* catching(reader.read());
            expect(["ECONNRESET", "EPIPE"]).toContain((readError as { code?: string }).code);
            yield* closeWriter(writer);
          },
        );
      });
      expect(reported.filter((c) => !String(c.message).includes("client_connected_cb"))).toEqual([]);
      await backend.expectNoOpenHandles();
    });

    it("a peer that half-closes is seen as the end of the stream at the next read, and writing to it still works", async () => {
      await backend.run(function* () {
        const received = getRunningLoop().createFuture<string>();
        return yield* withServer(
          function* (reader, writer) {
            writer.writeEof();
            received.setResult(text(yield* reader.read()));
          },
          function* (port) {
            const [reader, writer] = yield* openConnection(host, port);
            expect((yield* reader.read()).length).toBe(0);
            expect(reader.atEof()).toBe(true);
            writer.write("still listening?");
            writer.writeEof();
            expect(yield* received).toBe("still listening?");
            yield* closeWriter(writer);
          },
        );
      });
    });

    it("drain() after the writer's own close() throws ConnectionResetError once the connection is gone, and writes are dropped", async () => {
      await backend.run(function* () {
        return yield* withServer(echoHandler, function* (port) {
          const [, writer] = yield* openConnection(host, port);
          writer.close();
          expect(writer.isClosing()).toBe(true);
          yield* writer.waitClosed();
          writer.write("dropped\n");
          const error = yield* catching(writer.drain());
          expect(error).toBeInstanceOf(ConnectionResetError);
          expect((error as ConnectionResetError).code).toBe("ECONNRESET");
        });
      });
    });

    it("an exception in a client handler goes to the loop's exception handler and the server keeps serving", async () => {
      const reported: ErrorContext[] = [];
      await backend.run(function* () {
        getRunningLoop().setExceptionHandler((_loop, context) => reported.push(context));
        let calls = 0;
        return yield* withServer(
          function* (reader, writer) {
            if (calls++ === 0) throw new Error("handler failed");
            yield* echoHandler(reader, writer);
          },
          function* (port) {
            const [reader1, writer1] = yield* openConnection(host, port);
            expect((yield* reader1.read()).length).toBe(0); // the failed handler's connection is closed
            yield* closeWriter(writer1);
            const [reader2, writer2] = yield* openConnection(host, port);
            writer2.write("ping\n");
            expect(text(yield* reader2.readline())).toBe("ping\n");
            yield* closeWriter(writer2);
          },
        );
      });
      expect(reported).toHaveLength(1);
      expect(reported[0]!.message).toBe("Unhandled exception in client_connected_cb");
      expect((reported[0]!.exception as Error).message).toBe("handler failed");
      expect(typeof (reported[0]!.transport as { getExtraInfo?: unknown } | undefined)?.getExtraInfo).toBe("function");
    });

    it("Server.close() stops accepting and waitClosed() waits for the handlers to return", async () => {
      await backend.run(function* () {
        const log: string[] = [];
        const finish = getRunningLoop().createFuture<void>();
        const server = yield* startServer(
          function* (reader) {
            log.push("handler started");
            yield* finish;
            yield* reader.read();
            log.push("handler done");
          },
          host,
          0,
        );
        const port = portOf(server);
        const [, writer] = yield* openConnection(host, port);
        yield* until(() => log.length === 1);
        server.close();
        expect(server.isServing()).toBe(false);
        const refused = (yield* catching(openConnection(host, port))) as { code?: string };
        expect(refused.code).toBe("ECONNREFUSED");
        const waiter = createTask(
          (function* () {
            yield* server.waitClosed();
            log.push("waitClosed returned");
          })(),
        );
        for (let i = 0; i < 20; i++) yield* backend.tick();
        expect(waiter.done()).toBe(false);
        writer.close();
        finish.setResult();
        yield* waiter;
        expect(log).toEqual(["handler started", "handler done", "waitClosed returned"]);
      });
      await backend.expectNoOpenHandles();
    });

    it("closeClients() closes the open connections and abortClients() aborts them", async () => {
      await backend.run(function* () {
        let started = 0;
        const server = yield* startServer(
          function* (reader) {
            started++;
            yield* reader.read();
          },
          host,
          0,
        );
        const port = portOf(server);
        const [reader1, writer1] = yield* openConnection(host, port);
        const [reader2, writer2] = yield* openConnection(host, port);
        yield* until(() => started === 2);
        server.close();
        server.closeClients();
        expect((yield* reader1.read()).length).toBe(0);
        expect((yield* reader2.read()).length).toBe(0);
        yield* server.waitClosed();
        yield* closeWriter(writer1);
        yield* closeWriter(writer2);
      });
      await backend.expectNoOpenHandles();
    });

    it("serveForever() serves until cancelled, then closes the server", async () => {
      await backend.run(function* () {
        const server = yield* startServer(echoHandler, host, 0);
        const serving = createTask(server.serveForever());
        yield;
        expect(() => server.serveForever()).toThrow(/already being awaited/);
        const [reader, writer] = yield* openConnection(host, portOf(server));
        writer.write("hi\n");
        expect(text(yield* reader.readline())).toBe("hi\n");
        writer.close();
        serving.cancel();
        expect(yield* catching(serving)).toBeInstanceOf(CancelledError);
        expect(server.isServing()).toBe(false);
        yield* catching(writer.waitClosed());
      });
      await backend.expectNoOpenHandles();
    });

    it("Server.address() gives the host and port, and the streams know their peer", async () => {
      await backend.run(function* () {
        return yield* withServer(echoHandler, function* (port, server) {
          const address = server.address() as { address: string; port: number; family: string };
          expect(address.address).toBe(host);
          expect(address.port).toBe(port);
          const [, writer] = yield* openConnection(host, port);
          const peer = writer.getExtraInfo<{ address: string; port: number }>("peername")!;
          expect(peer.address).toBe(host);
          expect(peer.port).toBe(port);
          expect(writer.getExtraInfo("no such thing", "fallback")).toBe("fallback");
          expect(currentTask()).not.toBeNull();
          yield* closeWriter(writer);
        });
      });
    });

    it("many clients are served concurrently, each getting its own bytes back in order", async () => {
      await backend.run(function* () {
        return yield* withServer(echoHandler, function* (port) {
          const clients = Array.from({ length: 10 }, (_, n) =>
            createTask(
              (function* () {
                const [reader, writer] = yield* openConnection(host, port);
                const got: string[] = [];
                for (let i = 0; i < 20; i++) {
                  writer.write(`client ${n} line ${i}\n`);
                  got.push(text(yield* reader.readline()));
                }
                yield* closeWriter(writer);
                return got;
              })(),
            ),
          );
          for (let n = 0; n < clients.length; n++) {
            const got = yield* clients[n]!;
            expect(got).toEqual(Array.from({ length: 20 }, (_, i) => `client ${n} line ${i}\n`));
          }
        });
      });
      await backend.expectNoOpenHandles();
    });
  });
}

/** A protocol that logs what its transport tells it, and echoes when asked to. */
class LoggingProtocol implements Protocol {
  readonly log: string[] = [];
  transport: Transport | null = null;
  readonly lost: Promise<void>;
  private _resolveLost!: () => void;

  constructor(
    private readonly _echo: boolean,
    private readonly _keepOpenOnEof = false,
  ) {
    this.lost = new Promise((resolve) => (this._resolveLost = resolve));
  }

  connectionMade(transport: BaseTransport): void {
    this.transport = transport as Transport;
    this.log.push("made");
  }

  dataReceived(data: Uint8Array): void {
    this.log.push(`data ${text(data)}`);
    if (this._echo) this.transport!.write(data);
  }

  eofReceived(): boolean {
    this.log.push("eof");
    return this._keepOpenOnEof;
  }

  connectionLost(error: Error | null): void {
    this.log.push(`lost ${error === null ? "null" : (error as { code?: string }).code}`);
    this._resolveLost();
  }

  pauseWriting(): void {
    this.log.push("pause");
  }

  resumeWriting(): void {
    this.log.push("resume");
  }
}

/** The protocol-level API (asyncio's create_server / create_connection), on every driver. */
export function protocolSuite(backend: Backend): void {
  const { host } = backend;

  function* until(condition: () => boolean, ticks = 10_000): Coroutine<void> {
    for (let i = 0; i < ticks; i++) {
      if (condition()) return;
      yield* backend.tick();
    }
    throw new Error("condition not reached");
  }

  describe(`protocols over ${backend.name}`, () => {
    it("createServer gives each connection a protocol, and createConnection returns [transport, protocol] after connectionMade", async () => {
      await backend.run(function* () {
        const served: LoggingProtocol[] = [];
        const server = yield* createServer(
          () => {
            const protocol = new LoggingProtocol(true);
            served.push(protocol);
            return protocol;
          },
          host,
          0,
        );
        const [transport, client] = yield* createConnection(() => new LoggingProtocol(false), host, portOf(server));
        expect(client.log).toEqual(["made"]);
        expect(client.transport).toBe(transport);
        transport.write(Buffer.from("ping"));
        const received = (): string =>
          client.log
            .filter((entry) => entry.startsWith("data "))
            .map((entry) => entry.slice(5))
            .join("");
        yield* until(() => received() === "ping");
        transport.writeEof();
        // The server's protocol sees the EOF, returns false, and its transport closes: the client sees EOF then loss.
        yield* ensureLost(client);
        expect(served).toHaveLength(1);
        expect(served[0]!.log[0]).toBe("made");
        expect(served[0]!.log.at(-2)).toBe("eof");
        expect(served[0]!.log.at(-1)).toBe("lost null");
        expect(client.log.slice(-2)).toEqual(["eof", "lost null"]);
        server.close();
        yield* server.waitClosed();
      });
      await backend.expectNoOpenHandles();

      function* ensureLost(protocol: LoggingProtocol): Coroutine<void> {
        yield* until(() => protocol.log.at(-1)?.startsWith("lost") === true);
      }
    });

    it("a createServer server's waitClosed() waits for its connections, and closeClients() closes them", async () => {
      await backend.run(function* () {
        const served: LoggingProtocol[] = [];
        const server = yield* createServer(
          () => {
            const protocol = new LoggingProtocol(false);
            served.push(protocol);
            return protocol;
          },
          host,
          0,
        );
        const [transport, client] = yield* createConnection(() => new LoggingProtocol(false), host, portOf(server));
        yield* until(() => served.length === 1 && served[0]!.log.length === 1);
        server.close();
        const waiter = createTask(server.waitClosed());
        for (let i = 0; i < 10; i++) yield* backend.tick();
        expect(waiter.done()).toBe(false);
        server.closeClients();
        yield* waiter;
        expect(served[0]!.log).toEqual(["made", "lost null"]);
        yield* until(() => client.log.at(-1)?.startsWith("lost") === true);
        expect(client.log).toEqual(["made", "eof", "lost null"]);
        expect(transport.isClosing()).toBe(true);
      });
      await backend.expectNoOpenHandles();
    });

    it("createConnection to a closed port rejects with ECONNREFUSED, and bad arguments throw at the call", async () => {
      expect(() => createConnection(null as unknown as () => Protocol, host, 80)).toThrow(TypeError);
      expect(() => createConnection(() => new LoggingProtocol(false), host, 0)).toThrow(RangeError);
      expect(() => createServer(() => new LoggingProtocol(false), host, -1)).toThrow(RangeError);
      expect(() => createServer(() => new LoggingProtocol(false), host, 0, { reusePort: "yes" as unknown as boolean })).toThrow(TypeError);
      await backend.run(function* () {
        const server = yield* createServer(() => new LoggingProtocol(false), host, 0);
        const port = portOf(server);
        server.close();
        yield* server.waitClosed();
        const error = (yield* catching(createConnection(() => new LoggingProtocol(false), host, port))) as { code?: string; port?: number };
        expect(error.code).toBe("ECONNREFUSED");
        expect(error.port).toBe(port);
      });
    });
  });
}

/** Runs `coro` and returns what it throws (null if it returns). */
export function* catching(coro: Coroutine<unknown> | Iterable<unknown>): Coroutine<unknown> {
  try {
    yield* coro as Coroutine<unknown>;
    return null;
  } catch (error) {
    return error;
  }
}

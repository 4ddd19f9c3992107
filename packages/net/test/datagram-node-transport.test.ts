/**
 * The node:dgram datagram transport's own behaviour: its write buffer and the pause/resume
 * calls around it, closing and losing the socket, opening and failing to open, and the
 * protocol callbacks that throw. Real sockets on 127.0.0.1. Where the test must say when a
 * send completes, it holds the socket's sends (`holdSends`) and lets Node have them, or
 * completes them, at the point of the turn it picks.
 */
import { Buffer } from "node:buffer";
import * as dgram from "node:dgram";
import {
  CancelledError,
  createTask,
  getRunningLoop,
  run,
  type Coroutine,
  type DatagramAddress,
  type DatagramProtocol,
  type DatagramTransport,
  type ErrorContext,
  type Future,
} from "@loop/core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createDatagramEndpoint, nodeNetDriver } from "../src/index.js";

const LOCAL: DatagramAddress = ["127.0.0.1", 0];
const text = (data: Uint8Array): string => Buffer.from(data).toString();

const udpHandles = (): number => process.getActiveResourcesInfo().filter((name) => name === "UDPWrap").length;
let handlesBefore = 0;
beforeEach(() => {
  handlesBefore = udpHandles();
});
afterEach(async () => {
  vi.restoreAllMocks();
  // No socket outlives its test: Node closes a handle in its close phase, a few host iterations on.
  for (let i = 0; i < 50 && udpHandles() > handlesBefore; i++) await new Promise((resolve) => setImmediate(resolve));
  expect(udpHandles()).toBe(handlesBefore);
});

/** Lets Node run its phases (polls, next ticks, close callbacks) `n` times. */
function* hostTurns(n: number): Coroutine<void> {
  const loop = getRunningLoop();
  for (let i = 0; i < n; i++) {
    const f = loop.createFuture<void>();
    setImmediate(() => loop.callSoonThreadsafe(() => f.setResult()));
    yield* f;
  }
}

/** Waits, a bounded number of host iterations, until no UDP socket of this test is open. */
function* untilSocketsClosed(): Coroutine<void> {
  for (let i = 0; i < 50 && udpHandles() > handlesBefore; i++) yield* hostTurns(1);
  expect(udpHandles()).toBe(handlesBefore);
}

/** A protocol that logs every callback (with the write buffer's size at pause and resume). */
class Log implements DatagramProtocol {
  readonly log: string[] = [];
  transport!: DatagramTransport;
  readonly lost: Future<void>;
  private _waiting: Future<void> | null = null;

  constructor() {
    this.lost = getRunningLoop().createFuture<void>();
  }
  connectionMade(transport: DatagramTransport): void {
    this.transport = transport;
  }
  datagramReceived(data: Uint8Array): void {
    this.log.push(`datagram ${text(data)}`);
    this._wake();
  }
  errorReceived(error: Error): void {
    this.log.push(`error ${(error as NodeJS.ErrnoException).code ?? error.message}`);
    this._wake();
  }
  pauseWriting(): void {
    this.log.push(`pause at ${this.transport.getWriteBufferSize()}`);
  }
  resumeWriting(): void {
    this.log.push(`resume at ${this.transport.getWriteBufferSize()}`);
  }
  connectionLost(): void {
    this.log.push("lost");
    this.lost.setResult();
  }
  /** Waits until `done()`, woken by each datagram or error. */
  *until(done: () => boolean): Coroutine<void> {
    while (!done()) {
      this._waiting = getRunningLoop().createFuture<void>();
      yield* this._waiting;
    }
  }
  private _wake(): void {
    const w = this._waiting;
    this._waiting = null;
    if (w !== null && !w.done()) w.setResult();
  }
}

function* endpoint(options: Parameters<typeof createDatagramEndpoint>[1] = { localAddr: LOCAL }): Coroutine<[DatagramTransport, Log]> {
  return yield* createDatagramEndpoint(() => new Log(), options);
}

/** Holds the sends of `transport`'s socket: Node gets each only at `release()`, or the test completes it at `complete()`. */
function holdSends(transport: DatagramTransport) {
  const socket = transport.getExtraInfo<dgram.Socket>("socket")!;
  const held: unknown[][] = [];
  socket.send = ((...args: unknown[]) => void held.push(args)) as typeof socket.send;
  return {
    held,
    /** Node sends the oldest held datagram now (its completion comes in Node's next ticks). */
    release(): void {
      Reflect.apply(dgram.Socket.prototype.send, socket, held.shift()!);
    },
    /** The oldest held send completes now, as Node would report it, with `error` or none. */
    complete(error: Error | null = null): void {
      (held.shift()!.at(-1) as (error: Error | null) => void)(error);
    },
  };
}

/** Collects what reaches the loop's exception handler. */
function reports(): ErrorContext[] {
  const seen: ErrorContext[] = [];
  getRunningLoop().setExceptionHandler((_loop, context) => seen.push(context));
  return seen;
}

describe("the write buffer, pauseWriting and resumeWriting", () => {
  it("the limits are asyncio's by default: 64 KiB high, a quarter of it low", async () => {
    await run(function* () {
      const [transport, side] = yield* endpoint();
      expect(transport.getWriteBufferLimits()).toEqual({ high: 65536, low: 16384 });
      transport.close();
      yield* side.lost;
    });
  });

  it("pauseWriting comes from inside the sendto, or setWriteBufferLimits, that goes over the high-water mark (not one that reaches it)", async () => {
    await run(function* () {
      const [transport, side] = yield* endpoint();
      const sends = holdSends(transport);
      transport.setWriteBufferLimits(100, 0);
      transport.sendto(new Uint8Array(60), ["127.0.0.1", 9]);
      transport.setWriteBufferLimits(60, 0);
      expect(side.log).toEqual([]);
      transport.setWriteBufferLimits(59, 0);
      expect(side.log).toEqual(["pause at 60"]);
      transport.setWriteBufferLimits(40, 0);
      sends.complete();
      transport.setWriteBufferLimits(100, 0);
      yield* hostTurns(2);
      expect(side.log).toEqual(["pause at 60", "resume at 0"]);
      transport.sendto(new Uint8Array(100), ["127.0.0.1", 9]);
      expect(side.log).toEqual(["pause at 60", "resume at 0"]);
      transport.sendto(new Uint8Array(1), ["127.0.0.1", 9]);
      expect(side.log).toEqual(["pause at 60", "resume at 0", "pause at 101"]);
      sends.complete();
      sends.complete();
      transport.close();
      yield* side.lost;
    });
  });

  it("raising the low-water mark to what is buffered resumes the protocol before the sends complete (at the mark, not under it)", async () => {
    await run(function* () {
      const [transport, side] = yield* endpoint();
      const sends = holdSends(transport);
      transport.setWriteBufferLimits(100, 0);
      transport.sendto(new Uint8Array(60), ["127.0.0.1", 9]);
      transport.sendto(new Uint8Array(60), ["127.0.0.1", 9]);
      transport.setWriteBufferLimits(1000, 119);
      yield* hostTurns(2);
      expect(side.log).toEqual(["pause at 120"]);
      transport.setWriteBufferLimits(1000, 120);
      yield* hostTurns(2);
      expect(side.log).toEqual(["pause at 120", "resume at 120"]);
      sends.complete();
      sends.complete();
      transport.close();
      yield* side.lost;
    });
  });

  it("a resume that finds the buffer over the low-water mark again waits; one resume for several drains; paused again after it", async () => {
    await run(function* () {
      const [transport, side] = yield* endpoint();
      const sends = holdSends(transport);
      transport.setWriteBufferLimits(100, 0);
      transport.sendto(new Uint8Array(60), ["127.0.0.1", 9]);
      transport.sendto(new Uint8Array(60), ["127.0.0.1", 9]);
      transport.setWriteBufferLimits(1000, 120);
      // Over the mark again before the resume is delivered.
      transport.sendto(new Uint8Array(1), ["127.0.0.1", 9]);
      yield* hostTurns(2);
      expect(side.log).toEqual(["pause at 120"]);
      sends.complete();
      sends.complete();
      sends.complete();
      yield* hostTurns(2);
      expect(side.log).toEqual(["pause at 120", "resume at 0"]);
      transport.setWriteBufferLimits(100, 0);
      transport.sendto(new Uint8Array(101), ["127.0.0.1", 9]);
      expect(side.log).toEqual(["pause at 120", "resume at 0", "pause at 101"]);
      sends.complete();
      transport.close();
      yield* side.lost;
    });
  });

  it("resumeWriting comes in order with the datagrams that arrived before the buffer drained to the low-water mark", async () => {
    await run(function* () {
      const [transport, side] = yield* endpoint();
      const socket = transport.getExtraInfo<dgram.Socket>("socket")!;
      const arrive = (data: string) => socket.emit("message", Buffer.from(data), { address: "127.0.0.1", family: "IPv4", port: 9, size: 1 });
      const sends = holdSends(transport);
      transport.setWriteBufferLimits(100, 50);
      transport.sendto(new Uint8Array(60), ["127.0.0.1", 9]);
      transport.sendto(new Uint8Array(60), ["127.0.0.1", 9]);
      sends.complete(); // 60 left: over the low-water mark
      arrive("m1");
      sends.complete(); // drained
      yield* hostTurns(2);
      // Not paused when the limits were raised; paused, a datagram, then drained.
      transport.sendto(new Uint8Array(60), ["127.0.0.1", 9]);
      transport.setWriteBufferLimits(1000, 500);
      transport.setWriteBufferLimits(50, 0);
      arrive("m2");
      sends.complete();
      yield* hostTurns(2);
      // Paused, the low-water mark raised but still under what is buffered, a datagram, then drained to it.
      transport.setWriteBufferLimits(100, 0);
      transport.sendto(new Uint8Array(60), ["127.0.0.1", 9]);
      transport.sendto(new Uint8Array(60), ["127.0.0.1", 9]);
      transport.setWriteBufferLimits(1000, 119);
      arrive("m3");
      sends.complete();
      yield* hostTurns(2);
      expect(side.log).toEqual([
        "pause at 120",
        "datagram m1",
        "resume at 0",
        "pause at 60",
        "datagram m2",
        "resume at 0",
        "pause at 120",
        "datagram m3",
        "resume at 60",
      ]);
      sends.complete();
      transport.close();
      yield* side.lost;
    });
  });

  it("no resumeWriting after connectionLost, even when the limits are raised over what an aborted socket left unsent", async () => {
    await run(function* () {
      const [transport, side] = yield* endpoint();
      holdSends(transport);
      transport.setWriteBufferLimits(100, 0);
      transport.sendto(new Uint8Array(120), ["127.0.0.1", 9]);
      transport.abort();
      yield* side.lost;
      transport.setWriteBufferLimits(1000, 500);
      yield* hostTurns(2);
      expect(side.log).toEqual(["pause at 120", "lost"]);
    });
  });
});

describe("closing", () => {
  it("close() waits for the sends Node still has: the socket closes after the last one, and every datagram arrives", async () => {
    await run(function* () {
      const [server, serverSide] = yield* endpoint();
      const serverAddr = server.getExtraInfo<DatagramAddress>("sockname")!;
      const [client, side] = yield* endpoint();
      const sends = holdSends(client);
      client.sendto(Buffer.from("a"), serverAddr);
      client.sendto(Buffer.from("b"), serverAddr);
      client.close();
      sends.release();
      yield* serverSide.until(() => serverSide.log.length === 1);
      yield* hostTurns(2);
      expect(side.lost.done()).toBe(false);
      expect(client.getExtraInfo("sockname")).toBeDefined();
      sends.release();
      yield* serverSide.until(() => serverSide.log.length === 2);
      yield* side.lost;
      expect(serverSide.log).toEqual(["datagram a", "datagram b"]);
      server.close();
      yield* serverSide.lost;
    });
  });

  it("datagrams after the one whose callback closed the transport are not delivered", async () => {
    await run(function* () {
      const got: string[] = [];
      const loop = getRunningLoop();
      const lost = loop.createFuture<void>();
      let self: DatagramTransport | null = null;
      const [server] = yield* createDatagramEndpoint(
        () => ({
          connectionMade(t: DatagramTransport) {
            self = t;
          },
          datagramReceived(data: Uint8Array) {
            got.push(text(data));
            self!.close();
          },
          connectionLost: () => lost.setResult(),
        }),
        { localAddr: LOCAL },
      );
      const [client, side] = yield* endpoint({ remoteAddr: server.getExtraInfo<DatagramAddress>("sockname")! });
      // Node reads all three in one poll: they reach the loop in one batch.
      for (const d of ["1", "2", "3"]) client.sendto(Buffer.from(d));
      yield* lost;
      expect(got).toEqual(["1"]);
      client.close();
      yield* side.lost;
    });
  });

  it("an error a send reported before close() is not delivered after it", async () => {
    await run(function* () {
      const [transport, side] = yield* endpoint();
      const sends = holdSends(transport);
      transport.sendto(new Uint8Array(10), ["127.0.0.1", 9]);
      sends.complete(Object.assign(new Error("send failed"), { code: "EMSGSIZE" }));
      transport.close();
      yield* side.lost;
      expect(side.log).toEqual(["lost"]);
    });
  });

  it("abort() closes at once: isClosing() is true and sendto throws; sockname is gone", async () => {
    await run(function* () {
      const [transport, side] = yield* endpoint();
      transport.abort();
      expect(transport.isClosing()).toBe(true);
      expect(() => transport.sendto(Buffer.from("x"), ["127.0.0.1", 9])).toThrow(
        new Error("DatagramTransport.sendto: the transport is closed; open a new endpoint to send more"),
      );
      expect(transport.getExtraInfo("sockname")).toBeUndefined();
      expect(transport.getExtraInfo("sockname", "gone")).toBe("gone");
      transport.abort();
      transport.close();
      yield* side.lost;
      expect(side.log).toEqual(["lost"]);
    });
  });

  it("an endpoint left open when the loop closes is closed with it", async () => {
    const transport = await run(function* () {
      const [transport] = yield* endpoint();
      return transport;
    });
    expect(transport.isClosing()).toBe(true);
    expect(() => transport.sendto(Buffer.from("x"), ["127.0.0.1", 9])).toThrow(/the transport is closed/);
  });
});

describe("opening", () => {
  it("a cancelled open makes no protocol and closes its socket at once", async () => {
    await run(function* () {
      let made = 0;
      const opening = createTask(
        createDatagramEndpoint(() => {
          made++;
          return new Log();
        }, { localAddr: LOCAL }),
      );
      yield;
      opening.cancel();
      try {
        yield* opening;
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(CancelledError);
      }
      yield* untilSocketsClosed();
      expect(made).toBe(0);
    });
  });

  it("an open cancelled after Node reported it ready, or failed, but before the loop heard it: no protocol, nothing reported", async () => {
    // Node's connect is held: the test reports its outcome itself, in the same step as the cancel.
    let connecting: { socket: dgram.Socket; ready: () => void } | null = null;
    vi.spyOn(dgram.Socket.prototype, "connect").mockImplementation(function (this: dgram.Socket, ...args: unknown[]) {
      connecting = { socket: this, ready: args.at(-1) as () => void };
    } as typeof dgram.Socket.prototype.connect);
    await run(function* () {
      const seen = reports();
      let made = 0;
      const factory = (): DatagramProtocol => {
        made++;
        return new Log();
      };
      for (const outcome of ["ready", "failed"]) {
        connecting = null;
        const opening = createTask(createDatagramEndpoint(factory, { localAddr: LOCAL, remoteAddr: ["127.0.0.1", 9] }));
        while (connecting === null) yield* hostTurns(1);
        const { socket, ready } = connecting as { socket: dgram.Socket; ready: () => void };
        if (outcome === "ready") ready();
        else socket.emit("error", new Error("connect failed"));
        opening.cancel();
        try {
          yield* opening;
          expect.unreachable();
        } catch (error) {
          expect(error).toBeInstanceOf(CancelledError);
        }
      }
      yield* untilSocketsClosed();
      expect([made, seen]).toEqual([0, []]);
    });
  });

  it("a protocolFactory or connectionMade that throws fails the open with its error and leaves no socket", async () => {
    await run(function* () {
      const seen = reports();
      const boom = new Error("no protocol");
      for (const factory of [
        (): DatagramProtocol => {
          throw boom;
        },
        (): DatagramProtocol => ({
          datagramReceived() {},
          connectionMade() {
            throw boom;
          },
        }),
      ]) {
        try {
          yield* createDatagramEndpoint(factory, { localAddr: LOCAL });
          expect.unreachable();
        } catch (error) {
          expect(error).toBe(boom);
        }
      }
      yield* untilSocketsClosed();
      expect(seen).toEqual([]);
    });
  });

  it("the driver called with options Node refuses fails the open, naming the local address first, else the remote one", async () => {
    await run(function* () {
      const loop = getRunningLoop();
      const failure = function* (options: Parameters<typeof nodeNetDriver.datagram>[2]): Coroutine<NodeJS.ErrnoException & { address?: string; port?: number }> {
        try {
          yield* nodeNetDriver.datagram(loop, () => new Log(), options);
        } catch (error) {
          return error as NodeJS.ErrnoException;
        }
        throw new Error("opened");
      };
      // The driver's options are not checked (createDatagramEndpoint checks them): Node's bind throws for a host that is not a string.
      const bind = yield* failure({ family: 4, localAddr: [5 as never, 0], remoteAddr: ["127.0.0.2", 9] });
      expect([bind.constructor, bind.code, bind.address, bind.port]).toEqual([TypeError, "ERR_INVALID_ARG_TYPE", 5, 0]);
      const connect = yield* failure({ remoteAddr: ["127.0.0.2", 70000] });
      expect([connect.constructor, connect.code, connect.address, connect.port]).toEqual([RangeError, "ERR_SOCKET_BAD_PORT", "127.0.0.2", 70000]);
      yield* untilSocketsClosed();
    });
  });

  it("a failure with no address to name is reported as it is", async () => {
    const boom = new Error("bind failed");
    vi.spyOn(dgram.Socket.prototype, "bind").mockImplementationOnce(() => {
      throw boom;
    });
    await run(function* () {
      try {
        yield* endpoint({});
        expect.unreachable();
      } catch (error) {
        expect(error).toBe(boom);
        expect((error as { address?: string }).address).toBeUndefined();
      }
      yield* untilSocketsClosed();
    });
  });

  it("without localAddr it binds every address of its family", async () => {
    await run(function* () {
      for (const [family, any] of [[4, "0.0.0.0"], [6, "::"]] as const) {
        const [transport, side] = yield* endpoint({ family });
        const [host, port] = transport.getExtraInfo<DatagramAddress>("sockname")!;
        expect(host).toBe(any);
        expect(port).toBeGreaterThan(0);
        transport.close();
        yield* side.lost;
      }
    });
  });

  it("a datagram that arrives before the connected endpoint is ready is dropped, quietly", async () => {
    const realConnect = dgram.Socket.prototype.connect;
    let connecting: { socket: dgram.Socket; go: () => void } | null = null;
    vi.spyOn(dgram.Socket.prototype, "connect").mockImplementationOnce(function (this: dgram.Socket, ...args: unknown[]) {
      connecting = { socket: this, go: () => Reflect.apply(realConnect, this, args) };
    } as typeof realConnect);
    await run(function* () {
      const loop = getRunningLoop();
      const seen = reports();
      const [peer, peerSide] = yield* endpoint();
      const opening = createTask(endpoint({ localAddr: LOCAL, remoteAddr: peer.getExtraInfo<DatagramAddress>("sockname")! }));
      while (connecting === null) yield* hostTurns(1);
      const { socket, go } = connecting as { socket: dgram.Socket; go: () => void };
      const arrived = loop.createFuture<void>();
      socket.once("message", () => loop.callSoonThreadsafe(() => arrived.setResult()));
      const { address, port } = socket.address();
      peer.sendto(Buffer.from("early"), [address, port]);
      yield* arrived;
      go();
      const [client, side] = yield* opening;
      client.sendto(Buffer.from("ready"));
      yield* peerSide.until(() => peerSide.log.length === 1);
      expect(side.log).toEqual([]);
      expect(seen).toEqual([]);
      client.close();
      peer.close();
      yield* side.lost;
      yield* peerSide.lost;
    });
  });
});

describe("the protocol's callbacks", () => {
  it("one that throws goes to the loop's exception handler, named, with the transport; the endpoint goes on", async () => {
    await run(function* () {
      const seen = reports();
      const thrown = new Map<string, Error>();
      const failing = (name: string) => () => {
        const error = new Error(name);
        thrown.set(name, error);
        throw error;
      };
      const [transport] = yield* createDatagramEndpoint(
        () => ({
          datagramReceived: failing("datagramReceived"),
          errorReceived: failing("errorReceived"),
          pauseWriting: failing("pauseWriting"),
          resumeWriting: failing("resumeWriting"),
          connectionLost: failing("connectionLost"),
        }),
        { localAddr: LOCAL },
      );
      const socket = transport.getExtraInfo<dgram.Socket>("socket")!;
      const sends = holdSends(transport);
      transport.setWriteBufferLimits(10, 0);
      transport.sendto(new Uint8Array(11), ["127.0.0.1", 9]);
      sends.complete(new Error("send failed"));
      socket.emit("message", Buffer.from("x"), { address: "127.0.0.1", family: "IPv4", port: 9, size: 1 });
      yield* hostTurns(2);
      // Paused again, by lowering the high-water mark this time.
      transport.setWriteBufferLimits(100, 0);
      transport.sendto(new Uint8Array(11), ["127.0.0.1", 9]);
      transport.setWriteBufferLimits(10, 0);
      transport.abort();
      for (let i = 0; i < 50 && seen.length < 6; i++) yield* hostTurns(1);
      const names = ["pauseWriting", "errorReceived", "resumeWriting", "datagramReceived", "pauseWriting", "connectionLost"];
      expect(seen.map((c) => c.message)).toEqual(names.map((name) => `protocol.${name}() failed`));
      expect(seen.map((c) => c.exception)).toEqual(names.map((name) => thrown.get(name)));
      expect(seen.every((c) => c.transport === transport)).toBe(true);
    });
  });

  it("those a protocol leaves out are skipped", async () => {
    await run(function* () {
      const seen = reports();
      const loop = getRunningLoop();
      const received = loop.createFuture<void>();
      const [transport] = yield* createDatagramEndpoint(() => ({ datagramReceived: () => received.setResult() }), { localAddr: LOCAL });
      const socket = transport.getExtraInfo<dgram.Socket>("socket")!;
      const sends = holdSends(transport);
      transport.setWriteBufferLimits(10, 0);
      transport.sendto(new Uint8Array(11), ["127.0.0.1", 9]);
      sends.complete(new Error("send failed"));
      socket.emit("message", Buffer.from("x"), { address: "127.0.0.1", family: "IPv4", port: 9, size: 1 });
      yield* received;
      transport.setWriteBufferLimits(100, 0);
      transport.sendto(new Uint8Array(11), ["127.0.0.1", 9]);
      transport.setWriteBufferLimits(10, 0);
      transport.abort();
      yield* untilSocketsClosed();
      yield* hostTurns(2);
      expect(seen).toEqual([]);
    });
  });

  it("setProtocol() hands the next datagrams to another protocol; getProtocol() says which", async () => {
    await run(function* () {
      const [server, first] = yield* endpoint();
      expect(server.getProtocol()).toBe(first);
      const second = new Log();
      server.setProtocol(second);
      expect(server.getProtocol()).toBe(second);
      const [client, side] = yield* endpoint({ remoteAddr: server.getExtraInfo<DatagramAddress>("sockname")! });
      client.sendto(Buffer.from("to the second"));
      yield* second.until(() => second.log.length === 1);
      expect([first.log, second.log]).toEqual([[], ["datagram to the second"]]);
      client.close();
      server.close();
      yield* side.lost;
      yield* second.lost;
    });
  });
});

describe("sendto() and getExtraInfo()", () => {
  it("allowBroadcast lets sendto reach a broadcast address; without it the kernel refuses (EACCES)", async () => {
    await run(function* () {
      const [receiver, receiverSide] = yield* endpoint();
      const [host, port] = receiver.getExtraInfo<DatagramAddress>("sockname")!;
      const outcomes: string[][] = [];
      for (const allowBroadcast of [true, false, undefined]) {
        const [sender, side] = yield* endpoint({ localAddr: LOCAL, allowBroadcast });
        sender.sendto(Buffer.from("everyone"), ["127.255.255.255", port]);
        sender.sendto(Buffer.from(`after ${String(allowBroadcast)}`), [host, port]);
        // The sends complete in order, and one dispatcher delivers: an error of the first comes before the second's datagram.
        yield* receiverSide.until(() => receiverSide.log.includes(`datagram after ${String(allowBroadcast)}`));
        outcomes.push(side.log);
        sender.close();
        yield* side.lost;
      }
      expect(outcomes).toEqual([["lost"], ["error EACCES", "lost"], ["error EACCES", "lost"]]);
      receiver.close();
      yield* receiverSide.lost;
    });
  });

  it("checks its data and address, by class and message", async () => {
    await run(function* () {
      const [unconnected, side] = yield* endpoint();
      expect(() => unconnected.sendto("text" as never, ["127.0.0.1", 9])).toThrow(
        new TypeError("DatagramTransport.sendto(data, addr): data must be a Uint8Array, got string"),
      );
      const noAddr = new TypeError("DatagramTransport.sendto(data, addr): addr must be [host, port]; this endpoint has no remoteAddr to send to by default");
      for (const addr of [undefined, ["127.0.0.1", 9, 1], [127, 9], ["127.0.0.1", "9"], "127.0.0.1:9"]) {
        expect(() => unconnected.sendto(Buffer.from("x"), addr as never)).toThrow(noAddr);
      }
      const [connected, connectedSide] = yield* endpoint({ remoteAddr: ["127.0.0.1", 9] });
      const other = new RangeError("DatagramTransport.sendto(data, addr): this endpoint is connected to 127.0.0.1:9; omit addr or pass that address");
      expect(() => connected.sendto(Buffer.from("x"), ["127.0.0.2", 9])).toThrow(other);
      expect(() => connected.sendto(Buffer.from("x"), ["127.0.0.1", 10])).toThrow(other);
      expect(unconnected.getWriteBufferSize() + connected.getWriteBufferSize()).toBe(0);
      unconnected.close();
      connected.close();
      yield* side.lost;
      yield* connectedSide.lost;
    });
  });

  it("getExtraInfo answers socket, sockname and peername; another name gets the fallback", async () => {
    await run(function* () {
      const [transport, side] = yield* endpoint({ remoteAddr: ["127.0.0.1", 9] });
      expect(transport.getExtraInfo("socket")).toBeInstanceOf(dgram.Socket);
      expect(transport.getExtraInfo("peername")).toEqual(["127.0.0.1", 9]);
      expect(transport.getExtraInfo<DatagramAddress>("sockname")![0]).toBe("127.0.0.1");
      expect(transport.getExtraInfo("compression")).toBeUndefined();
      expect(transport.getExtraInfo("compression", "none")).toBe("none");
      transport.close();
      yield* side.lost;
    });
  });
});

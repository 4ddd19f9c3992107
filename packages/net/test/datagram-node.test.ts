/** UDP over node:dgram: createDatagramEndpoint and openDatagramSocket on real sockets (127.0.0.1, port 0). */
import { readdirSync } from "node:fs";
import { CancelledError, createTask, getRunningLoop, run, type Coroutine, type DatagramAddress, type DatagramProtocol, type DatagramTransport, type Future } from "@loop/core";
import { Buffer } from "node:buffer";
import * as dgram from "node:dgram";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createDatagramEndpoint, openDatagramSocket } from "../src/index.js";

const LOCAL: DatagramAddress = ["127.0.0.1", 0];

let fdsBefore = 0;
const openFds = (): number => readdirSync("/proc/self/fd").length;
beforeEach(() => {
  fdsBefore = openFds();
});
afterEach(() => {
  // No socket outlives its test.
  expect(openFds()).toBe(fdsBefore);
});

/** A protocol that logs what it hears and resolves `next` futures as datagrams arrive. */
class Recorder implements DatagramProtocol {
  readonly log: string[] = [];
  readonly datagrams: [string, DatagramAddress][] = [];
  readonly errors: Error[] = [];
  transport: DatagramTransport | null = null;
  lost: Future<Error | null>;
  private _waiting: Future<void> | null = null;

  constructor() {
    this.lost = getRunningLoop().createFuture();
  }
  connectionMade(transport: DatagramTransport): void {
    this.transport = transport;
    this.log.push("made");
  }
  datagramReceived(data: Uint8Array, addr: DatagramAddress): void {
    this.datagrams.push([Buffer.from(data).toString(), addr]);
    this._wake();
  }
  errorReceived(error: Error): void {
    this.errors.push(error);
    this.log.push(`error ${(error as NodeJS.ErrnoException).code}`);
    this._wake();
  }
  connectionLost(error: Error | null): void {
    this.log.push(`lost ${String(error)}`);
    this.lost.setResult(error);
  }
  pauseWriting(): void {
    this.log.push("pause");
  }
  resumeWriting(): void {
    this.log.push("resume");
    this._wake();
  }
  /** Waits until `count` datagrams or errors in all have arrived. */
  *until(count: () => boolean): Coroutine<void> {
    while (!count()) {
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

function* echoServer(): Coroutine<[DatagramTransport, Recorder, DatagramAddress]> {
  const recorder = new Recorder();
  const echoing = Object.assign(recorder, {
    datagramReceived(data: Uint8Array, addr: DatagramAddress): void {
      Recorder.prototype.datagramReceived.call(recorder, data, addr);
      recorder.transport!.sendto(data, addr);
    },
  });
  const [transport] = yield* createDatagramEndpoint(() => echoing, { localAddr: LOCAL });
  return [transport, recorder, transport.getExtraInfo<DatagramAddress>("sockname")!];
}

describe("createDatagramEndpoint over node:dgram", () => {
  it("an unconnected endpoint sends to any address and hears who sent each datagram", async () => {
    await run(function* () {
      const [server, serverSide, serverAddr] = yield* echoServer();
      expect(serverAddr[0]).toBe("127.0.0.1");
      expect(serverAddr[1]).toBeGreaterThan(0);
      const [client, clientSide] = yield* createDatagramEndpoint(() => new Recorder(), { localAddr: LOCAL });
      expect(clientSide.log).toEqual(["made"]);
      expect(clientSide.transport).toBe(client);
      expect(client.getExtraInfo("peername")).toBeUndefined();
      expect(client.getExtraInfo("socket")).toBeInstanceOf(dgram.Socket);
      client.sendto(Buffer.from("one"), serverAddr);
      client.sendto(Buffer.from("two"), serverAddr);
      yield* clientSide.until(() => clientSide.datagrams.length === 2);
      const clientAddr = client.getExtraInfo<DatagramAddress>("sockname")!;
      expect(serverSide.datagrams.map(([d, a]) => [d, a])).toEqual([
        ["one", clientAddr],
        ["two", clientAddr],
      ]);
      expect(new Set(clientSide.datagrams.map(([d]) => d))).toEqual(new Set(["one", "two"]));
      expect(clientSide.datagrams[0]![1]).toEqual(serverAddr);
      client.close();
      server.close();
      expect(yield* clientSide.lost).toBeNull();
      expect(yield* serverSide.lost).toBeNull();
      expect(clientSide.log).toEqual(["made", "lost null"]);
    });
  });

  it("a connected endpoint sends to its peer without an address and refuses another one", async () => {
    await run(function* () {
      const [server, , serverAddr] = yield* echoServer();
      const [client, side] = yield* createDatagramEndpoint(() => new Recorder(), { remoteAddr: serverAddr });
      expect(client.getExtraInfo("peername")).toEqual(serverAddr);
      expect(() => client.sendto(Buffer.from("x"), ["127.0.0.1", 9])).toThrow(RangeError);
      client.sendto(Buffer.from("ping"));
      client.sendto(Buffer.from("ping2"), serverAddr);
      yield* side.until(() => side.datagrams.length === 2);
      expect(side.datagrams.map(([d]) => d).sort()).toEqual(["ping", "ping2"]);
      client.close();
      server.close();
      yield* side.lost;
    });
  });

  it("a datagram larger than the socket allows is an errorReceived (EMSGSIZE), and the endpoint goes on", async () => {
    await run(function* () {
      const [server, , serverAddr] = yield* echoServer();
      const [client, side] = yield* createDatagramEndpoint(() => new Recorder(), { localAddr: LOCAL });
      client.sendto(new Uint8Array(70_000), serverAddr);
      yield* side.until(() => side.errors.length === 1);
      expect((side.errors[0] as NodeJS.ErrnoException).code).toBe("EMSGSIZE");
      client.sendto(Buffer.from("still working"), serverAddr);
      yield* side.until(() => side.datagrams.length === 1);
      expect(side.datagrams[0]![0]).toBe("still working");
      expect(client.getWriteBufferSize()).toBe(0);
      client.close();
      server.close();
      yield* side.lost;
    });
  });

  it("a connected endpoint hears ECONNREFUSED when nobody listens at the peer", async () => {
    await run(function* () {
      // A port that was just free: bind, note it, close.
      const [probe, probeSide] = yield* createDatagramEndpoint(() => new Recorder(), { localAddr: LOCAL });
      const dead = probe.getExtraInfo<DatagramAddress>("sockname")!;
      probe.close();
      yield* probeSide.lost;
      const [client, side] = yield* createDatagramEndpoint(() => new Recorder(), { remoteAddr: dead });
      client.sendto(Buffer.from("anyone?"));
      yield* side.until(() => side.errors.length === 1);
      expect((side.errors[0] as NodeJS.ErrnoException).code).toBe("ECONNREFUSED");
      client.close();
      yield* side.lost;
    });
  });

  it("sending on a closing or closed transport throws a clear error; close and abort lose the connection once", async () => {
    await run(function* () {
      const [client, side] = yield* createDatagramEndpoint(() => new Recorder(), { localAddr: LOCAL });
      client.close();
      expect(client.isClosing()).toBe(true);
      expect(() => client.sendto(Buffer.from("late"), ["127.0.0.1", 9])).toThrow(/transport is closed/);
      client.close();
      client.abort();
      yield* side.lost;
      expect(() => client.sendto(Buffer.from("later"), ["127.0.0.1", 9])).toThrow(/transport is closed/);
      const [other, otherSide] = yield* createDatagramEndpoint(() => new Recorder(), { localAddr: LOCAL });
      other.abort();
      yield* otherSide.lost;
      expect(otherSide.log).toEqual(["made", "lost null"]);
    });
  });

  it("counts unsent bytes in the write buffer and pauses and resumes the protocol around its limits", async () => {
    await run(function* () {
      const [server, , serverAddr] = yield* echoServer();
      const [client, side] = yield* createDatagramEndpoint(() => new Recorder(), { localAddr: LOCAL });
      client.setWriteBufferLimits(100, 0);
      expect(client.getWriteBufferLimits()).toEqual({ high: 100, low: 0 });
      client.sendto(new Uint8Array(60), serverAddr);
      expect(client.getWriteBufferSize()).toBe(60);
      expect(side.log).toEqual(["made"]);
      client.sendto(new Uint8Array(60), serverAddr);
      expect(client.getWriteBufferSize()).toBe(120);
      // As in asyncio, pause_writing comes from inside the write that crossed the mark.
      expect(side.log).toEqual(["made", "pause"]);
      yield* side.until(() => side.log.includes("resume"));
      expect(client.getWriteBufferSize()).toBe(0);
      expect(() => client.setWriteBufferLimits(1, 2)).toThrow(RangeError);
      client.close();
      server.close();
      yield* side.lost;
    });
  });

  it("close() sends what is buffered first", async () => {
    await run(function* () {
      const [server, serverSide, serverAddr] = yield* echoServer();
      const [client, side] = yield* createDatagramEndpoint(() => new Recorder(), { localAddr: LOCAL });
      for (let i = 0; i < 5; i++) client.sendto(Buffer.from(`d${i}`), serverAddr);
      client.close();
      yield* side.lost;
      yield* serverSide.until(() => serverSide.datagrams.length === 5);
      expect(serverSide.datagrams.map(([d]) => d)).toEqual(["d0", "d1", "d2", "d3", "d4"]);
      server.close();
      yield* serverSide.lost;
    });
  });

  it("a taken address fails with EADDRINUSE naming it; a cancelled open leaves no socket", async () => {
    await run(function* () {
      const [first, side, addr] = yield* echoServer();
      try {
        yield* createDatagramEndpoint(() => new Recorder(), { localAddr: addr });
        expect.unreachable();
      } catch (error) {
        expect((error as NodeJS.ErrnoException).code).toBe("EADDRINUSE");
        expect((error as { port?: number }).port).toBe(addr[1]);
      }
      const opening = createTask(createDatagramEndpoint(() => new Recorder(), { localAddr: LOCAL }));
      yield;
      opening.cancel();
      try {
        yield* opening;
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(CancelledError);
      }
      first.close();
      yield* side.lost;
      // The cancelled socket's close completes in Node's next ticks; the fd check after the test sees it.
      yield* sleepTurns(5);
    });
  });

  it("a protocol error in datagramReceived goes to the exception handler; the endpoint keeps receiving", async () => {
    await run(function* () {
      const loop = getRunningLoop();
      const reports: unknown[] = [];
      loop.setExceptionHandler((_l, context) => reports.push(context.exception));
      const got: string[] = [];
      const done = loop.createFuture<void>();
      const [server] = yield* createDatagramEndpoint(
        () => ({
          datagramReceived(data: Uint8Array) {
            const text = Buffer.from(data).toString();
            got.push(text);
            if (text === "bad") throw new Error("bad datagram");
            if (text === "good") done.setResult();
          },
        }),
        { localAddr: LOCAL },
      );
      const [client, side] = yield* createDatagramEndpoint(() => new Recorder(), { remoteAddr: server.getExtraInfo<DatagramAddress>("sockname")! });
      client.sendto(Buffer.from("bad"));
      client.sendto(Buffer.from("good"));
      yield* done;
      expect(got).toEqual(["bad", "good"]);
      expect(reports).toHaveLength(1);
      client.close();
      server.close();
      yield* side.lost;
    });
  });

  it("sendto checks its data and, on an unconnected endpoint, requires an address", async () => {
    await run(function* () {
      const [client, side] = yield* createDatagramEndpoint(() => new Recorder(), { localAddr: LOCAL, allowBroadcast: true });
      expect(() => client.sendto("text" as unknown as Uint8Array, ["127.0.0.1", 9])).toThrow(TypeError);
      expect(() => client.sendto(Buffer.from("x"))).toThrow(/addr must be \[host, port\]/);
      expect(client.getWriteBufferSize()).toBe(0);
      client.close();
      yield* side.lost;
    });
  });

  it("reusePort lets two endpoints bind the same address", async () => {
    await run(function* () {
      const [first, firstSide] = yield* createDatagramEndpoint(() => new Recorder(), { localAddr: LOCAL, reusePort: true });
      const addr = first.getExtraInfo<DatagramAddress>("sockname")!;
      const [second, secondSide] = yield* createDatagramEndpoint(() => new Recorder(), { localAddr: addr, reusePort: true });
      expect(second.getExtraInfo("sockname")).toEqual(addr);
      first.close();
      second.close();
      yield* firstSide.lost;
      yield* secondSide.lost;
    });
  });

  it("IPv6: the family follows the addresses given", async () => {
    await run(function* () {
      const [server, serverSide] = yield* createDatagramEndpoint(() => new Recorder(), { localAddr: ["::1", 0] });
      const addr = server.getExtraInfo<DatagramAddress>("sockname")!;
      expect(addr[0]).toBe("::1");
      const client = yield* openDatagramSocket({ remoteAddr: addr });
      expect(client.address().family).toBe("IPv6");
      yield* client.send("over v6");
      yield* serverSide.until(() => serverSide.datagrams.length === 1);
      expect(serverSide.datagrams[0]![0]).toBe("over v6");
      client.close();
      server.close();
      yield* serverSide.lost;
    });
  });

  it("checks its arguments at the call", () => {
    const factory = (): DatagramProtocol => new Recorder();
    expect(() => createDatagramEndpoint(null as unknown as () => DatagramProtocol)).toThrow(TypeError);
    expect(() => createDatagramEndpoint(factory, { localAddr: ["127.0.0.1"] as unknown as DatagramAddress })).toThrow(TypeError);
    expect(() => createDatagramEndpoint(factory, { localAddr: ["127.0.0.1", 70_000] })).toThrow(RangeError);
    expect(() => createDatagramEndpoint(factory, { remoteAddr: ["127.0.0.1", 0] })).toThrow(/from 1 to 65535/);
    expect(() => createDatagramEndpoint(factory, { family: 5 as 4 })).toThrow(RangeError);
    expect(() => createDatagramEndpoint(factory, { reusePort: "yes" as unknown as boolean })).toThrow(TypeError);
    expect(() => createDatagramEndpoint(factory, "opts" as never)).toThrow(TypeError);
    expect(() => openDatagramSocket({ limit: 0 })).toThrow(RangeError);
    expect(() => openDatagramSocket({ localAddr: [""] as unknown as DatagramAddress })).toThrow(TypeError);
  });
});

describe("openDatagramSocket over node:dgram", () => {
  it("send and recv as coroutines; address() is Node's AddressInfo", async () => {
    await run(function* () {
      const server = yield* openDatagramSocket({ localAddr: LOCAL });
      const serving = createTask(
        (function* (): Coroutine<void> {
          for (;;) {
            const [data, addr] = yield* server.recv();
            yield* server.send(data, addr);
          }
        })(),
      );
      const { address, family, port } = server.address();
      expect([address, family]).toEqual(["127.0.0.1", "IPv4"]);
      const client = yield* openDatagramSocket({ remoteAddr: [address, port] });
      yield* client.send("hello");
      const [reply, from] = yield* client.recv();
      expect(Buffer.from(reply).toString()).toBe("hello");
      expect(from).toEqual([address, port]);
      serving.cancel();
      client.close();
      server.close();
      yield* sleepTurns(5);
    });
  });

  it("send waits while the write buffer is over its high-water mark", async () => {
    await run(function* () {
      const server = yield* openDatagramSocket({ localAddr: LOCAL });
      const client = yield* openDatagramSocket({ remoteAddr: ["127.0.0.1", server.address().port] });
      client.transport.setWriteBufferLimits(10, 0);
      yield* client.send(new Uint8Array(50));
      // The send returned only once the buffer had drained below the low-water mark.
      expect(client.transport.getWriteBufferSize()).toBe(0);
      const [data] = yield* server.recv();
      expect(data.byteLength).toBe(50);
      client.close();
      server.close();
      yield* sleepTurns(5);
    });
  });

  it("close() makes a waiting recv() and later calls throw a clear error", async () => {
    await run(function* () {
      const socket = yield* openDatagramSocket({ localAddr: LOCAL });
      const waiting = createTask(socket.recv());
      yield;
      socket.close();
      try {
        yield* waiting;
        expect.unreachable();
      } catch (error) {
        expect((error as Error).message).toMatch(/DatagramSocket.recv\(\): the socket is closed/);
      }
      expect(() => socket.send("x").next()).toThrow(/socket is closed/);
      yield* sleepTurns(5);
    });
  });
});

/** Lets Node run its close callbacks (nextTicks and a poll phase) between loop turns. */
function* sleepTurns(n: number): Coroutine<void> {
  const loop = getRunningLoop();
  for (let i = 0; i < n; i++) {
    const f = loop.createFuture<void>();
    setImmediate(() => loop.callSoonThreadsafe(() => f.setResult()));
    yield* f;
  }
}

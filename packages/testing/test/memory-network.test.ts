import { Buffer } from "node:buffer";
import { getRunningLoop, type BaseTransport, type Coroutine, type Future, type Protocol, type Transport } from "@loop/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MemoryNetwork, runVirtual } from "../src/index.js";
import { propertyRuns } from "./property-runs.js";

/** A protocol that logs every call with the loop time, and lets a test wait for the next one. */
class Recorder implements Protocol {
  readonly log: string[] = [];
  transport: Transport | null = null;
  received = "";
  lostWith: Error | null | undefined = undefined;
  private _waiter: Future<void> | null = null;

  constructor(private readonly _name = "") {}

  private _note(event: string): void {
    this.log.push(`${getRunningLoop().time()}ms ${this._name}${event}`);
    const waiter = this._waiter;
    this._waiter = null;
    waiter?.setResult();
  }

  connectionMade(transport: BaseTransport): void {
    this.transport = transport as Transport;
    this._note("made");
  }
  connectionLost(error: Error | null): void {
    this.lostWith = error;
    this._note(`lost ${error === null ? "cleanly" : (error as { code?: string }).code ?? error.message}`);
  }
  dataReceived(data: Uint8Array): void {
    this.received += Buffer.from(data).toString();
    this._note(`data ${data.length}`);
  }
  eofReceived(): boolean {
    this._note("eof");
    return true;
  }
  pauseWriting(): void {
    this._note("pauseWriting");
  }
  resumeWriting(): void {
    this._note("resumeWriting");
  }

  /** Waits until `condition` holds, one protocol event at a time. */
  *until(condition: () => boolean): Coroutine<void> {
    while (!condition()) {
      this._waiter = getRunningLoop().createFuture<void>();
      yield* this._waiter;
    }
  }
}

function* listen(network: MemoryNetwork, host: string, port: number): Coroutine<{ accepted: Recorder[]; close: () => void }> {
  const accepted: Recorder[] = [];
  const handle = yield* network.listen(
    getRunningLoop(),
    () => {
      const recorder = new Recorder("server ");
      accepted.push(recorder);
      return recorder;
    },
    { host, port },
  );
  return { accepted, close: () => handle.close() };
}

function* connect(network: MemoryNetwork, host: string, port: number, from?: string): Coroutine<Recorder> {
  const client = new Recorder("client ");
  const driver = from === undefined ? network : network.host(from);
  yield* driver.connect(getRunningLoop(), () => client, { host, port });
  return client;
}

function* failure(body: Coroutine<unknown>): Coroutine<{ code?: string; address?: string; port?: number; syscall?: string }> {
  try {
    yield* body;
  } catch (error) {
    return error as { code?: string };
  }
  throw new Error("expected a failure");
}

describe("MemoryNetwork", () => {
  it("connects in one round trip of virtual time and delivers bytes after the one-way latency", async () => {
    const network = new MemoryNetwork({ latency: 50 });
    network.addHost("db");
    await runVirtual(function* () {
      const loop = getRunningLoop();
      const server = yield* listen(network, "db", 6379);
      const client = yield* connect(network, "db", 6379);
      expect(loop.time()).toBe(100);
      expect(server.accepted[0]!.log).toEqual(["50ms server made"]);
      client.transport!.write(Buffer.from("PING"));
      yield* server.accepted[0]!.until(() => server.accepted[0]!.received === "PING");
      expect(loop.time()).toBe(150);
      client.transport!.close();
      server.accepted[0]!.transport!.close();
      server.close();
      yield* client.until(() => client.lostWith !== undefined);
      yield* server.accepted[0]!.until(() => server.accepted[0]!.lostWith !== undefined);
    });
    expect(network.openConnections).toBe(0);
    expect(network.openListeners).toBe(0);
  });

  it("takes size / bandwidth to transmit, on top of the latency", async () => {
    const network = new MemoryNetwork({ latency: 10, bandwidth: 100 }); // 100 bytes per ms
    await runVirtual(function* () {
      const loop = getRunningLoop();
      const server = yield* listen(network, "localhost", 80);
      const client = yield* connect(network, "localhost", 80);
      const start = loop.time();
      client.transport!.write(Buffer.alloc(10_000, 97));
      const peer = server.accepted[0]!;
      yield* peer.until(() => peer.received.length === 10_000);
      expect(loop.time() - start).toBe(100 + 10);
      client.transport!.abort();
      peer.transport!.abort();
      server.close();
    });
  });

  it("fails like Node: ENOTFOUND for an unknown host, ECONNREFUSED where nothing listens or connections are refused, EADDRINUSE for a taken port", async () => {
    const network = new MemoryNetwork({ latency: 5 });
    network.addHost("db");
    await runVirtual(function* () {
      const loop = getRunningLoop();
      const notFound = yield* failure(connect(network, "nowhere", 80));
      expect(notFound).toMatchObject({ code: "ENOTFOUND", address: "nowhere", port: 80, syscall: "getaddrinfo" });

      const before = loop.time();
      const refused = yield* failure(connect(network, "db", 5432));
      expect(refused).toMatchObject({ code: "ECONNREFUSED", address: "db", port: 5432, syscall: "connect" });
      expect(loop.time() - before).toBe(10); // the RST comes back after a round trip

      const server = yield* listen(network, "db", 5432);
      network.refuse("db", 5432);
      expect(yield* failure(connect(network, "db", 5432))).toMatchObject({ code: "ECONNREFUSED" });
      network.allow("db", 5432);
      const client = yield* connect(network, "db", 5432);

      expect(yield* failure(listen(network, "db", 5432))).toMatchObject({ code: "EADDRINUSE", address: "db", port: 5432 });
      client.transport!.abort();
      server.accepted[0]!.transport!.abort();
      server.close();
    });
    expect(network.openConnections).toBe(0);
  });

  it("a partition holds bytes and new connections until it heals, then they flow in order", async () => {
    const network = new MemoryNetwork({ latency: 1 });
    network.addHost("db");
    await runVirtual(function* () {
      const loop = getRunningLoop();
      const server = yield* listen(network, "db", 1);
      const client = yield* connect(network, "db", 1);
      const peer = server.accepted[0]!;
      network.partition("localhost", "db");
      client.transport!.write(Buffer.from("during "));
      const healAt = loop.time() + 1_000;
      loop.callLater(1_000, () => {
        client.transport!.write(Buffer.from("partition"));
        network.heal("localhost", "db");
      });
      const late = createConnect(network, "db", 1);
      yield* peer.until(() => peer.received === "during partition");
      expect(loop.time()).toBe(healAt + 1); // one latency after the heal
      const second = yield* late;
      expect(second.log).toEqual([`${healAt + 2}ms late made`]); // a round trip after the heal
      for (const recorder of [client, second, ...server.accepted]) recorder.transport!.abort();
      server.close();
    });
    expect(network.openConnections).toBe(0);
  });

  it("reset() gives both ends of its connections ECONNRESET", async () => {
    const network = new MemoryNetwork();
    network.addHost("cache");
    await runVirtual(function* () {
      const server = yield* listen(network, "cache", 11211);
      const client = yield* connect(network, "cache", 11211);
      const peer = server.accepted[0]!;
      expect(network.reset("cache", 11211)).toBe(1);
      yield* client.until(() => client.lostWith !== undefined);
      yield* peer.until(() => peer.lostWith !== undefined);
      expect((client.lostWith as { code?: string }).code).toBe("ECONNRESET");
      expect((peer.lostWith as { code?: string }).code).toBe("ECONNRESET");
      server.close();
    });
    expect(network.openConnections).toBe(0);
  });

  it("a receiver that stops reading fills the window, and the sender is told to pause writing, then to resume", async () => {
    const network = new MemoryNetwork({ window: 1000 });
    await runVirtual(function* () {
      const server = yield* listen(network, "localhost", 7);
      const client = yield* connect(network, "localhost", 7);
      const peer = server.accepted[0]!;
      peer.transport!.pauseReading();
      client.transport!.setWriteBufferLimits(500, 100);
      client.transport!.write(Buffer.alloc(1000, 1)); // fills the window
      client.transport!.write(Buffer.alloc(600, 2)); // stays in the write buffer
      expect(client.transport!.getWriteBufferSize()).toBe(600);
      expect(client.log.at(-1)).toMatch(/pauseWriting/);
      expect(peer.received.length).toBe(0);
      peer.transport!.resumeReading();
      yield* client.until(() => client.log.some((line) => line.endsWith("resumeWriting")));
      yield* peer.until(() => peer.received.length === 1600);
      expect(client.transport!.getWriteBufferSize()).toBe(0);
      client.transport!.abort();
      peer.transport!.abort();
      server.close();
    });
  });

  it("writeEof reaches the peer as eofReceived, and close() ends both sides cleanly", async () => {
    const network = new MemoryNetwork({ latency: 2 });
    await runVirtual(function* () {
      const server = yield* listen(network, "localhost", 9);
      const client = yield* connect(network, "localhost", 9);
      const peer = server.accepted[0]!;
      client.transport!.write(Buffer.from("last words"));
      client.transport!.writeEof();
      expect(() => client.transport!.write(Buffer.from("more"))).toThrow(/after writeEof/);
      yield* peer.until(() => peer.log.some((line) => line.endsWith("eof")));
      expect(peer.received).toBe("last words");
      peer.transport!.write(Buffer.from("reply"));
      yield* client.until(() => client.received === "reply");
      peer.transport!.close();
      yield* client.until(() => client.log.some((line) => line.endsWith("eof")));
      client.transport!.close();
      yield* client.until(() => client.lostWith !== undefined);
      yield* peer.until(() => peer.lostWith !== undefined);
      expect(client.lostWith).toBeNull();
      expect(peer.lostWith).toBeNull();
      server.close();
    });
    expect(network.openConnections).toBe(0);
  });

  it("a host view connects from that host, as the server's peername shows", async () => {
    const network = new MemoryNetwork();
    network.addHost("api");
    await runVirtual(function* () {
      const server = yield* listen(network, "api", 443);
      const client = yield* connect(network, "api", 443, "worker-1");
      const peer = server.accepted[0]!;
      expect(peer.transport!.getExtraInfo<{ address: string }>("peername")!.address).toBe("worker-1");
      expect(client.transport!.getExtraInfo<{ address: string; port: number }>("peername")).toEqual({ address: "api", family: "memory", port: 443 });
      client.transport!.abort();
      peer.transport!.abort();
      server.close();
    });
  });

  it("a connect cancelled on the way leaves no connection open", async () => {
    const network = new MemoryNetwork({ latency: 10 });
    await runVirtual(function* () {
      const server = yield* listen(network, "localhost", 1);
      const pending = network.connect(getRunningLoop(), () => new Recorder(), { host: "localhost", port: 1 });
      const loop = getRunningLoop();
      const timer = loop.createFuture<void>();
      loop.callLater(15, () => timer.setResult());
      yield* timer; // the server end exists by now
      pending.cancel();
      const peer = server.accepted[0]!;
      yield* peer.until(() => peer.lostWith !== undefined || peer.log.some((line) => line.endsWith("eof")));
      peer.transport!.close();
      yield* peer.until(() => peer.lostWith !== undefined);
      server.close();
    });
    expect(network.openConnections).toBe(0);
  });

  it("delivers every byte, in order, whatever the latency, bandwidth, window, write sizes and reader pauses (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          latency: fc.integer({ min: 0, max: 20 }),
          bandwidth: fc.option(fc.integer({ min: 10, max: 500 }), { nil: undefined }),
          window: fc.integer({ min: 16, max: 3000 }),
          writes: fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 1, maxLength: 8 }),
          pauses: fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 6 }),
        }),
        async ({ latency, bandwidth, window, writes, pauses }) => {
          const network = new MemoryNetwork({ latency, bandwidth, window });
          let expected = "";
          await runVirtual(function* () {
            const loop = getRunningLoop();
            const server = yield* listen(network, "localhost", 1);
            const client = yield* connect(network, "localhost", 1);
            const peer = server.accepted[0]!;
            // The reader pauses and resumes at random moments.
            let at = 0;
            for (const gap of pauses) {
              at += gap;
              loop.callLater(at, () => peer.transport!.pauseReading());
              at += gap;
              loop.callLater(at, () => peer.transport!.resumeReading());
            }
            writes.forEach((size, i) => {
              const chunk = String.fromCharCode(97 + (i % 26)).repeat(size);
              expected += chunk;
              client.transport!.write(Buffer.from(chunk));
            });
            client.transport!.writeEof();
            yield* peer.until(() => peer.log.some((line) => line.endsWith("eof")));
            expect(peer.received).toBe(expected);
            client.transport!.close();
            peer.transport!.close();
            server.close();
            yield* peer.until(() => peer.lostWith !== undefined);
          }, { net: network });
          expect(network.openConnections).toBe(0);
        },
      ),
      { numRuns: propertyRuns(40) },
    );
  });

  it("checks its options at construction", () => {
    expect(() => new MemoryNetwork({ latency: -1 })).toThrow(RangeError);
    expect(() => new MemoryNetwork({ bandwidth: 0 })).toThrow(RangeError);
    expect(() => new MemoryNetwork({ window: 0 })).toThrow(RangeError);
    expect(() => new MemoryNetwork().addHost("")).toThrow(TypeError);
  });
});

function createConnect(network: MemoryNetwork, host: string, port: number): Future<Recorder> {
  const recorder = new Recorder("late ");
  const loop = getRunningLoop();
  const result = loop.createFuture<Recorder>();
  network.connect(loop, () => recorder, { host, port }).addDoneCallback((f) => {
    if (f.exception() === null) result.setResult(recorder);
    else result.setException(f.exception());
  });
  return result;
}

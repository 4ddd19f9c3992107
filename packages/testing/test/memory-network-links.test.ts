import { Buffer } from "node:buffer";
import { getRunningLoop, type BaseTransport, type Coroutine, type Future, type NetDriver, type Protocol, type Transport } from "@loop/core";
import { describe, expect, it } from "vitest";
import { DeadlockError, MemoryNetwork, runVirtual } from "../src/index.js";

// What each pair of hosts sees of the network: its link's latency and bandwidth, its
// partition, refused connections and resets, each without touching the other pairs.

/** A protocol that records what reaches it and lets a test wait for the next event. */
class Peer implements Protocol {
  transport: Transport | null = null;
  received = "";
  lostWith: Error | null | undefined = undefined;
  private _waiter: Future<void> | null = null;

  private _note(): void {
    const waiter = this._waiter;
    this._waiter = null;
    waiter?.setResult();
  }
  connectionMade(transport: BaseTransport): void {
    this.transport = transport as Transport;
    this._note();
  }
  connectionLost(error: Error | null): void {
    this.lostWith = error;
    this._note();
  }
  dataReceived(data: Uint8Array): void {
    this.received += Buffer.from(data).toString();
    this._note();
  }
  eofReceived(): boolean {
    this._note();
    return true;
  }
  pauseWriting(): void {}
  resumeWriting(): void {}

  *until(condition: () => boolean): Coroutine<void> {
    while (!condition()) {
      this._waiter = getRunningLoop().createFuture<void>();
      yield* this._waiter;
    }
  }
}

function* listen(driver: NetDriver, host: string, port: number): Coroutine<{ accepted: Peer[]; close: () => void }> {
  const accepted: Peer[] = [];
  const handle = yield* driver.listen(
    getRunningLoop(),
    () => {
      const peer = new Peer();
      accepted.push(peer);
      return peer;
    },
    { host, port },
  );
  return { accepted, close: () => handle.close() };
}

/** Starts a connection from `from`; the future resolves to the client's protocol. */
function startConnect(network: MemoryNetwork, from: string, host: string, port: number): Future<Peer> {
  const loop = getRunningLoop();
  const client = new Peer();
  const result = loop.createFuture<Peer>();
  network
    .host(from)
    .connect(loop, () => client, { host, port })
    .addDoneCallback((f) => {
      if (f.exception() === null) result.setResult(client);
      else result.setException(f.exception());
    });
  return result;
}

function* connectTimed(network: MemoryNetwork, from: string, host: string, port: number): Coroutine<{ client: Peer; took: number }> {
  const loop = getRunningLoop();
  const start = loop.time();
  const client = yield* startConnect(network, from, host, port);
  return { client, took: loop.time() - start };
}

function* sleep(ms: number): Coroutine<void> {
  const timer = getRunningLoop().createFuture<void>();
  getRunningLoop().callLater(ms, () => timer.setResult());
  yield* timer;
}

function* refusal(attempt: Future<Peer>): Coroutine<Error & { code?: string; syscall?: string; address?: string; port?: number; errno?: number }> {
  try {
    yield* attempt;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected the connection to fail");
}

describe("MemoryNetwork links between pairs of hosts", () => {
  it("setLink sets a pair's latency both ways, keeps the default bandwidth, and leaves the other pairs on the default link", async () => {
    const network = new MemoryNetwork({ latency: 1, bandwidth: 100 });
    for (const name of ["db", "web", "api"]) network.addHost(name);
    network.setLink("web", "db", { latency: 20 });
    await runVirtual(function* () {
      const loop = getRunningLoop();
      const server = yield* listen(network, "db", 5432);
      const slow = yield* connectTimed(network, "web", "db", 5432);
      expect(slow.took).toBe(40); // SYN and SYN-ACK, 20 ms each
      const fast = yield* connectTimed(network, "api", "db", 5432);
      expect(fast.took).toBe(2);

      // The server's reply to web travels the same link back: 20 ms plus 1000 bytes at the default 100 bytes/ms.
      const start = loop.time();
      server.accepted[0]!.transport!.write(Buffer.alloc(1000, 97));
      yield* slow.client.until(() => slow.client.received.length === 1000);
      expect(loop.time() - start).toBe(20 + 10);

      // Set from the other end, the same link changes.
      network.setLink("db", "web", { latency: 5 });
      const again = yield* connectTimed(network, "web", "db", 5432);
      expect(again.took).toBe(10);

      for (const client of [slow.client, fast.client, again.client]) client.transport!.abort();
      for (const peer of server.accepted) peer.transport!.abort();
      server.close();
    });
    expect(network.openConnections).toBe(0);
  });

  it("setLink checks its conditions like the constructor, naming itself", () => {
    const network = new MemoryNetwork();
    expect(() => network.setLink("a", "b", { latency: -1 })).toThrow(
      new RangeError("MemoryNetwork.setLink(a, b, conditions): latency must be 0 or more milliseconds, got -1"),
    );
    expect(() => network.setLink("a", "b", { bandwidth: 0 })).toThrow(
      new RangeError("MemoryNetwork.setLink(a, b, conditions): bandwidth must be a positive number of bytes per ms, got 0"),
    );
  });

  it("a partition holds only its own pair's connections; heal(a, b) from either end frees that pair and no other; heal() frees every pair", async () => {
    const network = new MemoryNetwork({ latency: 1 });
    for (const name of ["db", "web", "api", "cache"]) network.addHost(name);
    await runVirtual(function* () {
      const loop = getRunningLoop();
      const db = yield* listen(network, "db", 1);
      const cache = yield* listen(network, "cache", 1);
      network.partition("web", "db");
      network.partition("api", "db");

      const fromWeb = startConnect(network, "web", "db", 1);
      const fromApi = startConnect(network, "api", "db", 1);
      // Another pair is not cut: web reaches cache in one round trip.
      const toCache = yield* connectTimed(network, "web", "cache", 1);
      expect(toCache.took).toBe(2);
      yield* sleep(100);
      expect([fromWeb.done(), fromApi.done(), db.accepted.length]).toEqual([false, false, 0]);

      network.heal("db", "web");
      const healedAt = loop.time();
      const web = yield* fromWeb;
      expect(loop.time() - healedAt).toBe(2);
      yield* sleep(100);
      expect(fromApi.done()).toBe(false); // still cut from db

      network.heal();
      const api = yield* fromApi;
      for (const peer of [web, api, toCache.client, ...db.accepted, ...cache.accepted]) peer.transport!.abort();
      db.close();
      cache.close();
    });
    expect(network.openConnections).toBe(0);
  });

  it("heal with one host is a TypeError, not a heal of every partition", async () => {
    const network = new MemoryNetwork();
    network.partition("web", "db");
    const oneHost = new TypeError("MemoryNetwork.heal(a, b): name both hosts, or neither to heal every partition");
    expect(() => network.heal("web")).toThrow(oneHost);
    expect(() => network.heal(undefined, "db")).toThrow(oneHost);
    expect(network.partitioned("web", "db")).toBe(true);
    expect(network.heal("db", "web").partitioned("web", "db")).toBe(false);
  });

  it("a connect cancelled while a partition holds it is forgotten: a later heal, or one in the same turn, starts nothing for it", async () => {
    for (const turnsBetween of [1, 0]) {
      const network = new MemoryNetwork({ latency: 1000 });
      network.addHost("db");
      network.partition("localhost", "db");
      const stuck = runVirtual(function* () {
        const loop = getRunningLoop();
        const attempt = network.connect(loop, () => new Peer(), { host: "db", port: 1 });
        yield* sleep(5);
        attempt.cancel();
        if (turnsBetween > 0) yield* sleep(0);
        network.heal();
        yield* loop.createFuture<void>(); // nothing left to wake the loop: a deadlock, declared at once
      });
      const error = await stuck.then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(DeadlockError);
      expect((error as DeadlockError).time).toBe(5); // not 1005, after a SYN timer left behind
    }
  });

  it("refuse(host) refuses every port of the host and allow(host) undoes it, failing as Node does: ECONNREFUSED host:port from connect", async () => {
    const network = new MemoryNetwork({ latency: 1 });
    network.addHost("db");
    await runVirtual(function* () {
      const one = yield* listen(network, "db", 1);
      const two = yield* listen(network, "db", 2);
      network.refuse("db");
      const first = yield* refusal(startConnect(network, "localhost", "db", 1));
      expect(first).toMatchObject({ code: "ECONNREFUSED", errno: -111, syscall: "connect", address: "db", port: 1 });
      expect(first.message).toBe("connect ECONNREFUSED db:1");
      expect(yield* refusal(startConnect(network, "localhost", "db", 2))).toMatchObject({ code: "ECONNREFUSED", port: 2 });
      expect(one.accepted.length + two.accepted.length).toBe(0);

      network.allow("db");
      const a = yield* startConnect(network, "localhost", "db", 1);
      const b = yield* startConnect(network, "localhost", "db", 2);
      for (const peer of [a, b, ...one.accepted, ...two.accepted]) peer.transport!.abort();
      one.close();
      two.close();
    });
    expect(network.openConnections).toBe(0);
  });

  it("reset(host, port) resets only that port's connections, reset(host) every port of that host, and other hosts' connections go on", async () => {
    const network = new MemoryNetwork();
    for (const name of ["db", "cache"]) network.addHost(name);
    await runVirtual(function* () {
      const db1 = yield* listen(network, "db", 1);
      const db2 = yield* listen(network, "db", 2);
      const cache1 = yield* listen(network, "cache", 1);
      const toDb1 = yield* startConnect(network, "localhost", "db", 1);
      const toDb2 = yield* startConnect(network, "localhost", "db", 2);
      const toCache1 = yield* startConnect(network, "localhost", "cache", 1);

      expect(network.reset("db", 1)).toBe(1); // the server end on db:1 (its client end is on localhost)
      yield* toDb1.until(() => toDb1.lostWith !== undefined);
      expect((toDb1.lostWith as { code?: string }).code).toBe("ECONNRESET");
      expect(toDb2.lostWith).toBeUndefined();

      expect(network.reset("db")).toBe(1);
      yield* toDb2.until(() => toDb2.lostWith !== undefined);
      expect((toDb2.lostWith as { code?: string }).code).toBe("ECONNRESET");

      // cache:1 shares a port number with db:1 and is untouched.
      toCache1.transport!.write(Buffer.from("still here"));
      const peer = cache1.accepted[0]!;
      yield* peer.until(() => peer.received === "still here");
      expect(toCache1.lostWith).toBeUndefined();
      toCache1.transport!.abort();
      peer.transport!.abort();
      for (const server of [db1, db2, cache1]) server.close();
    });
    expect(network.openConnections).toBe(0);
  });
});

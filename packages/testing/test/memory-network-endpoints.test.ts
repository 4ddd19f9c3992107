import { Buffer } from "node:buffer";
import {
  getRunningLoop,
  type BaseTransport,
  type ConnectOptions,
  type Coroutine,
  type DatagramOptions,
  type DatagramTransport,
  type Future,
  type ListenOptions,
  type NetDriver,
  type Protocol,
  type ServerHandle,
  type Transport,
} from "@loop/core";
import { describe, expect, it } from "vitest";
import { MemoryNetwork, runVirtual } from "../src/index.js";

// Where listeners, connections and datagram endpoints end up (hosts, ports, paths, TLS),
// how their failures look, and what a cancelled or failed connect leaves behind.

class Peer implements Protocol {
  transport: Transport | null = null;
  lostWith: Error | null | undefined = undefined;
  eof = false;
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
  dataReceived(): void {
    this._note();
  }
  eofReceived(): boolean {
    this.eof = true;
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

function* listen(driver: NetDriver, options: ListenOptions): Coroutine<{ handle: ServerHandle; accepted: Peer[] }> {
  const accepted: Peer[] = [];
  const handle = yield* driver.listen(
    getRunningLoop(),
    () => {
      const peer = new Peer();
      accepted.push(peer);
      return peer;
    },
    options,
  );
  return { handle, accepted };
}

function* connect(driver: NetDriver, options: ConnectOptions): Coroutine<Peer> {
  const client = new Peer();
  yield* driver.connect(getRunningLoop(), () => client, options);
  return client;
}

function* failure(body: Coroutine<unknown> | Future<unknown>): Coroutine<Error & Record<string, unknown>> {
  try {
    yield* body;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error("expected a failure");
}

function* sleep(ms: number): Coroutine<void> {
  const timer = getRunningLoop().createFuture<void>();
  getRunningLoop().callLater(ms, () => timer.setResult());
  yield* timer;
}

function* datagram(network: MemoryNetwork, options: DatagramOptions, received: string[] = []): Coroutine<DatagramTransport> {
  return yield* network.datagram(getRunningLoop(), () => ({ datagramReceived: (data) => void received.push(Buffer.from(data).toString()) }), options);
}

describe("MemoryNetwork listeners", () => {
  it("a listener without a host, or on a wildcard host, listens on the host whose view opened it", async () => {
    const network = new MemoryNetwork();
    await runVirtual(function* () {
      const web = network.host("web");
      for (const [i, host] of [undefined, "", "0.0.0.0", "::"].entries()) {
        const port = 80 + i;
        const server = yield* listen(web, host === undefined ? { port } : { host, port });
        expect(server.handle.address()).toEqual({ address: "web", family: "memory", port });
        const client = yield* connect(network, { host: "web", port });
        yield* server.accepted[0]!.until(() => server.accepted[0]!.transport !== null);
        client.transport!.abort();
        server.accepted[0]!.transport!.abort();
        server.handle.close();
      }
    });
    expect(network.openConnections).toBe(0);
    expect(network.openListeners).toBe(0);
  });

  it("a closed listener has no address, and closing it again leaves alone the listener that took its port since", async () => {
    const network = new MemoryNetwork();
    await runVirtual(function* () {
      const old = yield* listen(network, { host: "localhost", port: 8080 });
      old.handle.close();
      expect(old.handle.address()).toBeNull();
      expect(network.openListeners).toBe(0);
      const next = yield* listen(network, { host: "localhost", port: 8080 });
      old.handle.close();
      expect(network.openListeners).toBe(1);
      const client = yield* connect(network, { host: "localhost", port: 8080 });
      expect(next.accepted.length).toBe(1);
      client.transport!.abort();
      next.accepted[0]!.transport!.abort();
      next.handle.close();
    });
    expect(network.openConnections).toBe(0);
  });

  it("port 0 takes the next free ephemeral port, skipping ports already taken", async () => {
    const network = new MemoryNetwork();
    await runVirtual(function* () {
      const first = yield* listen(network, { host: "localhost", port: 0 });
      const taken = yield* listen(network, { host: "localhost", port: 49153 });
      const second = yield* listen(network, { host: "localhost" });
      expect(first.handle.address()).toMatchObject({ port: 49152 });
      expect(second.handle.address()).toMatchObject({ port: 49154 });
      for (const server of [taken, first, second]) server.handle.close();
    });
  });

  it("a taken port or path fails with EADDRINUSE from listen, naming host:port, or the path alone", async () => {
    const network = new MemoryNetwork();
    network.addHost("db");
    await runVirtual(function* () {
      const tcp = yield* listen(network, { host: "db", port: 5432 });
      const busy = yield* failure(listen(network, { host: "db", port: 5432 }));
      expect(busy).toMatchObject({ code: "EADDRINUSE", errno: -98, syscall: "listen", address: "db", port: 5432 });
      expect(busy.message).toBe("listen EADDRINUSE db:5432");
      const unix = yield* listen(network, { path: "/run/app.sock" });
      const busyPath = yield* failure(listen(network, { path: "/run/app.sock" }));
      expect(busyPath).toMatchObject({ code: "EADDRINUSE", syscall: "listen", address: "/run/app.sock" });
      expect(busyPath.message).toBe("listen EADDRINUSE /run/app.sock");
      tcp.handle.close();
      unix.handle.close();
    });
  });
});

describe("MemoryNetwork connections", () => {
  it("a connection without a host goes to localhost, which resolves whatever the network's own host is called", async () => {
    const network = new MemoryNetwork({ localHost: "box" });
    await runVirtual(function* () {
      expect(yield* failure(connect(network, { port: 25 }))).toMatchObject({ code: "ECONNREFUSED", address: "localhost" });
      const server = yield* listen(network.host("localhost"), { port: 25 });
      const client = yield* connect(network, { port: 25 });
      expect(client.transport!.getExtraInfo("peername")).toEqual({ address: "localhost", family: "memory", port: 25 });
      client.transport!.abort();
      server.accepted[0]!.transport!.abort();
      server.handle.close();
    });
    expect(network.openConnections).toBe(0);
  });

  it("over a Unix path, the client's peername is the path and the server end's is empty, as in Node; a refused path fails with ECONNREFUSED, a missing one with ENOENT", async () => {
    const network = new MemoryNetwork();
    await runVirtual(function* () {
      const server = yield* listen(network, { path: "/run/app.sock" });
      expect(server.handle.address()).toBe("/run/app.sock");
      const client = yield* connect(network, { path: "/run/app.sock" });
      const peer = server.accepted[0]!;
      expect(client.transport!.getExtraInfo("peername")).toBe("/run/app.sock");
      expect(peer.transport!.getExtraInfo("peername")).toBe("");
      expect(peer.transport!.getExtraInfo("sslcontext")).toBeUndefined();
      client.transport!.abort();
      peer.transport!.abort();
      network.refuse("/run/app.sock");
      const refused = yield* failure(connect(network, { path: "/run/app.sock" }));
      expect(refused).toMatchObject({ code: "ECONNREFUSED", errno: -111, syscall: "connect", address: "/run/app.sock", path: "/run/app.sock" });
      expect(server.accepted.length).toBe(1);
      network.allow("/run/app.sock");
      const again = yield* connect(network, { path: "/run/app.sock" });
      again.transport!.abort();
      server.accepted[1]!.transport!.abort();
      server.handle.close();
      const missing = yield* failure(connect(network, { path: "/run/app.sock" }));
      expect(missing).toMatchObject({ code: "ENOENT", errno: -2, syscall: "connect", address: "/run/app.sock", path: "/run/app.sock" });
    });
    expect(network.openConnections).toBe(0);
  });

  it("a connection is TLS at both ends when the listener has TLS options or the client asks for tls, and plain with tls: false", async () => {
    const network = new MemoryNetwork();
    await runVirtual(function* () {
      const secure = yield* listen(network, { host: "localhost", port: 443, tls: {} });
      const plain = yield* listen(network, { host: "localhost", port: 80 });
      const cases: [Peer, Peer, boolean][] = [];
      cases.push([yield* connect(network, { host: "localhost", port: 443 }), secure.accepted[0]!, true]);
      cases.push([yield* connect(network, { host: "localhost", port: 80, tls: true }), plain.accepted[0]!, true]);
      cases.push([yield* connect(network, { host: "localhost", port: 80, tls: {} }), plain.accepted[1]!, true]);
      cases.push([yield* connect(network, { host: "localhost", port: 80, tls: false }), plain.accepted[2]!, false]);
      for (const [client, server, tls] of cases) {
        for (const end of [client, server]) {
          expect(end.transport!.getExtraInfo("sslcontext")).toBe(tls ? "memory-tls" : undefined);
          expect(end.transport!.canWriteEof()).toBe(!tls);
          end.transport!.abort();
        }
      }
      secure.handle.close();
      plain.handle.close();
    });
    expect(network.openConnections).toBe(0);
  });

  it("startTls, from any host's view, turns a connection end into TLS; a transport of another network is a TypeError", async () => {
    const network = new MemoryNetwork();
    await runVirtual(function* () {
      const loop = getRunningLoop();
      const server = yield* listen(network, { host: "localhost", port: 25 });
      const client = yield* connect(network.host("mail"), { host: "localhost", port: 25 });
      const upgraded = yield* network.host("mail").startTls!(loop, client.transport!, client, { serverSide: false });
      expect(upgraded).toBe(client.transport);
      expect(upgraded.getExtraInfo("sslcontext")).toBe("memory-tls");
      const stranger = { getExtraInfo: () => undefined } as unknown as Transport;
      const refused = yield* failure(network.startTls(loop, stranger, client, { serverSide: false }));
      expect(refused).toBeInstanceOf(TypeError);
      expect(refused.message).toBe("MemoryNetwork.startTls: the transport is not one of this network's");
      client.transport!.abort();
      server.accepted[0]!.transport!.abort();
      server.handle.close();
    });
    expect(network.openConnections).toBe(0);
  });

  it("a client protocol factory that throws fails the connect with its error, and the server end sees the connection go", async () => {
    const network = new MemoryNetwork({ latency: 1 });
    await runVirtual(function* () {
      const server = yield* listen(network, { host: "localhost", port: 7 });
      const boom = new Error("no protocol today");
      const failed = yield* failure(
        network.connect(
          getRunningLoop(),
          () => {
            throw boom;
          },
          { host: "localhost", port: 7 },
        ),
      );
      expect(failed).toBe(boom);
      const peer = server.accepted[0]!;
      yield* peer.until(() => peer.lostWith !== undefined || peer.eof);
      peer.transport!.abort();
      server.handle.close();
    });
    expect(network.openConnections).toBe(0);
  });

  it("a connect cancelled before its SYN arrives never reaches the listener", async () => {
    const network = new MemoryNetwork({ latency: 10 });
    await runVirtual(function* () {
      const server = yield* listen(network, { host: "localhost", port: 1 });
      const pending = network.connect(getRunningLoop(), () => new Peer(), { host: "localhost", port: 1 });
      yield* sleep(5);
      pending.cancel();
      yield* sleep(50);
      expect(server.accepted).toEqual([]);
      server.handle.close();
    });
    expect(network.openConnections).toBe(0);
  });

  it("a connect cancelled while its refusal or name lookup is on the way ends quietly: nothing reaches the loop's exception handler", async () => {
    const network = new MemoryNetwork({ latency: 10 });
    const reported: unknown[] = [];
    await runVirtual(function* () {
      const loop = getRunningLoop();
      loop.setExceptionHandler((_loop, context) => void reported.push(context.exception ?? context.message));
      const refused = network.connect(loop, () => new Peer(), { host: "localhost", port: 9 });
      yield* sleep(15); // the SYN was refused; the RST is on its way back
      refused.cancel();
      const unknown = network.connect(loop, () => new Peer(), { host: "nowhere", port: 9 });
      unknown.cancel();
      yield* sleep(50);
      expect([refused.cancelled(), unknown.cancelled()]).toEqual([true, true]);
    });
    expect(reported).toEqual([]);
  });
});

describe("MemoryNetwork datagram endpoints", () => {
  it("port 0 binds the next free ephemeral UDP port, skipping ports already bound", async () => {
    const network = new MemoryNetwork();
    await runVirtual(function* () {
      const first = yield* datagram(network, {});
      const taken = yield* datagram(network, { localAddr: ["localhost", 49153] });
      const second = yield* datagram(network, { localAddr: ["0.0.0.0", 0] });
      expect(first.getExtraInfo("sockname")).toEqual(["localhost", 49152]);
      expect(second.getExtraInfo("sockname")).toEqual(["localhost", 49154]);
      for (const endpoint of [taken, first, second]) endpoint.close();
    });
    expect(network.openDatagramEndpoints).toBe(0);
  });

  it("a bound UDP port fails with EADDRINUSE from bind unless reusePort is set; the last bound endpoint receives, the one before it once that closes", async () => {
    const network = new MemoryNetwork();
    await runVirtual(function* () {
      const a = yield* datagram(network, { localAddr: ["localhost", 5000] });
      const busy = yield* failure(datagram(network, { localAddr: ["localhost", 5000] }));
      expect(busy).toMatchObject({ code: "EADDRINUSE", errno: -98, syscall: "bind", address: "localhost", port: 5000 });
      expect(busy.message).toBe("bind EADDRINUSE localhost:5000");
      a.close();
      const again = yield* datagram(network, { localAddr: ["localhost", 5000] }); // the port is free once closed
      again.close();

      const gotFirst: string[] = [];
      const gotSecond: string[] = [];
      const first = yield* datagram(network, { localAddr: ["localhost", 6000], reusePort: true }, gotFirst);
      const second = yield* datagram(network, { localAddr: ["localhost", 6000], reusePort: true }, gotSecond);
      const sender = yield* datagram(network, {});
      expect(network.openDatagramEndpoints).toBe(3);
      sender.sendto(Buffer.from("one"), ["localhost", 6000]);
      yield* sleep(1);
      second.close();
      expect(network.openDatagramEndpoints).toBe(2);
      sender.sendto(Buffer.from("two"), ["localhost", 6000]);
      yield* sleep(1);
      expect([gotFirst, gotSecond]).toEqual([["two"], ["one"]]);
      first.close();
      sender.close();
      expect(network.openDatagramEndpoints).toBe(0);
      const rebound = yield* datagram(network, { localAddr: ["localhost", 6000] });
      rebound.close();
    });
    expect(network.openDatagramEndpoints).toBe(0);
  });
});

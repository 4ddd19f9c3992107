import { getRunningLoop, type Coroutine, type DatagramAddress, type DatagramOptions, type DatagramProtocol, type DatagramTransport } from "@loop/core";
import { describe, expect, it } from "vitest";
import { MemoryNetwork, runVirtual } from "../src/index.js";
import { MAX_DATAGRAM } from "../src/memory-datagram.js";

type SystemError = Error & { code?: string; errno?: number; syscall?: string; address?: string; port?: number; hostname?: string };

/** A datagram protocol that logs what it hears, with the loop time. */
class Log implements DatagramProtocol {
  readonly events: string[] = [];
  readonly errors: SystemError[] = [];
  transport: DatagramTransport | null = null;

  connectionMade(transport: DatagramTransport): void {
    this.transport = transport;
  }
  datagramReceived(data: Uint8Array, addr: DatagramAddress): void {
    this.events.push(`${getRunningLoop().time()}ms ${new TextDecoder().decode(data)} from ${addr[0]}:${addr[1]}`);
  }
  errorReceived(error: Error): void {
    this.errors.push(error);
    this.events.push(`${getRunningLoop().time()}ms error ${(error as SystemError).code}`);
  }
  connectionLost(error: Error | null): void {
    this.events.push(`${getRunningLoop().time()}ms lost ${String(error)}`);
  }
}

function* open(network: MemoryNetwork, options: DatagramOptions, protocol: DatagramProtocol = new Log(), host?: string): Coroutine<DatagramTransport> {
  const driver = host === undefined ? network : network.host(host);
  return yield* driver.datagram!(getRunningLoop(), () => protocol, options);
}

/** Errors the loop's exception handler saw (a protocol method that is not there, called anyway). */
function watchLoopErrors(): unknown[] {
  const seen: unknown[] = [];
  getRunningLoop().setExceptionHandler((_loop, context) => void seen.push(context.exception ?? context.message));
  return seen;
}

const bytes = (text: string) => new TextEncoder().encode(text);

/** Waits `ms` of (virtual) loop time; 0 lets the callbacks already scheduled run. */
function* sleep(ms: number): Coroutine<void> {
  const loop = getRunningLoop();
  const done = loop.createFuture<void>();
  loop.callLater(ms, () => done.setResult(undefined));
  yield* done;
}

describe("MemoryDatagramTransport", () => {
  it("sendto rejects bad arguments at the call: TypeError for data that is not bytes or an address that is not [host, port], RangeError for another address on a connected endpoint", async () => {
    const network = new MemoryNetwork();
    network.addHost("b");
    await runVirtual(function* () {
      const free = yield* open(network, {});
      expect(() => free.sendto("text" as unknown as Uint8Array, ["b", 9])).toThrow(new TypeError("DatagramTransport.sendto(data, addr): data must be a Uint8Array, got string"));
      const noAddr = "DatagramTransport.sendto(data, addr): addr must be [host, port]; this endpoint has no remoteAddr to send to by default";
      expect(() => free.sendto(bytes("x"))).toThrow(new TypeError(noAddr));
      expect(() => free.sendto(bytes("x"), [9, 9] as unknown as DatagramAddress)).toThrow(new TypeError(noAddr));
      expect(() => free.sendto(bytes("x"), ["b", "9"] as unknown as DatagramAddress)).toThrow(new TypeError(noAddr));

      const receiver = new Log();
      const server = yield* open(network, { localAddr: ["b", 9] }, receiver, "b");
      const connected = yield* open(network, { remoteAddr: ["b", 9] });
      const elsewhere = "DatagramTransport.sendto(data, addr): this endpoint is connected to b:9; omit addr or pass that address";
      expect(() => connected.sendto(bytes("x"), ["c", 9])).toThrow(new RangeError(elsewhere));
      expect(() => connected.sendto(bytes("x"), ["b", 10])).toThrow(new RangeError(elsewhere));
      expect(() => connected.sendto(bytes("x"), ["localhost", 9])).toThrow(RangeError);
      connected.sendto(bytes("to its peer"), ["b", 9]);
      connected.sendto(bytes("by default"));
      yield* sleep(0);
      const from = connected.getExtraInfo<DatagramAddress>("sockname")!;
      expect(receiver.events).toEqual([`0ms to its peer from ${from[0]}:${from[1]}`, `0ms by default from ${from[0]}:${from[1]}`]);
      for (const endpoint of [free, server, connected]) endpoint.close();
    });
    expect(network.openDatagramEndpoints).toBe(0);
  });

  it("copies the datagram at sendto: the sender may reuse its array", async () => {
    const network = new MemoryNetwork({ latency: 5 });
    await runVirtual(function* () {
      const receiver = new Log();
      const server = yield* open(network, { localAddr: ["localhost", 7] }, receiver);
      const client = yield* open(network, {});
      const buffer = bytes("first");
      client.sendto(buffer, ["localhost", 7]);
      buffer.set(bytes("XXXXX"));
      yield* sleep(5);
      expect(receiver.events).toEqual([expect.stringContaining("5ms first from localhost:")]);
      server.close();
      client.close();
    });
  });

  it("a datagram of exactly the largest size is sent; one byte more reports EMSGSIZE to errorReceived, from a loop callback, unless the endpoint closes first", async () => {
    const network = new MemoryNetwork();
    network.addHost("b");
    await runVirtual(function* () {
      const receiver = new Log();
      const server = yield* open(network, { localAddr: ["b", 9] }, receiver, "b");
      const log = new Log();
      const client = yield* open(network, {}, log);
      client.sendto(new Uint8Array(MAX_DATAGRAM), ["b", 9]);
      client.sendto(new Uint8Array(MAX_DATAGRAM + 1), ["b", 9]);
      expect(log.errors).toEqual([]); // not from inside sendto
      yield* sleep(0);
      expect(receiver.events).toHaveLength(1);
      expect(log.errors).toHaveLength(1);
      const error = log.errors[0]!;
      expect(error.message).toBe("send EMSGSIZE b:9");
      expect(error).toMatchObject({ code: "EMSGSIZE", errno: -90, syscall: "send", address: "b", port: 9 });

      // Closed in the same turn: the report is dropped, as the protocol is gone.
      client.sendto(new Uint8Array(MAX_DATAGRAM + 1), ["b", 9]);
      client.close();
      yield* sleep(0);
      expect(log.errors).toHaveLength(1);
      server.close();
    });
  });

  it("a datagram to a host the network does not know reports ENOTFOUND and is not counted as sent", async () => {
    const network = new MemoryNetwork();
    await runVirtual(function* () {
      const log = new Log();
      const client = yield* open(network, {}, log);
      client.sendto(bytes("x"), ["nowhere", 9]);
      yield* sleep(0);
      expect(log.errors).toHaveLength(1);
      expect(log.errors[0]!.message).toBe("getaddrinfo ENOTFOUND nowhere");
      expect(log.errors[0]).toMatchObject({ code: "ENOTFOUND", errno: -3008, syscall: "getaddrinfo", hostname: "nowhere" });
      expect(network.datagramStats).toEqual({ sent: 0, delivered: 0 });
      client.close();
    });
  });

  it("ECONNREFUSED reaches a connected sender one latency after its datagram found nobody; an unconnected sender hears nothing; a sender closed meanwhile hears nothing", async () => {
    const network = new MemoryNetwork({ latency: 10 });
    network.addHost("b");
    await runVirtual(function* () {
      const log = new Log();
      const connected = yield* open(network, { remoteAddr: ["b", 9] }, log);
      const freeLog = new Log();
      const free = yield* open(network, {}, freeLog);
      connected.sendto(bytes("anyone?"));
      free.sendto(bytes("anyone?"), ["b", 9]);
      yield* sleep(100);
      expect(log.events).toEqual(["20ms error ECONNREFUSED"]);
      expect(log.errors[0]!.message).toBe("recvmsg ECONNREFUSED b:9");
      expect(log.errors[0]).toMatchObject({ code: "ECONNREFUSED", errno: -111, syscall: "recvmsg", address: "b", port: 9 });
      expect(freeLog.events).toEqual([]);

      // Closed after the datagram arrived but before the refusal comes back.
      connected.sendto(bytes("again"));
      yield* sleep(15);
      connected.close();
      // Closed before the datagram even arrived.
      const log2 = new Log();
      const other = yield* open(network, { remoteAddr: ["b", 9] }, log2);
      other.sendto(bytes("x"));
      other.close();
      yield* sleep(100);
      expect(log.errors).toHaveLength(1);
      expect(log2.errors).toHaveLength(0);
      free.close();
    });
  });

  it("a protocol without errorReceived or connectionLost is not called for them", async () => {
    const network = new MemoryNetwork({ latency: 1 });
    network.addHost("b");
    await runVirtual(function* () {
      const seen = watchLoopErrors();
      const bare: DatagramProtocol = { datagramReceived() {} };
      const connected = yield* open(network, { remoteAddr: ["b", 9] }, bare);
      connected.sendto(bytes("nobody there")); // ECONNREFUSED
      connected.sendto(new Uint8Array(MAX_DATAGRAM + 1)); // EMSGSIZE
      yield* sleep(10);
      connected.close();
      yield* sleep(0);
      expect(seen).toEqual([]);
    });
  });

  it("a connected endpoint hears its peer only: not another port on the peer's host, nor the peer's port on another host", async () => {
    const network = new MemoryNetwork();
    network.addHost("b").addHost("c");
    await runVirtual(function* () {
      const log = new Log();
      const a = yield* open(network, { localAddr: ["localhost", 5], remoteAddr: ["b", 9] }, log);
      const peer = yield* open(network, { localAddr: ["b", 9] }, new Log(), "b");
      const samePortOtherHost = yield* open(network, { localAddr: ["c", 9] }, new Log(), "c");
      const sameHostOtherPort = yield* open(network, { localAddr: ["b", 10] }, new Log(), "b");
      samePortOtherHost.sendto(bytes("from c:9"), ["localhost", 5]);
      sameHostOtherPort.sendto(bytes("from b:10"), ["localhost", 5]);
      peer.sendto(bytes("from b:9"), ["localhost", 5]);
      yield* sleep(0);
      expect(log.events).toEqual(["0ms from b:9 from b:9"]);
      expect(network.datagramStats).toEqual({ sent: 3, delivered: 1 });
      for (const endpoint of [a, peer, samePortOtherHost, sameHostOtherPort]) endpoint.close();
    });
  });

  it("reports its addresses, an always-empty write buffer and the limits it is given", async () => {
    const network = new MemoryNetwork();
    network.addHost("b");
    await runVirtual(function* () {
      const free = yield* open(network, { localAddr: ["localhost", 5] });
      const connected = yield* open(network, { localAddr: ["localhost", 6], remoteAddr: ["b", 9] });
      expect(free.getExtraInfo("sockname")).toEqual(["localhost", 5]);
      expect(free.getExtraInfo("peername", "none")).toBe("none");
      expect(connected.getExtraInfo("peername")).toEqual(["b", 9]);
      expect(connected.getExtraInfo("sockname")).toEqual(["localhost", 6]);
      expect(connected.getExtraInfo("socket", "fallback")).toBe("fallback");
      expect(free.getWriteBufferSize()).toBe(0);
      expect(free.getWriteBufferLimits()).toEqual({ low: 16 * 1024, high: 64 * 1024 });
      free.setWriteBufferLimits(1000);
      expect(free.getWriteBufferLimits()).toEqual({ low: 250, high: 1000 });
      free.setWriteBufferLimits(undefined, 100);
      expect(free.getWriteBufferLimits()).toEqual({ low: 100, high: 400 });
      free.setWriteBufferLimits(100, 100);
      expect(free.getWriteBufferLimits()).toEqual({ low: 100, high: 100 });
      free.setWriteBufferLimits(0, 0);
      expect(free.getWriteBufferLimits()).toEqual({ low: 0, high: 0 });
      free.setWriteBufferLimits();
      expect(free.getWriteBufferLimits()).toEqual({ low: 16 * 1024, high: 64 * 1024 });
      expect(() => free.setWriteBufferLimits(10, 20)).toThrow(new RangeError("setWriteBufferLimits(high, low): need high (10) >= low (20) >= 0"));
      expect(() => free.setWriteBufferLimits(10, -1)).toThrow(RangeError);
      expect(free.getWriteBufferLimits()).toEqual({ low: 16 * 1024, high: 64 * 1024 });
      free.close();
      connected.close();
    });
  });

  it("close() and abort() close once: sendto throws after, connectionLost(null) comes once from a loop callback", async () => {
    const network = new MemoryNetwork();
    await runVirtual(function* () {
      const log = new Log();
      const endpoint = yield* open(network, {}, log);
      expect(endpoint.isClosing()).toBe(false);
      endpoint.abort();
      expect(endpoint.isClosing()).toBe(true);
      expect(log.events).toEqual([]);
      endpoint.close();
      endpoint.abort();
      expect(() => endpoint.sendto(bytes("x"), ["localhost", 1])).toThrow(Error);
      yield* sleep(0);
      yield* sleep(0);
      expect(log.events).toEqual(["0ms lost null"]);
      expect(network.openDatagramEndpoints).toBe(0);
    });
  });

  it("setProtocol() sends later datagrams to the new protocol", async () => {
    const network = new MemoryNetwork();
    await runVirtual(function* () {
      const first = new Log();
      const second = new Log();
      const server = yield* open(network, { localAddr: ["localhost", 7] }, first);
      const client = yield* open(network, { localAddr: ["localhost", 8] });
      client.sendto(bytes("one"), ["localhost", 7]);
      yield* sleep(0);
      server.setProtocol(second);
      expect(server.getProtocol()).toBe(second);
      client.sendto(bytes("two"), ["localhost", 7]);
      yield* sleep(0);
      expect(first.events).toEqual(["0ms one from localhost:8"]);
      expect(second.events).toEqual(["0ms two from localhost:8"]);
      server.close();
      client.close();
    });
  });

  it("opening: ENOTFOUND for an unknown remote host; a protocol factory that throws, or a cancelled open, leaves no endpoint bound", async () => {
    const network = new MemoryNetwork();
    await runVirtual(function* () {
      const loop = getRunningLoop();
      let error: SystemError | undefined;
      try {
        yield* open(network, { remoteAddr: ["nowhere", 53] });
      } catch (caught) {
        error = caught as SystemError;
      }
      expect(error?.message).toBe("getaddrinfo ENOTFOUND nowhere");
      expect(error).toMatchObject({ code: "ENOTFOUND", syscall: "getaddrinfo", hostname: "nowhere", address: "nowhere", port: 53 });

      const boom = new Error("factory failed");
      const failing = network.datagram(loop, () => {
        throw boom;
      }, { localAddr: ["localhost", 7] });
      expect(network.openDatagramEndpoints).toBe(1); // bound at once
      let failed: unknown;
      try {
        yield* failing;
      } catch (caught) {
        failed = caught;
      }
      expect(failed).toBe(boom);
      expect(network.openDatagramEndpoints).toBe(0);

      let made = 0;
      const cancelled = network.datagram(loop, () => {
        made++;
        return new Log();
      }, { localAddr: ["localhost", 7] });
      cancelled.cancel();
      yield* sleep(0);
      expect(made).toBe(0);
      expect(network.openDatagramEndpoints).toBe(0);
    });
  });
});

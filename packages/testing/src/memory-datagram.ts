import type { DatagramAddress, DatagramOptions, DatagramProtocol, DatagramTransport, EventLoop, Future } from "@loop/core";
import { systemError, type Endpoint } from "./memory-network-transport.js";

/** What happens to datagrams on the in-memory network; every draw comes from one seeded generator. */
export interface DatagramConditions {
  /** Probability (0 to 1) that a datagram is lost; 0 by default. */
  loss?: number;
  /** Probability that a datagram arrives twice; 0 by default. */
  duplicate?: number;
  /** Probability that a datagram is held back by up to `reorderWindow` ms, so that later ones overtake it; 0 by default. */
  reorder?: number;
  /** The longest hold-back of a reordered datagram, in ms; 10 by default. */
  reorderWindow?: number;
  /** Extra delay of every datagram on top of the link's latency, in ms; 0 by default. */
  delay?: number;
  /** Seed of the draws: the same seed (and the same traffic) loses, duplicates and reorders the same datagrams; 1 by default. */
  seed?: number;
}

/** The largest UDP payload over IPv4, as the in-memory network enforces it (EMSGSIZE beyond). */
export const MAX_DATAGRAM = 65_507;

/** What `MemoryNetwork` gives its datagram endpoints. */
export interface DatagramFabric {
  link(from: string, to: string): { latency: number };
  partitioned(a: string, b: string): boolean;
  /** The fate of one datagram: how many copies arrive (0, 1 or 2) and the extra delay of each. */
  fate(): number[];
  endpointAt(to: Endpoint): MemoryDatagramTransport | undefined;
  resolves(host: string): boolean;
  endpointClosed(endpoint: MemoryDatagramTransport): void;
  count(what: "sent" | "delivered"): void;
}

// Stryker disable next-line ObjectLiteral: never called: the bind's callSoon starts the real protocol before any delivery timer can run, and connectionLost is optional.
const NO_PROTOCOL: DatagramProtocol = { datagramReceived() {} };

/**
 * A datagram endpoint on the in-memory network. Each datagram is copied at `sendto` and
 * delivered by a loop timer after the link's latency (plus the network's delay and any
 * reordering hold-back), unless the seeded draw loses it or a partition cuts the link;
 * nothing ever blocks, so the write buffer is always empty.
 *
 * Invariant: `_closing` is set once and never cleared; after it, `sendto` throws, nothing
 * is delivered to the protocol, and `connectionLost(null)` follows exactly once.
 */
export class MemoryDatagramTransport implements DatagramTransport {
  private _protocol: DatagramProtocol = NO_PROTOCOL;
  private _closing = false;
  private _high = 64 * 1024;
  private _low = 16 * 1024;

  constructor(
    /** @internal */ readonly _loop: EventLoop,
    /** @internal */ readonly _fabric: DatagramFabric,
    readonly local: Endpoint,
    readonly peer: Endpoint | null,
  ) {}

  start(protocol: DatagramProtocol): void {
    this._protocol = protocol;
    protocol.connectionMade?.(this);
  }

  sendto(data: Uint8Array, addr?: DatagramAddress): void {
    if (this._closing) throw new Error("DatagramTransport.sendto: the transport is closed; open a new endpoint to send more");
    if (!(data instanceof Uint8Array)) throw new TypeError(`DatagramTransport.sendto(data, addr): data must be a Uint8Array, got ${typeof data}`);
    let to: Endpoint;
    const peer = this.peer;
    if (peer !== null) {
      if (addr !== undefined && (addr[0] !== peer.host || addr[1] !== peer.port)) {
        throw new RangeError(`DatagramTransport.sendto(data, addr): this endpoint is connected to ${peer.host}:${peer.port}; omit addr or pass that address`);
      }
      to = peer;
    } else {
      if (!Array.isArray(addr) || typeof addr[0] !== "string" || typeof addr[1] !== "number") {
        throw new TypeError("DatagramTransport.sendto(data, addr): addr must be [host, port]; this endpoint has no remoteAddr to send to by default");
      }
      to = { host: addr[0], port: addr[1] };
    }
    if (data.byteLength > MAX_DATAGRAM) {
      this._report(systemError("EMSGSIZE", 90, "send", `${to.host}:${to.port}`, { address: to.host, port: to.port }));
      return;
    }
    if (!this._fabric.resolves(to.host)) {
      this._report(systemError("ENOTFOUND", 3008, "getaddrinfo", to.host, { hostname: to.host }));
      return;
    }
    this._fabric.count("sent");
    if (this._fabric.partitioned(this.local.host, to.host)) return;
    const latency = this._fabric.link(this.local.host, to.host).latency;
    for (const extra of this._fabric.fate()) {
      this._loop.callLater(latency + extra, deliver, this, to, data.slice(), latency);
    }
  }

  close(): void {
    if (this._closing) return;
    this._closing = true;
    this._fabric.endpointClosed(this);
    this._loop.callSoon(() => this._protocol.connectionLost?.(null));
  }

  abort(): void {
    this.close();
  }

  isClosing(): boolean {
    return this._closing;
  }

  getExtraInfo<T = unknown>(name: string, fallback?: T): T | undefined {
    let value: unknown;
    if (name === "sockname") value = [this.local.host, this.local.port];
    else if (name === "peername" && this.peer !== null) value = [this.peer.host, this.peer.port];
    return (value === undefined ? fallback : value) as T | undefined;
  }

  getWriteBufferSize(): number {
    return 0;
  }

  getWriteBufferLimits(): { low: number; high: number } {
    return { low: this._low, high: this._high };
  }

  setWriteBufferLimits(high?: number, low?: number): void {
    if (high === undefined) high = low === undefined ? 64 * 1024 : 4 * low;
    if (low === undefined) low = Math.floor(high / 4);
    if (!(high >= low && low >= 0)) throw new RangeError(`setWriteBufferLimits(high, low): need high (${high}) >= low (${low}) >= 0`);
    this._high = high;
    this._low = low;
  }

  getProtocol(): DatagramProtocol {
    return this._protocol;
  }

  setProtocol(protocol: DatagramProtocol): void {
    this._protocol = protocol;
  }

  /** @internal A datagram from `from` reached this endpoint. */
  _receive(data: Uint8Array, from: Endpoint): void {
    // Stryker disable next-line ConditionalExpression: the fabric forgets an endpoint in close(), so no delivery finds a closed one; this keeps the invariant local.
    if (this._closing) return;
    const peer = this.peer;
    // A connected endpoint hears its peer only, as a connected UDP socket does.
    if (peer !== null && (peer.host !== from.host || peer.port !== from.port)) return;
    this._fabric.count("delivered");
    this._protocol.datagramReceived(data, [from.host, from.port]);
  }

  /** @internal An error for the protocol, from a loop callback. */
  _report(error: Error): void {
    this._loop.callSoon(() => {
      if (!this._closing) this._protocol.errorReceived?.(error);
    });
  }
}

/** A datagram arrives (a loop timer). Nobody there: a connected sender hears ECONNREFUSED one latency later, as from an ICMP port unreachable. */
function deliver(sender: MemoryDatagramTransport, to: Endpoint, data: Uint8Array, latency: number): void {
  const endpoint = sender._fabric.endpointAt(to);
  if (endpoint !== undefined) {
    endpoint._receive(data, sender.local);
    return;
  }
  if (sender.peer !== null && !sender.isClosing()) {
    const error = systemError("ECONNREFUSED", 111, "recvmsg", `${to.host}:${to.port}`, { address: to.host, port: to.port });
    sender._loop.callLater(latency, () => {
      if (!sender.isClosing()) sender.getProtocol().errorReceived?.(error);
    });
  }
}

/** Opens an endpoint for `MemoryNetwork.datagram`; `bind` registers it, or fails with EADDRINUSE. */
export function openMemoryDatagram(
  loop: EventLoop,
  fabric: DatagramFabric,
  protocolFactory: () => DatagramProtocol,
  options: DatagramOptions,
  local: Endpoint,
  bind: (endpoint: MemoryDatagramTransport) => Error | null,
): Future<DatagramTransport> {
  const future = loop.createFuture<DatagramTransport>();
  const remote = options.remoteAddr;
  if (remote !== undefined && !fabric.resolves(remote[0])) {
    future.setException(systemError("ENOTFOUND", 3008, "getaddrinfo", remote[0], { hostname: remote[0], address: remote[0], port: remote[1] }));
    return future;
  }
  const endpoint = new MemoryDatagramTransport(loop, fabric, local, remote === undefined ? null : { host: remote[0], port: remote[1] });
  const error = bind(endpoint);
  if (error !== null) {
    future.setException(error);
    return future;
  }
  // Binding takes no time; the protocol hears of it from a loop callback, as with a real socket.
  loop.callSoon(() => {
    if (future.done()) {
      endpoint.close();
      return;
    }
    try {
      endpoint.start(protocolFactory());
    } catch (error) {
      endpoint.close();
      future.setException(error);
      return;
    }
    future.setResult(endpoint);
  });
  return future;
}

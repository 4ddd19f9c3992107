import type { BaseProtocol, EventLoop, Protocol, Transport } from "@loop/core";

/** The network a transport belongs to, as the transport sees it. */
export interface MemoryFabric {
  /** Latency (ms) and bandwidth (bytes/ms) from one host to another, now. */
  link(from: string, to: string): { latency: number; bandwidth: number };
  /** True while traffic between the two hosts is cut. */
  partitioned(a: string, b: string): boolean;
  /** Bytes a receiver holds unread before the sender must wait (the socket buffer). */
  readonly window: number;
  transportClosed(transport: MemoryTransport): void;
}

export interface Endpoint {
  host: string;
  port: number;
}

/** A Node-style system error: `code`, `errno`, `syscall`, and what it concerned. */
export function systemError(code: string, errno: number, syscall: string, message: string, extra: Record<string, unknown>): Error {
  return Object.assign(new Error(`${syscall} ${code} ${message}`.trim()), { code, errno: -errno, syscall, ...extra });
}

const DEFAULT_HIGH_WATER = 64 * 1024;

// Stryker disable ObjectLiteral,BlockStatement,BooleanLiteral: never called: every protocol call waits for start() (`_started`), which replaces it.
const NO_PROTOCOL: Protocol = {
  connectionMade() {},
  connectionLost() {},
  pauseWriting() {},
  resumeWriting() {},
  dataReceived() {},
  eofReceived() {
    return false;
  },
};
// Stryker restore ObjectLiteral,BlockStatement,BooleanLiteral

// What travels on a direction of a connection: bytes, or the FIN that ends it.
const FIN = null;
type Segment = Uint8Array | typeof FIN;

/**
 * One end of an in-memory connection. Each direction models a TCP connection closely
 * enough for flow control to be real: the sender's write buffer (what `drain()` waits
 * on) only empties as fast as the link's bandwidth and the receiver's window allow, and
 * the window only opens as the receiving protocol takes the bytes — so a receiver that
 * pauses reading pushes back on the writer, as a real socket does.
 *
 * Every protocol call happens in a loop callback (delivery timers, `callSoon`), never
 * from inside a transport method.
 */
export class MemoryTransport implements Transport {
  peer: MemoryTransport | null = null;
  readonly local: Endpoint;
  readonly remote: Endpoint;
  /** The name `getExtraInfo("peername")` gives: a path for Unix-style connections. */
  private readonly _unixPath: string | undefined;
  private readonly _loop: EventLoop;
  private readonly _fabric: MemoryFabric;
  /** A protocol that ignores everything until `start` gives the real one. */
  private _protocol: Protocol = NO_PROTOCOL;
  private _tls: boolean;

  // Sending side. Invariant: `_queue` holds what `write` accepted and the link has not
  // taken yet (`_queued` bytes): the write buffer. `_inFlight` counts bytes sent but not
  // yet taken by the peer's protocol, at most the window.
  private _queue: Uint8Array[] = [];
  private _queued = 0;
  private _inFlight = 0;
  private _linkFreeAt = 0;
  private _lastArrival = 0;
  private _eofQueued = false;
  private _finSent = false;
  private _high = DEFAULT_HIGH_WATER;
  private _low = DEFAULT_HIGH_WATER / 4;
  private _protocolPaused = false;

  // Receiving side.
  private _readingPaused = false;
  private _held: Segment[] = [];
  private _deliveryQueued = false;

  private _started = false;
  private _closing = false;
  private _lost = false;
  /** The loss that came before `start` (a reset during the handshake), for the protocol `start` gives. */
  private _lostBeforeStart: Error | null | undefined = undefined;

  constructor(loop: EventLoop, fabric: MemoryFabric, local: Endpoint, remote: Endpoint, opts: { unixPath?: string; tls?: boolean }) {
    this._loop = loop;
    this._fabric = fabric;
    this.local = local;
    this.remote = remote;
    this._unixPath = opts.unixPath;
    this._tls = opts.tls === true;
  }

  /** Attaches the protocol and tells it the connection is made (from a loop callback). */
  start(protocol: Protocol): void {
    this._protocol = protocol;
    this._started = true;
    protocol.connectionMade(this);
    if (this._lost) {
      // Reset before this end started: as asyncio does, the connection is made, then lost.
      if (this._lostBeforeStart !== undefined) this._loop.callSoon(connectionLost, this, this._lostBeforeStart);
      return;
    }
    // Bytes the peer sent before this end was started wait in `_held`.
    if (this._held.length > 0) this._scheduleHeldDelivery();
  }

  /** After startTls: this end now reports itself as TLS (no encryption happens in memory). */
  markTls(): void {
    this._tls = true;
  }

  // --- BaseTransport ------------------------------------------------------------------

  close(): void {
    // Stryker disable next-line ConditionalExpression: a second close() only pumps again, which sends nothing new
    if (this._closing) return;
    this._closing = true;
    this._held.length = 0;
    this._pump();
  }

  isClosing(): boolean {
    return this._closing;
  }

  getExtraInfo<T = unknown>(name: string, fallback?: T): T | undefined {
    let value: unknown;
    switch (name) {
      case "peername":
        value = this._unixPath ?? { address: this.remote.host, family: "memory", port: this.remote.port };
        break;
      case "sockname":
        value = this._unixPath ?? { address: this.local.host, family: "memory", port: this.local.port };
        break;
      case "sslcontext":
        value = this._tls ? "memory-tls" : undefined;
        break;
      case "socket":
        // No OS socket here: the transport itself, whose reset() a test may call.
        return this as unknown as T;
    }
    return (value === undefined ? fallback : value) as T | undefined;
  }

  setProtocol(protocol: BaseProtocol): void {
    this._protocol = protocol as Protocol;
  }

  getProtocol(): BaseProtocol {
    return this._protocol;
  }

  // --- ReadTransport ------------------------------------------------------------------

  isReading(): boolean {
    // As asyncio's is_reading(): a closing transport reads no more, however it closes.
    return !this._readingPaused && !this._closing;
  }

  // Pausing or resuming a closing transport changes nothing: it reads no more (isReading()),
  // drops what arrives, and delivers nothing it held (close() drops it, _deliverHeld stops once lost).
  pauseReading(): void {
    this._readingPaused = true;
  }

  resumeReading(): void {
    if (!this._readingPaused) return;
    this._readingPaused = false;
    if (this._held.length > 0) this._scheduleHeldDelivery();
  }

  // --- WriteTransport -----------------------------------------------------------------

  write(data: Uint8Array): void {
    if (this._eofQueued) throw new Error("Transport.write: cannot write after writeEof()");
    if (this._closing || this._lost || data.byteLength === 0) return;
    // A copy, as a kernel takes one: the caller may reuse its array.
    this._queue.push(data.slice());
    this._queued += data.byteLength;
    this._pump();
    if (!this._protocolPaused && this._queued > this._high) {
      this._protocolPaused = true;
      this._protocol.pauseWriting();
    }
  }

  writelines(list: Iterable<Uint8Array>): void {
    for (const data of list) this.write(data);
  }

  writeEof(): void {
    if (this._closing || this._eofQueued) return;
    if (this._tls) throw new Error("Transport.writeEof: TLS transports cannot half-close (canWriteEof() is false)");
    this._eofQueued = true;
    this._pump();
  }

  canWriteEof(): boolean {
    return !this._tls;
  }

  /** Closes at once, dropping the write buffer; the peer sees the end of the stream. */
  abort(): void {
    if (this._lost) return;
    this._closing = true;
    this._queue.length = 0;
    this._queued = 0;
    this._sendFin();
    this._loseSoon(null);
  }

  getWriteBufferSize(): number {
    return this._queued;
  }

  getWriteBufferLimits(): { low: number; high: number } {
    return { low: this._low, high: this._high };
  }

  setWriteBufferLimits(high?: number, low?: number): void {
    if (high === undefined) high = low === undefined ? DEFAULT_HIGH_WATER : 4 * low;
    if (low === undefined) low = Math.floor(high / 4);
    if (!(high >= low && low >= 0)) throw new RangeError(`setWriteBufferLimits(high, low): need high (${high}) >= low (${low}) >= 0`);
    this._high = high;
    this._low = low;
    if (!this._protocolPaused && this._queued > high) {
      this._protocolPaused = true;
      this._protocol.pauseWriting();
    } else {
      this._maybeResumeProtocol();
    }
  }

  // --- the network's side -------------------------------------------------------------

  /** A reset (RST): both the buffered bytes and the connection are gone, with ECONNRESET. */
  reset(): void {
    // Stryker disable next-line ConditionalExpression: a lost end has nothing buffered and its loss is already reported once
    if (this._lost) return;
    this._queue.length = 0;
    this._queued = 0;
    this._held.length = 0;
    this._closing = true;
    const error = systemError("ECONNRESET", 104, "read", "", { address: this.remote.host, port: this.remote.port });
    this._loseSoon(error);
  }

  /** @internal Sends what the window and the link allow; called whenever either may have opened. */
  _pump(): void {
    if (this._lost) return;
    // Stryker disable next-line ConditionalExpression: `peer` is set before either end starts; nothing pumps before that
    if (this.peer === null) return;
    const fabric = this._fabric;
    if (fabric.partitioned(this.local.host, this.remote.host)) return;
    const window = fabric.window;
    while (this._queued > 0 && this._inFlight < window) {
      let chunk = this._queue[0] as Uint8Array;
      const room = window - this._inFlight;
      if (chunk.byteLength > room) {
        this._queue[0] = chunk.subarray(room);
        chunk = chunk.subarray(0, room);
      } else {
        this._queue.shift();
      }
      this._queued -= chunk.byteLength;
      this._inFlight += chunk.byteLength;
      this._transmit(chunk);
    }
    if (this._queued === 0 && (this._eofQueued || this._closing)) this._sendFin();
    if (this._closing && this._queued === 0 && !this._lost) this._loseSoon(null);
    this._maybeResumeProtocol();
  }

  private _transmit(segment: Segment): void {
    const peer = this.peer as MemoryTransport;
    const { latency, bandwidth } = this._fabric.link(this.local.host, this.remote.host);
    const now = this._loop.time();
    const size = segment === FIN ? 0 : segment.byteLength;
    const sent = Math.max(now, this._linkFreeAt) + size / bandwidth; // 0 for an unlimited (Infinity) link
    this._linkFreeAt = sent;
    // Arrivals keep their order even if the latency drops between two segments.
    const arrival = Math.max(sent + latency, this._lastArrival);
    this._lastArrival = arrival;
    peer._loop.callLater(arrival - now, arrive, peer, segment);
  }

  private _sendFin(): void {
    if (this._finSent) return;
    // Stryker disable next-line ConditionalExpression: `peer` is set before either end starts; nothing pumps before that
    if (this.peer === null) return;
    this._finSent = true;
    this._transmit(FIN);
  }

  /** @internal A segment reaches this end. */
  _arrive(segment: Segment): void {
    if (this._lost) {
      // Bytes for a closed socket: the kernel answers with a reset.
      // Stryker disable next-line OptionalChaining: `peer` is set before either end starts
      if (segment !== FIN) this.peer?.reset();
      return;
    }
    if (this._closing) {
      if (segment !== FIN) this._ack(segment.byteLength);
      return;
    }
    if (!this._started || this._readingPaused || this._held.length > 0) {
      this._held.push(segment);
      return;
    }
    this._deliver(segment);
  }

  private _deliver(segment: Segment): void {
    const protocol = this._protocol;
    if (segment === FIN) {
      if (!protocol.eofReceived()) this.close();
      return;
    }
    protocol.dataReceived(segment);
    this._ack(segment.byteLength);
  }

  /** The protocol took `size` bytes: the sender's window opens by as much. */
  private _ack(size: number): void {
    const peer = this.peer;
    // Stryker disable next-line ConditionalExpression,LogicalOperator: `peer` is set before either end starts, and a lost peer's _pump() returns at once
    if (peer === null || peer._lost) return;
    peer._inFlight -= size;
    peer._pump();
  }

  private _scheduleHeldDelivery(): void {
    // Stryker disable next-line ConditionalExpression: a second delivery finds the held bytes delivered already, or reading paused again
    if (this._deliveryQueued) return;
    // Stryker disable next-line BooleanLiteral: a second delivery finds the held bytes delivered already, or reading paused again
    this._deliveryQueued = true;
    this._loop.callSoon(deliverHeld, this);
  }

  /** @internal */
  _deliverHeld(): void {
    this._deliveryQueued = false;
    while (this._held.length > 0 && !this._readingPaused && !this._lost && this._started) {
      this._deliver(this._held.shift() as Segment);
    }
  }

  private _maybeResumeProtocol(): void {
    if (this._protocolPaused && this._queued <= this._low) {
      this._protocolPaused = false;
      this._protocol.resumeWriting();
    }
  }

  private _loseSoon(error: Error | null): void {
    // Stryker disable next-line ConditionalExpression: every caller has checked _lost already
    if (this._lost) return;
    this._lost = true;
    this._loop.callSoon(connectionLost, this, error);
  }

  /** @internal */
  _connectionLost(error: Error | null): void {
    this._fabric.transportClosed(this);
    if (this._started) this._protocol.connectionLost(error);
    else this._lostBeforeStart = error;
  }
}

// Static functions for the loop's callbacks: scheduling one costs no closure.
function arrive(transport: MemoryTransport, segment: Segment): void {
  transport._arrive(segment);
}

function deliverHeld(transport: MemoryTransport): void {
  transport._deliverHeld();
}

function connectionLost(transport: MemoryTransport, error: Error | null): void {
  transport._connectionLost(error);
}

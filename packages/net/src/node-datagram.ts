import * as dgram from "node:dgram";
import type { DatagramAddress, DatagramOptions, DatagramProtocol, DatagramTransport, EventLoop, Future } from "@loop/core";
import { withAddress } from "./errors.js";
import { dispatcherFor, type Dispatcher, type DispatchTarget } from "./node-dispatcher.js";
import { writeBufferLimits } from "./node-transport.js";

// Event kinds carried by the dispatcher.
const READY = 0;
const MESSAGE = 1;
const ERROR = 2;
const CLOSE = 3;
const RESUME = 4;

/** asyncio's default write-buffer limits. */
const DEFAULT_HIGH_WATER = 64 * 1024;

/** The socket listeners, shared by every socket (Node calls them with the socket as `this`). */
const TRANSPORT = Symbol("NodeDatagramTransport");
/** Where a received datagram rides along with its `rinfo`, so that queueing it costs no object. */
const DATA = Symbol("data");
type OwnedSocket = dgram.Socket & { [TRANSPORT]: NodeDatagramTransport };
type Arrival = dgram.RemoteInfo & { [DATA]: Buffer };

function onMessage(this: OwnedSocket, data: Buffer, rinfo: dgram.RemoteInfo): void {
  (rinfo as Arrival)[DATA] = data;
  this[TRANSPORT].queue(MESSAGE, rinfo);
}

function onError(this: OwnedSocket, error: Error): void {
  this[TRANSPORT].queue(ERROR, error);
}

function onClose(this: OwnedSocket): void {
  this[TRANSPORT].queue(CLOSE, null);
}

const NO_PROTOCOL: DatagramProtocol = { datagramReceived() {} };

/** Opens a `node:dgram` endpoint for `NodeNetDriver.datagram`. */
export function openNodeDatagram(loop: EventLoop, protocolFactory: () => DatagramProtocol, options: DatagramOptions): Future<DatagramTransport> {
  const future = loop.createFuture<DatagramTransport>();
  new NodeDatagramTransport(loop, protocolFactory, options, future).begin();
  return future;
}

/**
 * A datagram transport over a `node:dgram` socket (asyncio's `_SelectorDatagramTransport`).
 * Socket events reach the protocol through the loop's dispatcher, so every protocol call
 * runs in a loop callback (`pauseWriting` excepted: as in asyncio it comes from inside
 * `sendto`).
 *
 * Invariants: `_buffered` is the sum of `_sizes`, the bytes of the sends Node has not
 * completed (its DNS step and libuv's send queue: asyncio's write buffer). From `begin()`
 * until `connectionLost` (or the failed open) the transport holds one `refExternal` on its
 * loop and sits in the dispatcher's `open` set. `_closing` never goes back to false.
 */
class NodeDatagramTransport implements DatagramTransport, DispatchTarget {
  private readonly _socket: dgram.Socket;
  private _protocol: DatagramProtocol = NO_PROTOCOL;
  private readonly _dispatcher: Dispatcher;
  private readonly _peer: DatagramAddress | null;
  private _ready = false;
  private _closing = false;
  private _socketClosed = false;
  private _lost = false;
  private _buffered = 0;
  private readonly _sizes: number[] = [];
  private _high = DEFAULT_HIGH_WATER;
  private _low = DEFAULT_HIGH_WATER / 4;
  private _protocolPaused = false;

  constructor(
    private readonly _loop: EventLoop,
    private readonly _protocolFactory: () => DatagramProtocol,
    private readonly _options: DatagramOptions,
    private readonly _future: Future<DatagramTransport>,
  ) {
    this._dispatcher = dispatcherFor(_loop);
    this._peer = _options.remoteAddr ?? null;
    const { localAddr, remoteAddr, reusePort } = _options;
    const family = _options.family ?? (isIPv6(localAddr?.[0]) || isIPv6(remoteAddr?.[0]) ? 6 : 4);
    // SO_REUSEADDR lets several UDP sockets share a port on Linux; Node 22.12+ also has
    // SO_REUSEPORT (`reusePort`), which Node 20 ignores. createSocket throws only for a bad
    // type or option, and both are fixed here.
    const reuse = reusePort === true;
    this._socket = dgram.createSocket({ type: family === 6 ? "udp6" : "udp4", reuseAddr: reuse, ...(reuse ? { reusePort: true } : {}) } as dgram.SocketOptions);
  }

  begin(): void {
    const { localAddr, remoteAddr, allowBroadcast } = this._options;
    const socket = this._socket;
    (socket as OwnedSocket)[TRANSPORT] = this;
    socket.on("message", onMessage);
    socket.on("error", onError);
    socket.on("close", onClose);
    this._loop.refExternal();
    this._dispatcher.open.add(this);
    this._future.addDoneCallback(() => {
      // Cancelled while binding or connecting: leave nothing open.
      if (this._future.cancelled()) this._closeSocket();
    });
    const onBound = (): void => {
      if (allowBroadcast === true) socket.setBroadcast(true);
      if (remoteAddr === undefined) {
        this.queue(READY, null);
        return;
      }
      try {
        socket.connect(remoteAddr[1], remoteAddr[0], () => this.queue(READY, null));
      } catch (error) {
        // A port Node refuses (the driver's options are not checked): fail the open, not the process.
        this.queue(ERROR, error);
      }
    };
    try {
      // Without an address Node binds to every one ("0.0.0.0" or "::").
      socket.bind({ port: localAddr?.[1] ?? 0, address: localAddr?.[0] }, onBound);
    } catch (error) {
      this.queue(ERROR, error);
    }
  }

  /** Queues a Node event of this transport's socket for the loop. */
  queue(kind: number, payload: unknown): void {
    this._dispatcher.push(this, kind, payload);
  }

  handleEvent(kind: number, payload: unknown): void {
    if (this._lost) return;
    switch (kind) {
      case MESSAGE: {
        if (this._closing) return;
        const arrival = payload as Arrival;
        // The hot path: no closure per datagram, only asyncio's (host, port) pair.
        try {
          this._protocol.datagramReceived(arrival[DATA], [arrival.address, arrival.port]);
        } catch (error) {
          this._loop.callExceptionHandler({ message: "protocol.datagramReceived() failed", exception: error, transport: this });
        }
        return;
      }
      case READY:
        this._started();
        return;
      case ERROR:
        if (!this._ready) this._failOpen(payload);
        else if (!this._closing) this._call("errorReceived", () => this._protocol.errorReceived?.(payload as Error));
        return;
      case RESUME:
        if (this._protocolPaused && this._buffered <= this._low) {
          this._protocolPaused = false;
          this._call("resumeWriting", () => this._protocol.resumeWriting?.());
        }
        return;
      case CLOSE:
        this._connectionLost();
        return;
    }
  }

  discard(): void {
    this._closing = true;
    this._closeSocket();
  }

  private _started(): void {
    const future = this._future;
    if (future.done()) return;
    this._ready = true;
    try {
      this._protocol = this._protocolFactory();
      this._protocol.connectionMade?.(this);
    } catch (error) {
      this.abort();
      future.setException(error);
      return;
    }
    future.setResult(this);
  }

  private _failOpen(error: unknown): void {
    this._closeSocket();
    const address = this._options.localAddr ?? this._options.remoteAddr;
    if (!this._future.done()) this._future.setException(withAddress(error, address?.[0], address?.[1], undefined));
  }

  /** The socket's 'close' event: once only (handleEvent ignores everything after it). */
  private _connectionLost(): void {
    this._lost = true;
    this._closing = true;
    this._dispatcher.open.delete(this);
    this._loop.unrefExternal();
    // An open that failed before the factory ran still has NO_PROTOCOL, which has no connectionLost.
    this._call("connectionLost", () => this._protocol.connectionLost?.(null));
  }

  private _closeSocket(): void {
    // Node's close() throws on a socket already closed.
    if (this._socketClosed) return;
    this._socketClosed = true;
    this._socket.close();
  }

  /** Protocol callbacks that throw go to the loop's exception handler, as asyncio's `_fatal_error` logs them. */
  private _call(what: string, body: () => void): void {
    try {
      body();
    } catch (error) {
      this._loop.callExceptionHandler({ message: `protocol.${what}() failed`, exception: error, transport: this });
    }
  }

  /** Node completed one send (Node calls this between loop turns). */
  private readonly _onSent = (error: Error | null): void => {
    this._buffered -= this._sizes.shift() ?? 0;
    // After close() the ERROR is dropped where it is delivered (handleEvent), as one from Node is.
    if (error !== null) this.queue(ERROR, error);
    if (this._protocolPaused && this._buffered <= this._low) this.queue(RESUME, null);
    if (this._closing && this._buffered === 0) this._closeSocket();
  };

  // --- DatagramTransport --------------------------------------------------------------

  sendto(data: Uint8Array, addr?: DatagramAddress): void {
    if (this._closing) throw new Error("DatagramTransport.sendto: the transport is closed; open a new endpoint to send more");
    if (!(data instanceof Uint8Array)) throw new TypeError(`DatagramTransport.sendto(data, addr): data must be a Uint8Array, got ${typeof data}`);
    const socket = this._socket;
    const peer = this._peer;
    if (peer !== null) {
      if (addr !== undefined && (addr[0] !== peer[0] || addr[1] !== peer[1])) {
        throw new RangeError(`DatagramTransport.sendto(data, addr): this endpoint is connected to ${peer[0]}:${peer[1]}; omit addr or pass that address`);
      }
      socket.send(data, this._onSent);
    } else {
      if (!isAddress(addr)) throw new TypeError("DatagramTransport.sendto(data, addr): addr must be [host, port]; this endpoint has no remoteAddr to send to by default");
      socket.send(data, addr[1], addr[0], this._onSent);
    }
    const size = data.byteLength;
    this._buffered += size;
    this._sizes.push(size);
    if (!this._protocolPaused && this._buffered > this._high) {
      this._protocolPaused = true;
      this._call("pauseWriting", () => this._protocol.pauseWriting?.());
    }
  }

  close(): void {
    this._closing = true;
    // asyncio's close(): what is buffered still goes out; the socket closes after it.
    if (this._buffered === 0) this._closeSocket();
  }

  abort(): void {
    this._closing = true;
    this._closeSocket();
  }

  isClosing(): boolean {
    return this._closing;
  }

  getExtraInfo<T = unknown>(name: string, fallback?: T): T | undefined {
    let value: unknown;
    if (name === "socket") value = this._socket;
    else if (name === "peername") value = this._peer === null ? undefined : [this._peer[0], this._peer[1]];
    else if (name === "sockname") {
      try {
        const a = this._socket.address();
        value = [a.address, a.port];
      } catch {
        // Closed: Node has no address for it, and the fallback answers.
      }
    }
    return (value === undefined ? fallback : value) as T | undefined;
  }

  getWriteBufferSize(): number {
    return this._buffered;
  }

  getWriteBufferLimits(): { low: number; high: number } {
    return { low: this._low, high: this._high };
  }

  setWriteBufferLimits(high?: number, low?: number): void {
    [this._high, this._low] = writeBufferLimits(high, low);
    if (!this._protocolPaused && this._buffered > this._high) {
      this._protocolPaused = true;
      this._call("pauseWriting", () => this._protocol.pauseWriting?.());
    } else if (this._protocolPaused && this._buffered <= this._low) {
      this.queue(RESUME, null);
    }
  }

  getProtocol(): DatagramProtocol {
    return this._protocol;
  }

  setProtocol(protocol: DatagramProtocol): void {
    this._protocol = protocol;
  }
}

function isIPv6(host: string | undefined): boolean {
  return host !== undefined && host.includes(":");
}

function isAddress(addr: unknown): addr is DatagramAddress {
  return Array.isArray(addr) && addr.length === 2 && typeof addr[0] === "string" && typeof addr[1] === "number";
}

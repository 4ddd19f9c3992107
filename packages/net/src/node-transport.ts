import { Buffer } from "node:buffer";
import type * as net from "node:net";
import type * as tls from "node:tls";
import type { BaseProtocol, EventLoop, Protocol, Transport } from "@loop/core";
import type { Dispatcher, DispatchTarget } from "./node-dispatcher.js";

// Event kinds carried by the dispatcher.
export const STARTED = 0;
const DATA = 1;
const END = 2;
const ERROR = 3;
const CLOSE = 4;
const FLUSHED = 5;

const EMPTY = Buffer.alloc(0);

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

/** asyncio's default write-buffer limits (FlowControlMixin / _set_write_buffer_limits). */
const DEFAULT_HIGH_WATER = 64 * 1024;

/**
 * The socket listeners, shared by every socket (Node calls them with the socket as
 * `this`), so that a connection costs no listener closures: the socket points back to
 * its transport.
 */
const TRANSPORT = Symbol("NodeTransport");
type OwnedSocket = net.Socket & { [TRANSPORT]: NodeTransport };

function onData(this: OwnedSocket, chunk: Buffer): void {
  this[TRANSPORT].queue(DATA, chunk);
}

function onEnd(this: OwnedSocket): void {
  this[TRANSPORT].queue(END, null);
}

function onError(this: OwnedSocket, error: Error): void {
  this[TRANSPORT].queue(ERROR, error);
}

function onClose(this: OwnedSocket): void {
  this[TRANSPORT].queue(CLOSE, null);
}

/** Who learns when a transport's connection ends (its listener, for `ServerHandle.transports`). */
export interface TransportOwner {
  transportClosed(transport: NodeTransport): void;
}

/**
 * A transport over a Node `net.Socket` or `tls.TLSSocket` (asyncio's
 * `_SelectorSocketTransport`). Node's socket events reach the protocol through the loop's
 * dispatcher, so every protocol call runs inside a loop callback.
 *
 * The transport holds one `refExternal` on its loop from creation until `connectionLost`:
 * an open socket may always bring more work, so a virtual clock must not jump past it.
 */
export class NodeTransport implements Transport, DispatchTarget {
  readonly _socket: net.Socket;
  /** A protocol that ignores everything until `start` gives the real one. */
  private _protocol: Protocol = NO_PROTOCOL;
  private readonly _loop: EventLoop;
  private readonly _dispatcher: Dispatcher;
  private readonly _isTls: boolean;
  private readonly _unixPath: string | undefined;
  private _owner: TransportOwner | null;
  private _closing = false;
  private _connectionLost = false;
  private _detached = false;
  private _eofWritten = false;
  private _readingPaused = false;
  /** Data (and a final EOF) that arrived while reading was paused, delivered on resume. */
  private _held: Buffer[] | null = null;
  private _heldEof = false;
  private _error: Error | null = null;
  private _high = DEFAULT_HIGH_WATER;
  private _low = DEFAULT_HIGH_WATER / 4;
  private _protocolPaused = false;
  private _flushPending = false;

  private _onFlushed: (() => void) | null = null;

  constructor(loop: EventLoop, socket: net.Socket, dispatcher: Dispatcher, opts: { tls: boolean; unixPath?: string; owner?: TransportOwner }) {
    this._loop = loop;
    this._socket = socket;
    this._dispatcher = dispatcher;
    this._isTls = opts.tls;
    this._unixPath = opts.unixPath;
    this._owner = opts.owner ?? null;
    (socket as OwnedSocket)[TRANSPORT] = this;
    socket.on("error", onError);
    socket.on("end", onEnd);
    socket.on("close", onClose);
    dispatcher.open.add(this);
    if (socket.destroyed) dispatcher.push(this, CLOSE, null);
  }

  /**
   * Attaches the protocol and starts reading. `made`: call `connectionMade` (false after
   * startTls, where the protocol already knows the connection, as in asyncio).
   */
  start(protocol: Protocol, made: boolean): void {
    this._protocol = protocol;
    if (made) protocol.connectionMade(this);
    if (!this._readingPaused && !this._connectionLost) this._socket.on("data", onData);
  }

  /** Queues a Node event of this transport's socket for the loop. */
  queue(kind: number, payload: unknown): void {
    this._dispatcher.push(this, kind, payload);
  }

  handleEvent(kind: number, payload: unknown): void {
    if (this._connectionLost || this._detached) return;
    const protocol = this._protocol;
    try {
      switch (kind) {
        case DATA:
          if (this._readingPaused) (this._held ??= []).push(payload as Buffer);
          else protocol.dataReceived(payload as Buffer);
          break;
        case END:
          if (this._readingPaused) this._heldEof = true;
          else this._eofReceived();
          break;
        case ERROR:
          this._error ??= payload as Error;
          break;
        case CLOSE:
          this._lose(this._error);
          break;
        case FLUSHED:
          this._flushPending = false;
          this._maybeResumeProtocol();
          break;
        case STARTED:
          this.start((payload as () => Protocol)(), true);
          break;
      }
    } catch (error) {
      this._fatalError(error, kind === DATA ? "Fatal error: protocol.dataReceived() call failed." : "Fatal error on transport");
    }
  }

  discard(): void {
    this._socket.destroy();
  }

  // --- BaseTransport ------------------------------------------------------------------

  close(): void {
    if (this._closing) return;
    this._closing = true;
    this._stopReading();
    // asyncio closes after the write buffer drains; destroySoon is end() + destroy once
    // the bytes are out, so 'close' (and connectionLost) follows.
    this._socket.destroySoon();
  }

  isClosing(): boolean {
    return this._closing;
  }

  getExtraInfo<T = unknown>(name: string, fallback?: T): T | undefined {
    const socket = this._socket;
    let value: unknown;
    switch (name) {
      case "peername":
        value = this._unixPath !== undefined ? this._unixPath : socket.remoteAddress === undefined ? undefined : { address: socket.remoteAddress, family: socket.remoteFamily, port: socket.remotePort };
        break;
      case "sockname":
        value = this._unixPath !== undefined ? this._unixPath : socket.localAddress === undefined ? undefined : { address: socket.localAddress, family: socket.localFamily, port: socket.localPort };
        break;
      case "socket":
        value = socket;
        break;
      case "sslcontext":
        // Node has no SSLContext object to hand out: what was negotiated instead.
        value = this._isTls ? { protocol: (socket as tls.TLSSocket).getProtocol(), alpnProtocol: (socket as tls.TLSSocket).alpnProtocol } : undefined;
        break;
      case "peercert":
        value = this._isTls ? (socket as tls.TLSSocket).getPeerCertificate() : undefined;
        break;
      case "cipher":
        value = this._isTls ? (socket as tls.TLSSocket).getCipher() : undefined;
        break;
      case "sslobject":
        value = this._isTls ? socket : undefined;
        break;
    }
    return (value === undefined || value === null ? fallback : value) as T | undefined;
  }

  setProtocol(protocol: BaseProtocol): void {
    this._protocol = protocol as Protocol;
  }

  getProtocol(): BaseProtocol {
    return this._protocol;
  }

  // --- ReadTransport ------------------------------------------------------------------

  isReading(): boolean {
    return !this._readingPaused && !this._closing;
  }

  pauseReading(): void {
    if (this._closing || this._readingPaused) return;
    this._readingPaused = true;
    this._socket.pause();
  }

  resumeReading(): void {
    if (this._closing || !this._readingPaused) return;
    this._readingPaused = false;
    const held = this._held;
    // What arrived between the pause and Node noticing it is delivered first, in a loop
    // callback as always (never from inside resumeReading).
    if (held !== null || this._heldEof) this._loop.callSoon(() => this._deliverHeld());
    else this._socket.resume();
  }

  // --- WriteTransport -----------------------------------------------------------------

  write(data: Uint8Array): void {
    if (this._eofWritten) throw new Error("Transport.write: cannot write after writeEof()");
    // asyncio counts and drops writes after the connection is lost; writes after close()
    // would be Node's ERR_STREAM_WRITE_AFTER_END, and are dropped too.
    if (this._closing || this._connectionLost || data.byteLength === 0) return;
    this._socket.write(data);
    if (!this._protocolPaused && this._socket.writableLength > this._high) this._pauseProtocol();
  }

  writelines(list: Iterable<Uint8Array>): void {
    for (const data of list) this.write(data);
  }

  writeEof(): void {
    if (this._closing || this._eofWritten) return;
    if (this._isTls) throw new Error("Transport.writeEof: TLS transports cannot half-close (canWriteEof() is false)");
    this._eofWritten = true;
    this._socket.end();
  }

  canWriteEof(): boolean {
    return !this._isTls;
  }

  abort(): void {
    if (this._connectionLost) return;
    this._closing = true;
    this._socket.destroy();
  }

  getWriteBufferSize(): number {
    return this._socket.writableLength;
  }

  getWriteBufferLimits(): { low: number; high: number } {
    return { low: this._low, high: this._high };
  }

  setWriteBufferLimits(high?: number, low?: number): void {
    const [h, l] = writeBufferLimits(high, low);
    this._high = h;
    this._low = l;
    if (!this._protocolPaused && this._socket.writableLength > this._high) this._pauseProtocol();
    else this._maybeResumeProtocol();
  }

  // --- internals ----------------------------------------------------------------------

  /** For startTls: stops listening to the socket and hands it over, without losing the connection. */
  detach(): { socket: net.Socket; held: Buffer[] } {
    this._detached = true;
    this._closing = true;
    const socket = this._socket;
    socket.off("data", onData);
    socket.off("end", onEnd);
    socket.off("error", onError);
    socket.off("close", onClose);
    const held = this._held ?? [];
    this._held = null;
    this._owner = null;
    this._dispatcher.open.delete(this);
    return { socket, held };
  }

  /** Adopts the owner of the transport this one replaces (startTls on a server connection). */
  setOwner(owner: TransportOwner | null): void {
    this._owner = owner;
  }

  get owner(): TransportOwner | null {
    return this._owner;
  }

  private _deliverHeld(): void {
    if (this._connectionLost || this._detached) return;
    const held = this._held;
    this._held = null;
    try {
      if (held !== null) {
        for (const chunk of held) {
          if (this._readingPaused) {
            (this._held ??= []).push(chunk);
            continue;
          }
          this._protocol.dataReceived(chunk);
        }
      }
      if (this._readingPaused) return;
      if (this._heldEof) {
        this._heldEof = false;
        this._eofReceived();
      } else {
        this._socket.resume();
      }
    } catch (error) {
      this._fatalError(error, "Fatal error: protocol.dataReceived() call failed.");
    }
  }

  private _eofReceived(): void {
    const keepOpen = this._protocol.eofReceived();
    if (!keepOpen) this.close();
  }

  private _stopReading(): void {
    this._socket.off("data", onData);
    this._socket.pause();
  }

  private _pauseProtocol(): void {
    this._protocolPaused = true;
    try {
      this._protocol.pauseWriting();
    } catch (error) {
      this._loop.callExceptionHandler({ message: "protocol.pauseWriting() failed", exception: error, transport: this });
    }
    this._waitFlush();
  }

  /** An empty write's callback runs once every byte written before it has left: the drain signal. */
  private _waitFlush(): void {
    if (this._flushPending || this._connectionLost) return;
    this._flushPending = true;
    this._onFlushed ??= () => this._dispatcher.push(this, FLUSHED, null);
    this._socket.write(EMPTY, this._onFlushed);
  }

  private _maybeResumeProtocol(): void {
    if (!this._protocolPaused) return;
    if (this._socket.writableLength > this._low) {
      this._waitFlush();
      return;
    }
    this._protocolPaused = false;
    try {
      this._protocol.resumeWriting();
    } catch (error) {
      this._loop.callExceptionHandler({ message: "protocol.resumeWriting() failed", exception: error, transport: this });
    }
  }

  /** asyncio's `_fatal_error`: report, then close at once with the error. */
  private _fatalError(error: unknown, message: string): void {
    this._loop.callExceptionHandler({ message, exception: error, transport: this, protocol: this._protocol });
    this._error ??= error instanceof Error ? error : new Error(String(error));
    this._closing = true;
    this._socket.destroy();
  }

  private _lose(error: Error | null): void {
    this._connectionLost = true;
    this._closing = true;
    this._held = null;
    this._loop.unrefExternal();
    this._dispatcher.open.delete(this);
    this._owner?.transportClosed(this);
    this._owner = null;
    if (this._protocol !== NO_PROTOCOL) this._protocol.connectionLost(error);
  }
}

/** asyncio's `_set_write_buffer_limits`: defaults 64 KiB high, a quarter of it low. */
export function writeBufferLimits(high?: number, low?: number): [number, number] {
  if (high === undefined) high = low === undefined ? DEFAULT_HIGH_WATER : 4 * low;
  if (low === undefined) low = Math.floor(high / 4);
  if (!(high >= low && low >= 0)) throw new RangeError(`setWriteBufferLimits(high, low): need high (${high}) >= low (${low}) >= 0`);
  return [high, low];
}

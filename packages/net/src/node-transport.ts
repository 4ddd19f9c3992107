import { Buffer } from "node:buffer";
import type * as net from "node:net";
import type * as tls from "node:tls";
import type { BaseProtocol, EventLoop, Protocol, Transport } from "@loop/core";
import type { Dispatcher, DispatchTarget } from "./node-dispatcher.js";

// Event kinds carried by the dispatcher (exported for the tests, which play Node's part).
export const STARTED = 0;
export const DATA = 1;
export const END = 2;
export const ERROR = 3;
export const CLOSE = 4;
export const FLUSHED = 5;

const EMPTY = Buffer.alloc(0);

const NO_PROTOCOL: Protocol = {
  connectionMade() {},
  connectionLost() {},
  pauseWriting() {},
  resumeWriting() {},
  dataReceived() {},
  eofReceived() {},
};

/** asyncio's default write-buffer limits (FlowControlMixin / _set_write_buffer_limits). */
const DEFAULT_HIGH_WATER = 64 * 1024;

// How much of one socket's data is handed to the loop per iteration of the host's event
// loop: a share of the iteration's budget (`Dispatcher.share`). libuv reads a readable
// socket up to 32 × 64 KiB in one poll phase; without shares, 50 clients pipelining 125 KiB
// each made loop turns of 6 MiB of requests, and a newcomer's accept and first request
// waited behind several such turns (seconds). Redis reads 16 KiB per client per iteration
// (`PROTO_IOBUF_LEN`) for the same reason.

/**
 * The socket is paused once this many shares wait, not one: a steady stream is then not
 * paused and resumed on every iteration (each costs a system call), and memory per
 * connection stays bounded at about this many shares plus one read.
 */
const PAUSE_SHARES = 2;

/**
 * The socket listeners, shared by every socket (Node calls them with the socket as
 * `this`), so that a connection costs no listener closures: the socket points back to
 * its transport.
 */
const TRANSPORT = Symbol("NodeTransport");
type OwnedSocket = net.Socket & { [TRANSPORT]: NodeTransport };

function onData(this: OwnedSocket, chunk: Buffer): void {
  this[TRANSPORT].incoming(DATA, chunk);
}

function onEnd(this: OwnedSocket): void {
  this[TRANSPORT].incoming(END, null);
}

function onError(this: OwnedSocket, error: Error): void {
  this[TRANSPORT].incoming(ERROR, error);
}

function onClose(this: OwnedSocket): void {
  this[TRANSPORT].incoming(CLOSE, null);
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
  // Read shares (see Dispatcher.share). Invariant: `_queuedBytes` counts the DATA bytes
  // queued in the dispatcher and not yet handled, at most a share; every socket event that came
  // after them, while they were at the share, waits in `_backlog` (kinds and payloads
  // interleaved, in arrival order) and the dispatcher releases it a share per host
  // iteration. `_throttled`: the socket is paused because the backlog holds a share.
  private _queuedBytes = 0;
  private _backlog: unknown[] | null = null;
  private _backlogBytes = 0;
  private _throttled = false;
  /**
   * While a backlog waits: the dispatcher will call `release()` (set with `releaseLater`,
   * cleared when `release()` gives up while reading is paused). Meaningless without a backlog.
   */
  // Stryker disable next-line BooleanLiteral: read only while a backlog exists, and making one sets it
  private _releaseQueued = false;
  /** The dispatcher's round in which this socket last sent data (see `Dispatcher.share`). */
  private _round = -1;

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
    // Even if connectionMade paused reading (or closed): the socket is paused then, and a
    // listener does not resume a paused socket; resumeReading() needs it there.
    this._socket.on("data", onData);
  }

  /** A Node event of the socket (from Node, between loop turns): queued, or kept for a later iteration past the share. */
  incoming(kind: number, payload: unknown): void {
    if (this._backlog === null) {
      if (kind !== DATA) {
        this._dispatcher.push(this, kind, payload);
        return;
      }
      const chunk = payload as Buffer;
      const dispatcher = this._dispatcher;
      if (this._round !== dispatcher.round) {
        this._round = dispatcher.round;
        dispatcher.noteActive();
      }
      const room = dispatcher.share - this._queuedBytes;
      if (chunk.length <= room) {
        this._queuedBytes += chunk.length;
        this._dispatcher.push(this, DATA, chunk);
        return;
      }
      if (room > 0) {
        this._queuedBytes += room;
        this._dispatcher.push(this, DATA, chunk.subarray(0, room));
        payload = chunk.subarray(room);
      }
      this._backlog = [];
      this._releaseQueued = true;
      this._dispatcher.releaseLater(this);
    }
    this._backlog.push(kind, payload);
    if (kind === DATA) this._backlogBytes += (payload as Buffer).length;
    if (!this._throttled && this._backlogBytes >= PAUSE_SHARES * this._dispatcher.share) {
      // Node reads at most one more chunk; the kernel's buffer then fills and TCP makes
      // the peer wait: memory per connection stays bounded whatever it sends.
      this._throttled = true;
      this._socket.pause();
    }
  }

  /**
   * Called by the dispatcher once per host iteration (Node side) while a backlog waits:
   * queues up to a share of it; returns true while some is left.
   */
  release(): boolean {
    const backlog = this._backlog;
    // While the protocol has paused reading the backlog stays here (the socket is paused
    // too); resumeReading() asks for releases again.
    if (backlog === null || this._readingPaused) {
      this._releaseQueued = false;
      return false;
    }
    const share = this._dispatcher.share;
    let i = 0;
    for (; i < backlog.length && this._queuedBytes < share; i += 2) {
      const kind = backlog[i] as number;
      let payload = backlog[i + 1];
      if (kind === DATA) {
        const chunk = payload as Buffer;
        const room = share - this._queuedBytes;
        if (chunk.length > room) {
          backlog[i + 1] = chunk.subarray(room);
          payload = chunk.subarray(0, room);
          i -= 2; // the rest of this chunk stays first in line
        }
        const length = (payload as Buffer).length;
        this._queuedBytes += length;
        this._backlogBytes -= length;
      }
      this._dispatcher.push(this, kind, payload);
    }
    if (i < backlog.length) {
      backlog.splice(0, i);
      return true;
    }
    // `_releaseQueued` stays as it is: it only counts while a backlog exists, and the
    // next backlog sets it when it asks for its release.
    this._backlog = null;
    this._backlogBytes = 0;
    if (this._throttled) {
      this._throttled = false;
      // Reading is not paused here (see above).
      if (!this._closing) this._socket.resume();
    }
    return false;
  }

  handleEvent(kind: number, payload: unknown): void {
    if (kind === DATA) this._queuedBytes -= (payload as Buffer).length;
    if (this._connectionLost || this._detached) return;
    const protocol = this._protocol;
    try {
      switch (kind) {
        // Behind held bytes (reading was paused and they wait for _deliverHeld), data
        // and the end wait too: nothing overtakes them.
        case DATA:
          if (this._readingPaused || this._held !== null) (this._held ??= []).push(payload as Buffer);
          else protocol.dataReceived(payload as Buffer);
          break;
        case END:
          if (this._readingPaused || this._held !== null) this._heldEof = true;
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
    else if (!this._throttled) this._socket.resume();
    if (this._backlog !== null && !this._releaseQueued) {
      this._releaseQueued = true;
      this._dispatcher.releaseLater(this);
    }
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
    // Once the connection is lost the socket is destroyed already, and destroy() does nothing.
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

  /**
   * For startTls: stops listening to the socket and hands it over, without losing the
   * connection, with everything Node read from it that the protocol has not had, in
   * arrival order: the bytes held while reading was paused, then the events still queued
   * in the dispatcher, then those waiting for their share. `eof`: the end of stream was
   * among them (Node has emitted 'end', so they cannot be unshifted back into the socket).
   */
  detach(): { socket: net.Socket; held: Buffer[]; eof: boolean } {
    this._detached = true;
    this._closing = true;
    const socket = this._socket;
    socket.off("data", onData);
    socket.off("end", onEnd);
    socket.off("error", onError);
    socket.off("close", onClose);
    const held = this._held ?? [];
    let eof = this._heldEof;
    this._held = null;
    this._heldEof = false;
    // The backlog came after what is queued (see `_queuedBytes`). Kinds and payloads in
    // pairs: the length is even.
    const events: unknown[] = [];
    this._dispatcher.withdraw(this, events);
    const backlog = this._backlog;
    this._backlog = null;
    if (backlog !== null) for (const item of backlog) events.push(item);
    // An error or a close has destroyed the socket: its new owner sees that on the socket.
    for (let i = 0; i !== events.length; i += 2) {
      if (events[i] === DATA) held.push(events[i + 1] as Buffer);
      else if (events[i] === END) eof = true;
    }
    this._owner = null;
    this._dispatcher.open.delete(this);
    return { socket, held, eof };
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
      } else if (!this._throttled) {
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
    this._backlog = null;
    this._loop.unrefExternal();
    this._dispatcher.open.delete(this);
    this._owner?.transportClosed(this);
    this._owner = null;
    // Lost before start(): NO_PROTOCOL hears it, and ignores it.
    this._protocol.connectionLost(error);
  }
}

/** asyncio's `_set_write_buffer_limits`: defaults 64 KiB high, a quarter of it low. */
export function writeBufferLimits(high?: number, low?: number): [number, number] {
  if (high === undefined) high = low === undefined ? DEFAULT_HIGH_WATER : 4 * low;
  if (low === undefined) low = Math.floor(high / 4);
  if (!(high >= low && low >= 0)) throw new RangeError(`setWriteBufferLimits(high, low): need high (${high}) >= low (${low}) >= 0`);
  return [high, low];
}

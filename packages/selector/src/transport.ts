import type { Buffer } from "node:buffer";
import type { BaseProtocol, EventLoop, Protocol, Transport } from "@loop/core";
import { systemError } from "./errors.js";
import { BACKLOG, CTL_FLUSHES, DATA, DRAINED, EOF, ERROR } from "./native.js";
import type { Reactor } from "./reactor.js";
import type { SelectorPoller } from "./selector-poller.js";

const NO_PROTOCOL: Protocol = {
  connectionMade() {},
  connectionLost() {},
  pauseWriting() {},
  resumeWriting() {},
  dataReceived() {},
  // Stryker disable next-line ArrowFunction,BooleanLiteral: no record reaches a transport before start() attaches its protocol (reading starts there)
  eofReceived: () => false,
};

/** asyncio's default write-buffer limits (FlowControlMixin), the Node driver's too. */
const DEFAULT_HIGH_WATER = 64 * 1024;
const DEFAULT_LOW_WATER = DEFAULT_HIGH_WATER / 4;

// The bits of SelectorTransport._flags.
const CLOSING = 1;
const CLOSE_WHEN_DRAINED = 2;
const LOST = 4;
const EOF_WRITTEN = 8;
const READING_PAUSED = 16;
const EOF_SEEN = 32;
const HELD_EOF = 64;
const PROTOCOL_PAUSED = 128;
const UNNAMED_UNIX = 256;

/** The state of a transport that most connections never need, made on first use. */
interface TransportExtra {
  unixPath: string | undefined;
  socket: SelectorSocket | null;
  held: Buffer[] | null;
  high: number;
  low: number;
  /** What a full socket left buffered at the last flush (the addon's EV_BACKLOG). */
  backlog: number;
}

/** The listener that accepted a transport: its `ServerHandle.transports` lists the transport while it is open. */
export type TransportOwner = object;

/**
 * What `getExtraInfo("socket")` gives: the descriptor (asyncio's `TransportSocket.fileno()`)
 * and a reset, named as Node's `socket.resetAndDestroy()`.
 */
export interface SelectorSocket {
  /** The socket's file descriptor (asyncio's `TransportSocket.fileno()`); -1 once closed. */
  fileno(): number;
  /** Closes the connection with a TCP RST instead of a FIN, dropping buffered bytes. */
  resetAndDestroy(): void;
}

/**
 * A stream transport over a raw non-blocking socket: asyncio's `_SelectorSocketTransport`.
 * Reads land in the native slab and reach the protocol as Buffers viewing it, one per read
 * (a slab region is never written twice, so the protocol may keep them); writes
 * are copied into the descriptor's native buffer and sent once per batch (a socket that
 * takes them all is never registered for writability; one that says EAGAIN is, until the
 * buffer is empty).
 *
 * Invariants: `_fd >= 0` exactly while the descriptor is open and this transport owns it
 * in the reactor's table; `_lost` once `connectionLost` ran (after which nothing reaches
 * the protocol); the transport holds one `refExternal` on its loop from creation until
 * `connectionLost`, as the Node driver's does.
 */
// Not `implements FdTarget`: its owner's reactor-side members are @internal, trimmed from the
// published dist/selector.d.ts; `reactor.targets[fd] = this` checks the shape.
export class SelectorTransport implements Transport {
  /** The poller whose selector watches this socket. */
  readonly owner: SelectorPoller;
  private _fd: number;
  private readonly _loop: EventLoop;
  private _listener: TransportOwner | null;
  private _protocol: Protocol = NO_PROTOCOL;
  /**
   * The transport's booleans, one bit each (see the accessors below): each field of a
   * transport is paid by every idle connection.
   */
  private _flags = 0;
  /** What few transports need (a Unix path, the `"socket"` extra info, reads held while paused, own buffer limits, a backlog). */
  private _extra: TransportExtra | null = null;
  /** Bytes written since the addon's last flush (`_flushes` names it), not yet sent. */
  private _staged = 0;
  // Stryker disable next-line UnaryOperator: any start value will do: `_staged` starts at 0, so resetting it on the first write changes nothing
  private _flushes = -1;

  /** @internal Made by the poller's network driver for a connected or accepted socket. */
  constructor(poller: SelectorPoller, loop: EventLoop, fd: number, opts: { unixPath?: string; owner?: TransportOwner }) {
    const reactor = poller._reactor as Reactor;
    this.owner = poller;
    this._loop = loop;
    this._fd = fd;
    this._listener = opts.owner ?? null;
    // An accepted Unix connection's peer has no name (""): a bit, not an extra object.
    if (opts.unixPath === "") this._flags = UNNAMED_UNIX;
    else if (opts.unixPath !== undefined) this._ensureExtra().unixPath = opts.unixPath;
    reactor.targets[fd] = this;
    loop.refExternal();
  }

  // --- flags and rarely needed state ---------------------------------------------------

  /** @internal */
  private get _closing(): boolean {
    return (this._flags & CLOSING) !== 0;
  }
  /** @internal */
  private set _closing(on: boolean) {
    this._setFlag(CLOSING, on);
  }
  /** @internal close() waits for the buffer to drain before closing the descriptor. */
  private get _closeWhenDrained(): boolean {
    return (this._flags & CLOSE_WHEN_DRAINED) !== 0;
  }
  /** @internal */
  private set _closeWhenDrained(on: boolean) {
    this._setFlag(CLOSE_WHEN_DRAINED, on);
  }
  /** @internal */
  private get _lost(): boolean {
    return (this._flags & LOST) !== 0;
  }
  /** @internal */
  private set _lost(on: boolean) {
    this._setFlag(LOST, on);
  }
  /** @internal */
  private get _eofWritten(): boolean {
    return (this._flags & EOF_WRITTEN) !== 0;
  }
  /** @internal */
  private set _eofWritten(on: boolean) {
    this._setFlag(EOF_WRITTEN, on);
  }
  /** @internal */
  private get _readingPaused(): boolean {
    return (this._flags & READING_PAUSED) !== 0;
  }
  /** @internal */
  private set _readingPaused(on: boolean) {
    this._setFlag(READING_PAUSED, on);
  }
  /** @internal The peer's EOF was seen: the addon stopped reading, and nothing restarts it. */
  private get _eof(): boolean {
    return (this._flags & EOF_SEEN) !== 0;
  }
  /** @internal */
  private set _eof(on: boolean) {
    this._setFlag(EOF_SEEN, on);
  }
  /** @internal The peer's EOF arrived while reading was paused: delivered on resume. */
  private get _heldEof(): boolean {
    return (this._flags & HELD_EOF) !== 0;
  }
  /** @internal */
  private set _heldEof(on: boolean) {
    this._setFlag(HELD_EOF, on);
  }
  /** @internal */
  private get _protocolPaused(): boolean {
    return (this._flags & PROTOCOL_PAUSED) !== 0;
  }
  /** @internal */
  private set _protocolPaused(on: boolean) {
    this._setFlag(PROTOCOL_PAUSED, on);
  }

  private _setFlag(flag: number, on: boolean): void {
    this._flags = on ? this._flags | flag : this._flags & ~flag;
  }

  /** @internal Records that arrived while reading was paused, delivered on resume. */
  private get _held(): Buffer[] | null {
    return this._extra === null ? null : this._extra.held;
  }
  /** @internal */
  private set _held(held: Buffer[] | null) {
    if (held !== null || this._extra !== null) this._ensureExtra().held = held;
  }
  /** @internal */
  private get _high(): number {
    return this._extra === null ? DEFAULT_HIGH_WATER : this._extra.high;
  }
  /** @internal */
  private get _low(): number {
    return this._extra === null ? DEFAULT_LOW_WATER : this._extra.low;
  }

  private _ensureExtra(): TransportExtra {
    return (this._extra ??= { unixPath: undefined, socket: null, held: null, high: DEFAULT_HIGH_WATER, low: DEFAULT_LOW_WATER, backlog: 0 });
  }

  /** @internal The poller's reactor (not a field: each one is paid by every idle connection). */
  private get _reactor(): Reactor {
    return this.owner._reactor as Reactor;
  }

  /** Attaches the protocol and starts reading. */
  start(protocol: Protocol): void {
    this._protocol = protocol;
    protocol.connectionMade(this);
    // Every close but the poller's discard() sets _closing, and the poller does not close inside connectionMade.
    if (!this._readingPaused && !this._closing) this._reactor.native.reading(this._fd, true);
  }

  /** @internal The poller delivers one readiness record of this socket (in a loop callback). */
  handleEvent(kind: number, a: number, b: number, data: Buffer | null): void {
    if (this._fd < 0) return;
    try {
      switch (kind) {
        case DATA:
          if (this._closing) return;
          // Held records not yet handed over (a resume's callback is due) go first.
          if (this._readingPaused || this._held !== null) (this._held ??= []).push(data as Buffer);
          else this._protocol.dataReceived(data as Buffer);
          break;
        case EOF:
          this._eof = true;
          if (this._closing) return;
          if (this._readingPaused || this._held !== null) this._heldEof = true;
          else this._eofReceived();
          break;
        case ERROR:
          // asyncio's _fatal_error for an OSError of the connection: no report, close with it.
          this._forceClose(systemError(a, b === 1 ? "read" : "write"));
          break;
        case DRAINED:
          if (this._closeWhenDrained) this._forceClose(null);
          else this._maybeResumeProtocol(a);
          break;
        case BACKLOG:
          if (a !== 0 || this._extra !== null) this._ensureExtra().backlog = a;
          break;
      }
    } catch (error) {
      this._fatalError(error, kind === DATA ? "Fatal error: protocol.dataReceived() call failed." : "Fatal error on transport");
    }
  }

  /** @internal True while the descriptor is open, for the listener that accepted it. */
  _acceptedBy(listener: TransportOwner): boolean {
    return this._fd >= 0 && this._listener === listener;
  }

  /** @internal The poller closes: the descriptor is closed without telling the protocol. */
  discard(): void {
    this._closeFd(false);
  }

  // --- BaseTransport ---------------------------------------------------------------------

  /**
   * asyncio's `BaseTransport.close()`: stops reading at once, sends what is buffered, then
   * closes the socket and calls the protocol's `connectionLost(null)`.
   */
  close(): void {
    if (this._closing) return;
    this._closing = true;
    this._held = null;
    const fd = this._fd;
    if (fd < 0) return;
    this._reactor.native.reading(fd, false);
    // asyncio closes once the write buffer is empty (_SelectorTransport.close).
    if (this._reactor.native.buffered(fd) === 0) this._forceClose(null);
    else {
      this._closeWhenDrained = true;
      this._reactor.native.notify(fd, 0);
    }
  }

  /** asyncio's `is_closing()`: true once `close()` or `abort()` was called or the connection failed. */
  isClosing(): boolean {
    return this._closing;
  }

  /**
   * asyncio's `get_extra_info()`: `"peername"` and `"sockname"` (Node's `AddressInfo`, or
   * the path of a Unix socket), `"socket"` (a `SelectorSocket`); `fallback` for anything else
   * or once the socket is closed.
   */
  getExtraInfo<T = unknown>(name: string, fallback?: T): T | undefined {
    let value: unknown;
    const fd = this._fd;
    switch (name) {
      case "peername":
      case "sockname": {
        const unixPath = (this._flags & UNNAMED_UNIX) !== 0 ? "" : this._extra?.unixPath;
        if (unixPath !== undefined) value = unixPath;
        else if (fd >= 0) value = addressInfo(name === "peername" ? this._reactor.native.peername(fd) : this._reactor.native.sockname(fd));
        break;
      }
      case "socket":
        if (fd >= 0) {
          const extra = this._ensureExtra();
          extra.socket ??= { fileno: () => this._fd, resetAndDestroy: () => this._reset() };
          value = extra.socket;
        }
        break;
    }
    return (value === undefined || value === null ? fallback : value) as T | undefined;
  }

  /** asyncio's `set_protocol()`: the protocol that receives the next events. */
  setProtocol(protocol: BaseProtocol): void {
    this._protocol = protocol as Protocol;
  }

  /** asyncio's `get_protocol()`: the protocol receiving this transport's events. */
  getProtocol(): BaseProtocol {
    return this._protocol;
  }

  // --- ReadTransport ---------------------------------------------------------------------

  /** asyncio's `is_reading()`: true unless reading is paused or the transport is closing. */
  isReading(): boolean {
    return !this._readingPaused && !this._closing;
  }

  /** asyncio's `pause_reading()`: no `dataReceived` until `resumeReading()`; the socket is no longer read. */
  pauseReading(): void {
    if (this._closing || this._readingPaused) return;
    this._readingPaused = true;
    if (this._fd >= 0) this._reactor.native.reading(this._fd, false);
  }

  /** asyncio's `resume_reading()`: delivers what arrived meanwhile first, then reads again. */
  resumeReading(): void {
    if (this._closing || !this._readingPaused) return;
    this._readingPaused = false;
    // Records that arrived between the pause and the native side hearing of it are
    // delivered first, in a loop callback as always (never from inside resumeReading).
    if (this._held !== null || this._heldEof) this._loop.callSoon(() => this._deliverHeld());
    else if (this._fd >= 0 && !this._eof) this._reactor.native.reading(this._fd, true);
  }

  // --- WriteTransport --------------------------------------------------------------------

  /**
   * asyncio's `write()`: never blocks; the bytes are copied and sent right after the loop's
   * batch of turns. Past the high-water mark the protocol's `pauseWriting()` is called.
   * Throws after `writeEof()`; ignored once closing.
   */
  write(data: Uint8Array): void {
    if (this._eofWritten) throw new Error("Transport.write: cannot write after writeEof()");
    const length = data.byteLength;
    if (this._closing || this._fd < 0 || length === 0) return;
    const reactor = this._reactor;
    let buffered: number;
    if (reactor.stage(this._fd, data)) {
      // The staged count restarts with every flush; the backlog is as of the last one.
      const flushes = reactor.ctl[CTL_FLUSHES] as number;
      if (flushes !== this._flushes) {
        this._flushes = flushes;
        this._staged = 0;
      }
      this._staged += length;
      buffered = this._extra === null ? this._staged : this._staged + this._extra.backlog;
    } else {
      buffered = reactor.native.write(this._fd, data);
    }
    if (!this._protocolPaused && buffered > this._high) this._pauseProtocol();
  }

  /** asyncio's `writelines()`: `write()` of each buffer, in order. */
  writelines(list: Iterable<Uint8Array>): void {
    for (const data of list) this.write(data);
  }

  /** asyncio's `write_eof()`: shuts down the sending side (the peer reads EOF); reading goes on, `write()` throws. */
  writeEof(): void {
    if (this._closing || this._eofWritten) return;
    this._eofWritten = true;
    if (this._fd >= 0) this._reactor.native.shutdown(this._fd);
  }

  /** asyncio's `can_write_eof()`: always true for a socket. */
  canWriteEof(): boolean {
    return true;
  }

  /** asyncio's `abort()`: closes at once, dropping buffered bytes; `connectionLost(null)` follows. */
  abort(): void {
    this._closing = true;
    this._forceClose(null);
  }

  /** asyncio's `get_write_buffer_size()`: bytes written and not yet taken by the kernel. */
  getWriteBufferSize(): number {
    return this._fd < 0 ? 0 : this._reactor.native.buffered(this._fd);
  }

  /** asyncio's `get_write_buffer_limits()`: the marks `pauseWriting`/`resumeWriting` follow (64 KiB / 16 KiB by default). */
  getWriteBufferLimits(): { low: number; high: number } {
    return { low: this._low, high: this._high };
  }

  /**
   * asyncio's `set_write_buffer_limits()`: `high` defaults to 64 KiB, `low` to a quarter of
   * `high`; pauses or resumes the protocol at once if the buffer is now past a mark.
   */
  setWriteBufferLimits(high?: number, low?: number): void {
    const [h, l] = writeBufferLimits(high, low);
    const extra = this._ensureExtra();
    extra.high = h;
    extra.low = l;
    const size = this.getWriteBufferSize();
    if (!this._protocolPaused && size > h) this._pauseProtocol();
    else this._maybeResumeProtocol(size);
  }

  // --- internals -------------------------------------------------------------------------

  private _deliverHeld(): void {
    // After a close `_held` is null: close() and the descriptor's closing clear it.
    const held = this._held;
    this._held = null;
    try {
      if (held !== null) {
        for (const chunk of held) {
          // close() in dataReceived drops the rest, as it drops records arriving after it.
          if (this._closing) return;
          if (this._readingPaused) {
            (this._held ??= []).push(chunk);
            continue;
          }
          this._protocol.dataReceived(chunk);
        }
      }
      // A close (before this callback or in dataReceived) drops a held EOF as well.
      if (this._readingPaused || this._closing) return;
      if (this._heldEof) {
        this._heldEof = false;
        this._eofReceived();
      } else if (this._fd >= 0 && !this._eof) {
        this._reactor.native.reading(this._fd, true);
      }
    } catch (error) {
      this._fatalError(error, "Fatal error: protocol.dataReceived() call failed.");
    }
  }

  private _eofReceived(): void {
    // asyncio's _read_ready__on_eof: keep the write side open only if the protocol asks.
    const keepOpen = this._protocol.eofReceived();
    if (!keepOpen) this.close();
  }

  private _pauseProtocol(): void {
    this._protocolPaused = true;
    try {
      this._protocol.pauseWriting();
    } catch (error) {
      this._loop.callExceptionHandler({ message: "protocol.pauseWriting() failed", exception: error, transport: this });
    }
    if (this._fd >= 0) this._reactor.native.notify(this._fd, this._low);
  }

  private _maybeResumeProtocol(size: number): void {
    if (!this._protocolPaused) return;
    if (size > this._low) {
      // Bytes buffered: the descriptor is open (a closed one reports none).
      this._reactor.native.notify(this._fd, this._low);
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
    this._forceClose(error instanceof Error ? error : new Error(String(error)));
  }

  private _reset(): void {
    this._closing = true;
    this._closeFd(true);
    this._loseSoon(null);
  }

  /** asyncio's `_force_close`: the descriptor goes now, `connectionLost` in a loop callback. */
  private _forceClose(error: Error | null): void {
    if (this._fd < 0) return;
    this._closing = true;
    this._closeFd(false);
    this._loseSoon(error);
  }

  private _closeFd(reset: boolean): void {
    const fd = this._fd;
    if (fd < 0) return;
    this._fd = -1;
    this._held = null;
    // Stryker disable next-line ConditionalExpression: the slot is this transport's while it owns fd (the reactor's invariant); the check only keeps a broken invariant from freeing another's slot
    if (this._reactor.targets[fd] === this) this._reactor.targets[fd] = undefined;
    this._reactor.native.close(fd, reset);
  }

  private _loseSoon(error: Error | null): void {
    this._loop.callSoon(() => this._lose(error));
  }

  private _lose(error: Error | null): void {
    if (this._lost) return;
    this._lost = true;
    this._loop.unrefExternal();
    this._listener = null;
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

/** Node's AddressInfo from the addon's [address, port, family]. */
export function addressInfo(raw: [string, number, number] | null): { address: string; family: string; port: number } | string | undefined {
  if (raw === null) return undefined;
  if (raw[2] === 0) return raw[0];
  return { address: raw[0], family: raw[2] === 6 ? "IPv6" : "IPv4", port: raw[1] };
}

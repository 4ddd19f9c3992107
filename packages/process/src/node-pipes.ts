import { Buffer } from "node:buffer";
import type { Readable, Writable } from "node:stream";
import type { BaseProtocol, EventLoop, Protocol, ReadTransport, WriteTransport } from "@loop/core";

/** asyncio's default write-buffer limits (`_set_write_buffer_limits`): 64 KiB high, a quarter low. */
const DEFAULT_HIGH_WATER = 64 * 1024;
const EMPTY = Buffer.alloc(0);

/**
 * The parent's end of a child's stdout or stderr (asyncio's `_UnixReadPipeTransport`) over
 * the Node stream `node:child_process` made for it. Node's events reach the protocol in loop
 * callbacks. Unlike a socket, a read pipe closes itself at its end: `eofReceived`, then
 * `connectionLost(null)` once Node has closed the descriptor.
 *
 * Invariant: the transport holds one `refExternal` on its loop from creation until
 * `connectionLost`, since the pipe may bring more bytes until then.
 */
export class ReadPipeTransport implements ReadTransport {
  private _protocol: Protocol;
  private readonly _loop: EventLoop;
  private readonly _stream: Readable;
  private _paused = false;
  private _closing = false;
  private _lost = false;
  /** Chunks (and the end) that reached the loop while reading was paused, delivered on resume. */
  private _held: Buffer[] | null = null;
  private _heldEnd = false;
  private _error: Error | null = null;

  // Node's events waiting for the loop, delivered in arrival order by one loop callback
  // per batch: the end and the close always come after the data.
  private _incoming: Buffer[] = [];
  private _spare: Buffer[] = [];
  private _endArrived = false;
  private _closeArrived = false;
  private _flushQueued = false;
  private readonly _flush = (): void => this._deliverIncoming();

  constructor(loop: EventLoop, stream: Readable, protocol: Protocol) {
    this._loop = loop;
    this._stream = stream;
    this._protocol = protocol;
    loop.refExternal();
    stream.on("data", (chunk: Buffer) => {
      this._incoming.push(chunk);
      this._queueFlush();
    });
    stream.on("end", () => {
      this._endArrived = true;
      this._queueFlush();
    });
    stream.on("error", (error: Error) => (this._error ??= error));
    stream.on("close", () => {
      this._closeArrived = true;
      this._queueFlush();
    });
    // Before spawn's future resolves, as a network driver makes the connection before
    // its future does: the code that awaited the spawn finds its streams ready.
    protocol.connectionMade(this);
  }

  private _queueFlush(): void {
    if (this._flushQueued || this._loop.isClosed()) return;
    this._flushQueued = true;
    this._loop.callSoonThreadsafe(this._flush);
  }

  private _deliverIncoming(): void {
    this._flushQueued = false;
    const chunks = this._incoming;
    if (chunks.length > 0) {
      // Chunks that arrive meanwhile go to the other array (two arrays, swapped: no allocation per batch).
      this._incoming = this._spare;
      for (let i = 0; i < chunks.length; i++) this._data(chunks[i] as Buffer);
      chunks.length = 0;
      this._spare = chunks;
    }
    if (this._endArrived) {
      this._endArrived = false;
      this._end();
    }
    if (this._closeArrived) {
      this._closeArrived = false;
      this._closed();
    }
  }

  /** @internal */
  _data(chunk: Buffer): void {
    if (this._lost || this._closing) return;
    if (this._paused) (this._held ??= []).push(chunk);
    else this._protocol.dataReceived(chunk);
  }

  /** @internal */
  _end(): void {
    if (this._lost || this._closing) return;
    if (this._paused) {
      this._heldEnd = true;
      return;
    }
    this._protocol.eofReceived();
    this.close();
  }

  /** @internal */
  _closed(): void {
    if (this._lost) return;
    this._lost = true;
    this._closing = true;
    this._held = null;
    this._loop.unrefExternal();
    this._protocol.connectionLost(this._error);
  }

  close(): void {
    if (this._closing) return;
    this._closing = true;
    this._stream.destroy();
  }

  isClosing(): boolean {
    return this._closing;
  }

  getExtraInfo<T = unknown>(name: string, fallback?: T): T | undefined {
    return (name === "pipe" ? this._stream : fallback) as T | undefined;
  }

  setProtocol(protocol: BaseProtocol): void {
    this._protocol = protocol as Protocol;
  }

  getProtocol(): BaseProtocol {
    return this._protocol;
  }

  isReading(): boolean {
    return !this._paused && !this._closing;
  }

  pauseReading(): void {
    if (this._closing || this._paused) return;
    this._paused = true;
    this._stream.pause();
  }

  resumeReading(): void {
    if (this._closing || !this._paused) return;
    this._paused = false;
    // What reached the loop between the pause and Node noticing it goes first, from a
    // loop callback as always (never from inside resumeReading).
    if (this._held !== null || this._heldEnd) this._loop.callSoon(() => this._deliverHeld());
    else this._stream.resume();
  }

  private _deliverHeld(): void {
    const held = this._held;
    this._held = null;
    if (held !== null) {
      for (let i = 0; i < held.length; i++) {
        if (this._paused || this._closing) {
          (this._held ??= []).push(...held.slice(i));
          return;
        }
        this._protocol.dataReceived(held[i] as Buffer);
      }
    }
    if (this._paused || this._closing) return;
    if (this._heldEnd) {
      this._heldEnd = false;
      this._end();
    } else {
      this._stream.resume();
    }
  }
}

/**
 * The parent's end of a child's stdin (asyncio's `_UnixWritePipeTransport`). `write` never
 * blocks; past the high-water mark the protocol's `pauseWriting` is called, and
 * `resumeWriting` once Node has written the buffer down to the low one, so
 * `StreamWriter.drain()` follows the child's pace. The pipe closes when the child exits
 * (Node destroys it then) or when the child closes its end (EPIPE, given to `connectionLost`).
 */
export class WritePipeTransport implements WriteTransport {
  private _protocol: BaseProtocol;
  private readonly _loop: EventLoop;
  private readonly _stream: Writable;
  private _closing = false;
  private _lost = false;
  private _error: Error | null = null;
  private _high = DEFAULT_HIGH_WATER;
  private _low = DEFAULT_HIGH_WATER / 4;
  private _protocolPaused = false;
  private _flushPending = false;
  private readonly _flushedInLoop = (): void => this._flushed();
  private readonly _onFlushed = (): void => {
    if (!this._loop.isClosed()) this._loop.callSoonThreadsafe(this._flushedInLoop);
  };

  constructor(loop: EventLoop, stream: Writable, protocol: BaseProtocol) {
    this._loop = loop;
    this._stream = stream;
    this._protocol = protocol;
    loop.refExternal();
    stream.on("error", (error: Error) => (this._error ??= error));
    stream.on("close", () => {
      if (!this._loop.isClosed()) this._loop.callSoonThreadsafe(onWriteClose, this);
    });
    // Before spawn's future resolves, as a network driver makes the connection before
    // its future does: the code that awaited the spawn finds its streams ready.
    protocol.connectionMade(this);
  }

  /** @internal */
  _closed(): void {
    if (this._lost) return;
    this._lost = true;
    this._closing = true;
    this._loop.unrefExternal();
    this._protocol.connectionLost(this._error);
  }

  /** @internal */
  _flushed(): void {
    this._flushPending = false;
    this._maybeResume();
  }

  write(data: Uint8Array): void {
    if (this._closing || data.byteLength === 0) return;
    this._stream.write(data);
    if (!this._protocolPaused && this._stream.writableLength > this._high) {
      this._protocolPaused = true;
      this._protocol.pauseWriting();
      this._waitFlush();
    }
  }

  writelines(list: Iterable<Uint8Array>): void {
    for (const data of list) this.write(data);
  }

  /** A pipe has no half-close: the end of the input closes it, once the buffer is written. */
  writeEof(): void {
    this.close();
  }

  canWriteEof(): boolean {
    return true;
  }

  abort(): void {
    if (this._lost) return;
    this._closing = true;
    this._stream.destroy();
  }

  close(): void {
    if (this._closing) return;
    this._closing = true;
    this._stream.end();
  }

  isClosing(): boolean {
    return this._closing;
  }

  getWriteBufferSize(): number {
    return this._stream.writableLength;
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
    if (!this._protocolPaused && this._stream.writableLength > high) {
      this._protocolPaused = true;
      this._protocol.pauseWriting();
      this._waitFlush();
    } else {
      this._maybeResume();
    }
  }

  getExtraInfo<T = unknown>(name: string, fallback?: T): T | undefined {
    return (name === "pipe" ? this._stream : fallback) as T | undefined;
  }

  setProtocol(protocol: BaseProtocol): void {
    this._protocol = protocol;
  }

  getProtocol(): BaseProtocol {
    return this._protocol;
  }

  /** An empty write's callback runs once every byte written before it has left: the drain signal. */
  private _waitFlush(): void {
    if (this._flushPending || this._lost || this._stream.writableEnded) return;
    this._flushPending = true;
    this._stream.write(EMPTY, this._onFlushed);
  }

  private _maybeResume(): void {
    if (!this._protocolPaused || this._lost) return;
    if (this._stream.writableLength > this._low) {
      this._waitFlush();
      return;
    }
    this._protocolPaused = false;
    this._protocol.resumeWriting();
  }
}

function onWriteClose(transport: WritePipeTransport): void {
  transport._closed();
}

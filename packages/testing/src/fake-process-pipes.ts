import type { BaseProtocol, Coroutine, EventLoop, Future, Protocol, ReadTransport, WriteTransport } from "@loop/core";

const HIGH_WATER = 64 * 1024;
const LOW_WATER = HIGH_WATER / 4;
const EOF = null;
type Segment = Uint8Array | typeof EOF;

/**
 * The parent's end of a fake child's stdout or stderr. What the script writes is queued
 * and handed to the protocol from loop callbacks while reading is not paused; the end of
 * the stream comes after the bytes, then the pipe closes (`connectionLost(null)`).
 *
 * Invariant: `_queue` holds what the script wrote and the protocol has not been given,
 * in order, with at most one EOF, last; `_queued` counts its bytes.
 */
export class FakeReadPipe implements ReadTransport {
  private _protocol: Protocol;
  private readonly _loop: EventLoop;
  private readonly _queue: Segment[] = [];
  private _queued = 0;
  private _paused = false;
  private _closing = false;
  private _eofQueued = false;
  private _deliveryQueued = false;
  private _drainWaiters: Future<void>[] = [];

  constructor(loop: EventLoop, protocol: Protocol) {
    this._loop = loop;
    this._protocol = protocol;
    // Before spawn's future resolves, as a network driver makes the connection before
    // its future does: the code that awaited the spawn finds its streams ready.
    protocol.connectionMade(this);
  }

  // --- the script's side ---------------------------------------------------------------

  /** The script writes: queued for the parent (dropped once the parent closed its end). */
  push(data: Uint8Array): void {
    if (this._closing || this._eofQueued || data.byteLength === 0) return;
    this._queue.push(data.slice());
    this._queued += data.byteLength;
    this._scheduleDelivery();
  }

  /** The script's end closes (it exited, or closed its stdout). */
  end(): void {
    // Stryker disable next-line ConditionalExpression: a second EOF is never delivered, the first closes the pipe and empties the queue
    if (this._eofQueued) return;
    this._eofQueued = true;
    // Stryker disable next-line ConditionalExpression: once the parent closed its end nothing queued is delivered
    if (this._closing) return;
    this._queue.push(EOF);
    this._scheduleDelivery();
  }

  /** Waits while the parent holds more than a pipe's worth unread (it paused reading). */
  *drain(): Coroutine<void> {
    while (this._queued > HIGH_WATER && !this._closing) {
      const waiter = this._loop.createFuture<void>();
      waiter.label = "fake process: write to a full pipe";
      this._drainWaiters.push(waiter);
      yield* waiter;
    }
  }

  // --- ReadTransport -------------------------------------------------------------------

  close(): void {
    if (this._closing) return;
    this._closing = true;
    this._queue.length = 0;
    this._queued = 0;
    this._wakeWriters();
    this._loop.callSoon(() => this._lose());
  }

  isClosing(): boolean {
    return this._closing;
  }

  getExtraInfo<T = unknown>(_name: string, fallback?: T): T | undefined {
    return fallback;
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
    // Once closing, `_paused` no longer matters: nothing is delivered and resumeReading does nothing.
    this._paused = true;
  }

  resumeReading(): void {
    if (this._closing || !this._paused) return;
    this._paused = false;
    this._scheduleDelivery();
  }

  private _scheduleDelivery(): void {
    // Stryker disable next-line ConditionalExpression,BooleanLiteral: one queued delivery hands over everything queued; a second one would find nothing, this only saves the callback
    if (this._deliveryQueued) return;
    this._deliveryQueued = true;
    this._loop.callSoon(() => this._deliver());
  }

  private _deliver(): void {
    this._deliveryQueued = false;
    while (this._queue.length > 0 && !this._paused && !this._closing) {
      const segment = this._queue.shift() as Segment;
      if (segment === EOF) {
        this._protocol.eofReceived();
        this.close();
        break;
      }
      this._queued -= segment.byteLength;
      this._protocol.dataReceived(segment);
    }
    // Writers re-check the level in drain()'s loop: waking them when it is still high is harmless.
    this._wakeWriters();
  }

  private _wakeWriters(): void {
    const waiters = this._drainWaiters;
    this._drainWaiters = [];
    for (const waiter of waiters) if (!waiter.done()) waiter.setResult(undefined);
  }

  /** Runs once: close() schedules it, and close() runs only once. */
  private _lose(): void {
    this._protocol.connectionLost(null);
  }
}

/**
 * The parent's end of a fake child's stdin. Bytes wait in the child's buffer until the
 * script reads them; past 64 KiB unread the parent's protocol is paused (`drain()` waits),
 * and resumed once the script has read it down to 16 KiB: the backpressure of a pipe.
 */
export class FakeWritePipe implements WriteTransport {
  private _protocol: BaseProtocol;
  private readonly _loop: EventLoop;
  private readonly _buffer: Uint8Array[] = [];
  private _buffered = 0;
  private _eof = false;
  private _closing = false;
  private _lost = false;
  private _protocolPaused = false;
  private _high = HIGH_WATER;
  private _low = LOW_WATER;
  private _reader: Future<void> | null = null;

  constructor(loop: EventLoop, protocol: BaseProtocol) {
    this._loop = loop;
    this._protocol = protocol;
    // Before spawn's future resolves, as a network driver makes the connection before
    // its future does: the code that awaited the spawn finds its streams ready.
    protocol.connectionMade(this);
  }

  // --- the script's side ---------------------------------------------------------------

  /** The next bytes written to stdin, all that are there; an empty array at the end. */
  *read(): Coroutine<Uint8Array> {
    while (this._buffered === 0 && !this._eof) {
      const waiter = this._loop.createFuture<void>();
      waiter.label = "fake process: read from stdin";
      // Left set after the wait: a reader that is done is never woken again (_wakeReader).
      this._reader = waiter;
      yield* waiter;
    }
    const chunks = this._buffer.splice(0, this._buffer.length);
    this._buffered = 0;
    if (this._protocolPaused && !this._closing) {
      this._protocolPaused = false;
      this._loop.callSoon(() => this._protocol.resumeWriting());
    }
    // Stryker disable next-line ConditionalExpression: concat of one chunk is the same bytes; this only saves the copy
    return chunks.length === 1 ? (chunks[0] as Uint8Array) : concat(chunks);
  }

  /** The child exited: its end of the pipe is gone. */
  childExited(): void {
    this._eof = true;
    this._buffer.length = 0;
    this._buffered = 0;
    this._closing = true;
    this._loseSoon();
  }

  // --- WriteTransport ------------------------------------------------------------------

  write(data: Uint8Array): void {
    if (this._closing) return;
    // Stryker disable next-line ConditionalExpression: an empty chunk wakes a reader that finds nothing to read and waits again; this only saves the wakeup
    if (data.byteLength === 0) return;
    this._buffer.push(data.slice());
    this._buffered += data.byteLength;
    this._wakeReader();
    if (!this._protocolPaused && this._buffered > this._high) {
      this._protocolPaused = true;
      this._protocol.pauseWriting();
    }
  }

  writelines(list: Iterable<Uint8Array>): void {
    for (const data of list) this.write(data);
  }

  writeEof(): void {
    this.close();
  }

  canWriteEof(): boolean {
    return true;
  }

  abort(): void {
    this._buffer.length = 0;
    this._buffered = 0;
    this.close();
  }

  close(): void {
    this._closing = true;
    this._eof = true;
    this._wakeReader();
    this._loseSoon();
  }

  isClosing(): boolean {
    return this._closing;
  }

  getWriteBufferSize(): number {
    return this._buffered;
  }

  getWriteBufferLimits(): { low: number; high: number } {
    return { low: this._low, high: this._high };
  }

  setWriteBufferLimits(high?: number, low?: number): void {
    if (high === undefined) high = low === undefined ? HIGH_WATER : 4 * low;
    if (low === undefined) low = Math.floor(high / 4);
    if (!(high >= low && low >= 0)) throw new RangeError(`setWriteBufferLimits(high, low): need high (${high}) >= low (${low}) >= 0`);
    this._high = high;
    this._low = low;
  }

  getExtraInfo<T = unknown>(_name: string, fallback?: T): T | undefined {
    return fallback;
  }

  setProtocol(protocol: BaseProtocol): void {
    this._protocol = protocol;
  }

  getProtocol(): BaseProtocol {
    return this._protocol;
  }

  private _wakeReader(): void {
    const reader = this._reader;
    if (reader !== null && !reader.done()) reader.setResult(undefined);
  }

  private _loseSoon(): void {
    if (this._lost) return;
    this._lost = true;
    this._loop.callSoon(() => this._protocol.connectionLost(null));
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  let size = 0;
  for (const chunk of chunks) size += chunk.byteLength;
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

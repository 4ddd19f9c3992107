import { Buffer } from "node:buffer";
import { getRunningLoop, type Coroutine, type EventLoop, type Future, type ReadTransport } from "@loop/core";
import { IncompleteReadError, LimitOverrunError } from "./errors.js";

/** asyncio's `_DEFAULT_LIMIT`: 64 KiB. */
export const DEFAULT_LIMIT = 65_536;

const EMPTY: Buffer = Buffer.alloc(0);
const NEWLINE: Buffer = Buffer.from("\n");

/** Options of `new StreamReader()`. */
export interface StreamReaderOptions {
  /** The most bytes `readuntil`/`readline` look through for a separator; 64 KiB by default. */
  limit?: number;
  /** The loop whose futures the reader waits on; the running loop by default. */
  loop?: EventLoop;
}

/** Validates a `limit` option at the call, before any coroutine runs (docs/design.md#time-errors-and-other-fixed-details). */
export function checkLimit(where: string, limit: unknown): number {
  if (limit === undefined) return DEFAULT_LIMIT;
  if (typeof limit !== "number") throw new TypeError(`${where}: limit must be a number of bytes, got ${typeof limit}`);
  if (!(limit > 0) || !Number.isFinite(limit)) throw new RangeError(`${where}: limit must be a positive number of bytes, got ${limit}`);
  return Math.floor(limit);
}

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * The reading end of a stream (asyncio.StreamReader). The protocol feeds it bytes with
 * `feedData`/`feedEof`; coroutines take them with `read`, `readline`, `readexactly` and
 * `readuntil`. Only one coroutine may wait for data at a time.
 *
 * The buffer is a list of the chunks that arrived, not a copy of them: a read that falls
 * inside one chunk returns a view of it, so the common case (a whole request in one
 * chunk) copies nothing. Chunks are only joined when a read or a separator spans them.
 * `feedData` therefore takes ownership of the bytes it is given.
 *
 * Flow control as asyncio's: past twice the limit of unread bytes the reader pauses its
 * transport, and resumes it once reads bring the buffer back to the limit.
 * @example
 * const [reader, writer] = yield* openConnection("127.0.0.1", 6379);
 * const line = yield* reader.readline();
 */
export class StreamReader {
  /** Where this reader's bytes come from, for future labels ("from 127.0.0.1:6379"). */
  source = "";

  private readonly _limit: number;
  private readonly _loop: EventLoop;
  // Invariant: chunks[head..] are the unread bytes, the first starting at `offset`;
  // `size` is their total length. Consumed slots before `head` are dropped in bulk.
  private _chunks: Buffer[] = [];
  private _head = 0;
  private _offset = 0;
  private _size = 0;
  private _eof = false;
  private _waiter: Future<void> | null = null;
  private _failed = false;
  private _exception: unknown = null;
  private _transport: ReadTransport | null = null;
  private _paused = false;
  // The label of the last wait, kept for the next one (nearly always the same method).
  private _labelName = "";
  private _labelText = "";

  constructor(opts?: StreamReaderOptions) {
    if (opts !== undefined && (typeof opts !== "object" || opts === null)) {
      throw new TypeError("new StreamReader(opts): opts must be an object like { limit }");
    }
    this._limit = checkLimit("new StreamReader({ limit })", opts?.limit);
    this._loop = opts?.loop ?? getRunningLoop();
  }

  /** The limit given at construction. */
  get limit(): number {
    return this._limit;
  }

  /** How many unread bytes are buffered. */
  get bufferedSize(): number {
    return this._size;
  }

  /** The error set by `setException` (the connection's error), or null. */
  exception(): unknown {
    return this._exception;
  }

  /** Fails the pending and all later reads with `error`. */
  setException(error: unknown): void {
    this._failed = true;
    this._exception = error;
    const waiter = this._waiter;
    if (waiter !== null) {
      this._waiter = null;
      if (!waiter.cancelled()) waiter.setException(error);
    }
  }

  /** The transport this reader pauses and resumes; set by the protocol (again after startTls). */
  setTransport(transport: ReadTransport): void {
    this._transport = transport;
    if (this._paused) transport.pauseReading();
  }

  /** Marks the end of the stream: reads return what is left, then end. */
  feedEof(): void {
    this._eof = true;
    this._wakeupWaiter();
  }

  /** True when the stream ended and every byte was read. */
  atEof(): boolean {
    return this._eof && this._size === 0;
  }

  /** Appends bytes (the reader keeps a reference to them: do not reuse the array). */
  feedData(data: Uint8Array): void {
    if (this._eof) throw new Error("StreamReader.feedData: data fed after feedEof()");
    const length = data.byteLength;
    if (length === 0) return;
    this._chunks.push(asBuffer(data));
    this._size += length;
    this._wakeupWaiter();
    if (this._transport !== null && !this._paused && this._size > 2 * this._limit) {
      this._paused = true;
      this._transport.pauseReading();
    }
  }

  /**
   * Reads up to `n` bytes, waiting until at least one is there; with `n` < 0 (the
   * default), reads until the end of the stream. At the end it returns an empty array.
   */
  read(n = -1): Coroutine<Uint8Array> {
    checkInteger("StreamReader.read(n)", n);
    return this._read(n);
  }

  /**
   * Reads one line, "\n" included. At the end of the stream it returns the partial last
   * line (empty when nothing is left). A line longer than the limit throws
   * `LimitOverrunError` after dropping it (asyncio raises ValueError there).
   */
  readline(): Coroutine<Uint8Array> {
    return this._readuntil(NEWLINE, true);
  }

  /** Reads exactly `n` bytes; `IncompleteReadError` (with the bytes read) if the stream ends first. */
  readexactly(n: number): Coroutine<Uint8Array> {
    checkInteger("StreamReader.readexactly(n)", n);
    if (n < 0) throw new RangeError(`StreamReader.readexactly(n): n must be 0 or more, got ${n}`);
    return this._readexactly(n);
  }

  /**
   * Reads up to and including `separator` (a string, encoded as UTF-8, or bytes).
   * `IncompleteReadError` with what was left if the stream ends first;
   * `LimitOverrunError` when the limit is reached first (the bytes stay buffered).
   */
  readuntil(separator: string | Uint8Array = NEWLINE): Coroutine<Uint8Array> {
    let sep: Buffer;
    if (typeof separator === "string") sep = separator === "\n" ? NEWLINE : Buffer.from(separator);
    else if (separator instanceof Uint8Array) sep = asBuffer(separator);
    else throw new TypeError(`StreamReader.readuntil(separator): separator must be a string or a Uint8Array, got ${typeof separator}`);
    if (sep.length === 0) throw new RangeError("StreamReader.readuntil(separator): the separator must be at least one byte long");
    return this._readuntil(sep, false);
  }

  private *_read(n: number): Coroutine<Uint8Array> {
    if (this._failed) throw this._exception;
    if (n === 0) return EMPTY;
    if (n < 0) {
      // asyncio reads limit-sized blocks until EOF and joins them.
      const blocks: Buffer[] = [];
      let total = 0;
      for (;;) {
        if (this._size === 0 && !this._eof) {
          const waiter = this._newWaiter("read");
          try {
            yield* waiter;
          } finally {
            this._waiter = null;
          }
        }
        if (this._size === 0) break;
        const block = this._take(this._size);
        blocks.push(block);
        total += block.length;
        this._maybeResumeTransport();
      }
      return blocks.length === 1 ? (blocks[0] as Buffer) : Buffer.concat(blocks, total);
    }
    if (this._size === 0 && !this._eof) {
      const waiter = this._newWaiter("read");
      try {
        yield* waiter;
      } finally {
        this._waiter = null;
      }
    }
    if (this._size === 0) return EMPTY;
    const data = this._take(Math.min(n, this._size));
    this._maybeResumeTransport();
    return data;
  }

  private *_readexactly(n: number): Coroutine<Uint8Array> {
    if (this._failed) throw this._exception;
    if (n === 0) return EMPTY;
    while (this._size < n) {
      if (this._eof) {
        const partial = this._take(this._size);
        throw new IncompleteReadError(partial, n);
      }
      {
        const waiter = this._newWaiter("readexactly");
        try {
          yield* waiter;
        } finally {
          this._waiter = null;
        }
      }
    }
    const data = this._take(n);
    this._maybeResumeTransport();
    return data;
  }

  /** asyncio's `readuntil`, and `readline` when `line` is set (its error handling folded in). */
  private *_readuntil(sep: Buffer, line: boolean): Coroutine<Uint8Array> {
    if (this._failed) throw this._exception;
    const seplen = sep.length;
    let offset = 0;
    let found: number;
    for (;;) {
      if (this._size - offset >= seplen) {
        found = this._find(sep, offset);
        if (found !== -1) break;
        // The separator may start in the last seplen-1 bytes: search again from there.
        offset = this._size + 1 - seplen;
        if (offset > this._limit) {
          return this._overrun(new LimitOverrunError("Separator is not found, and chunk exceed the limit", offset), sep, line);
        }
      }
      if (this._eof) {
        const partial = this._take(this._size);
        if (line) return partial;
        throw new IncompleteReadError(partial, null);
      }
      {
        const waiter = this._newWaiter(line ? "readline" : "readuntil");
        try {
          yield* waiter;
        } finally {
          this._waiter = null;
        }
      }
      if (this._failed) throw this._exception;
    }
    if (found > this._limit) {
      return this._overrun(new LimitOverrunError("Separator is found, but chunk is longer than limit", found), sep, line);
    }
    const data = this._take(found + seplen);
    this._maybeResumeTransport();
    return data;
  }

  /** readuntil leaves the bytes for the caller; readline drops the overlong line, as asyncio does. */
  private _overrun(error: LimitOverrunError, sep: Buffer, line: boolean): never {
    if (line) {
      const first = this._coalesce();
      if (first.indexOf(sep, this._offset + error.consumed) === this._offset + error.consumed) this._take(error.consumed + sep.length);
      else this._take(this._size);
      this._maybeResumeTransport();
    }
    throw error;
  }

  /**
   * asyncio's `_wait_for_data`, minus the await: makes the waiter the caller yields on
   * (one generator less per wait on the hot path); the caller clears `_waiter` after.
   * One waiter at a time, and a paused transport is resumed first, or a reader waiting
   * for a separator beyond 2 × limit would wait forever.
   */
  private _newWaiter(funcName: string): Future<void> {
    if (this._waiter !== null) {
      throw new Error(`StreamReader.${funcName}() called while another coroutine is already waiting for incoming data`);
    }
    if (this._paused) {
      this._paused = false;
      this._transport?.resumeReading();
    }
    const waiter = this._loop.createFuture<void>();
    waiter.label = this._label(funcName);
    this._waiter = waiter;
    return waiter;
  }

  private _label(funcName: string): string {
    if (this._labelName !== funcName || !this._labelText.endsWith(this.source)) {
      this._labelName = funcName;
      this._labelText = this.source === "" ? `StreamReader.${funcName}` : `StreamReader.${funcName} from ${this.source}`;
    }
    return this._labelText;
  }

  private _wakeupWaiter(): void {
    const waiter = this._waiter;
    if (waiter !== null) {
      this._waiter = null;
      if (!waiter.cancelled()) waiter.setResult(undefined);
    }
  }

  private _maybeResumeTransport(): void {
    if (this._paused && this._size <= this._limit) {
      this._paused = false;
      this._transport?.resumeReading();
    }
  }

  /** Joins the unread chunks into one (only when a search spans chunks) and returns it. */
  private _coalesce(): Buffer {
    const chunks = this._chunks;
    if (chunks.length - this._head > 1) {
      const first = chunks[this._head] as Buffer;
      const parts: Buffer[] = [this._offset === 0 ? first : first.subarray(this._offset)];
      for (let i = this._head + 1; i < chunks.length; i++) parts.push(chunks[i] as Buffer);
      this._chunks = [Buffer.concat(parts, this._size)];
      this._head = 0;
      this._offset = 0;
    }
    return this._chunks[this._head] as Buffer;
  }

  /** The position of `sep` at or after `start` (relative to the unread bytes), or -1. */
  private _find(sep: Buffer, start: number): number {
    const buf = this._coalesce();
    const at = buf.indexOf(sep, this._offset + start);
    return at === -1 ? -1 : at - this._offset;
  }

  /** Removes and returns the first `n` unread bytes (n <= size): a view when they lie in one chunk. */
  private _take(n: number): Buffer {
    if (n === 0) return EMPTY;
    const chunks = this._chunks;
    let first = chunks[this._head] as Buffer;
    const available = first.length - this._offset;
    if (n <= available) {
      if (n === first.length) {
        // The whole chunk, untouched: hand it over as it is.
        this._size -= n;
        this._dropHead();
        return first;
      }
      const view = first.subarray(this._offset, this._offset + n);
      this._size -= n;
      if (n === available) this._dropHead();
      else this._offset += n;
      return view;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      first = chunks[this._head] as Buffer;
      const part = Math.min(first.length - this._offset, n - filled);
      first.copy(out, filled, this._offset, this._offset + part);
      filled += part;
      if (this._offset + part === first.length) this._dropHead();
      else this._offset += part;
    }
    this._size -= n;
    return out;
  }

  private _dropHead(): void {
    this._offset = 0;
    if (++this._head === this._chunks.length) {
      this._chunks.length = 0;
      this._head = 0;
    } else if (this._head >= 64 && this._head * 2 >= this._chunks.length) {
      this._chunks = this._chunks.slice(this._head);
      this._head = 0;
    }
  }
}

function checkInteger(where: string, n: unknown): void {
  if (typeof n !== "number") throw new TypeError(`${where}: n must be a number of bytes, got ${typeof n}`);
  if (!Number.isInteger(n)) throw new RangeError(`${where}: n must be an integer, got ${n}`);
}

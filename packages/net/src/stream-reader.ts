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
 * What the reader keeps of a chunk. A small view of a much larger store is copied first:
 * the selector driver hands reads over as views of a 256 KiB slab, and a few unread bytes
 * (a slow reader, a client that sends half a line and waits) must not keep that slab
 * alive. The reader's limit counts bytes, so what it holds may cost at most about 4× what
 * it counts. Stores from Node's driver are the size of their read, and pass as they are.
 */
function ownedChunk(data: Uint8Array): Buffer {
  const store = data.buffer.byteLength;
  // A store no bigger than Node's own Buffer pool (8 KiB, 64 KiB from Node 24) costs what
  // `Buffer.allocUnsafe` would.
  if (store > Buffer.poolSize && store > 4 * data.byteLength) return Buffer.from(data);
  return asBuffer(data);
}

/**
 * The reading end of a stream (asyncio.StreamReader). The protocol feeds it bytes with
 * `feedData`/`feedEof`; coroutines take them with `read`, `readline`, `readexactly` and
 * `readuntil`. Only one coroutine may wait for data at a time.
 *
 * The buffer is a list of the chunks that arrived, not a copy of them: a read that falls
 * inside one chunk returns a view of it, so the common case (a whole request in one
 * chunk) copies nothing. Chunks are only joined when a read or a separator spans them.
 * `feedData` therefore takes ownership of the bytes it is given; a small view of a much
 * larger buffer (a read slab) is copied instead, so that memory stays bounded by the bytes
 * the reader counts.
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
  // Invariant: the unread bytes are `_first` from `_offset` on, then `_rest[_head..]`;
  // `size` is their total length. `_first` is null only when nothing is buffered, and
  // `_rest` is null unless a chunk waits behind the first: a reader that keeps up (and
  // every idle one) holds no array.
  private _first: Buffer | null = null;
  private _rest: Buffer[] | null = null;
  private _head = 0;
  private _offset = 0;
  private _size = 0;
  /** EOF, FAILED and PAUSED, one bit each, and the kind of the cached label: every field is paid by each idle connection. */
  private _flags = 0;
  /** @internal */ _waiter: Future<void> | null = null;
  /** @internal */ _exception: unknown = null;
  private _transport: ReadTransport | null = null;
  // The label of the last wait, kept for the next one (nearly always the same method), and
  // the source it was made with; which method it names is in `_flags`. Checked without
  // reading the label's text, which would flatten it: a rope sharing `source` is 32 bytes,
  // its flat copy 56 more.
  // Stryker disable next-line StringLiteral: never read before `_label` sets it (the kind bits start at 0, "no label yet")
  private _labelText = "";
  // Stryker disable next-line StringLiteral: never read before `_label` sets it (the kind bits start at 0, "no label yet")
  private _labelSource = "";

  constructor(opts?: StreamReaderOptions) {
    if (opts !== undefined && (typeof opts !== "object" || opts === null)) {
      throw new TypeError("new StreamReader(opts): opts must be an object like { limit }");
    }
    this._limit = checkLimit("new StreamReader({ limit })", opts?.limit);
    this._loop = opts?.loop ?? getRunningLoop();
  }

  /** @internal */
  private get _eof(): boolean {
    return (this._flags & EOF) !== 0;
  }
  /** @internal setException was called: every read throws `_exception`. */
  get _failed(): boolean {
    return (this._flags & FAILED) !== 0;
  }
  /** @internal The transport was paused by this reader (more than twice the limit buffered). */
  private get _paused(): boolean {
    return (this._flags & PAUSED) !== 0;
  }
  /** @internal */
  private set _paused(on: boolean) {
    this._flags = on ? this._flags | PAUSED : this._flags & ~PAUSED;
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
    this._flags |= FAILED;
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
    this._flags |= EOF;
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
    const chunk = ownedChunk(data);
    if (this._first === null) this._first = chunk;
    else (this._rest ??= []).push(chunk);
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
    if (n < 0) return this._readAll();
    return new ReadOperation(this, READ, n) as unknown as Coroutine<Uint8Array>;
  }

  /**
   * Reads one line, "\n" included. At the end of the stream it returns the partial last
   * line (empty when nothing is left). A line longer than the limit throws
   * `LimitOverrunError` after dropping it (asyncio raises ValueError there).
   */
  readline(): Coroutine<Uint8Array> {
    return new ReadOperation(this, LINE, 0) as unknown as Coroutine<Uint8Array>;
  }

  /** Reads exactly `n` bytes; `IncompleteReadError` (with the bytes read) if the stream ends first. */
  readexactly(n: number): Coroutine<Uint8Array> {
    checkInteger("StreamReader.readexactly(n)", n);
    if (n < 0) throw new RangeError(`StreamReader.readexactly(n): n must be 0 or more, got ${n}`);
    return new ReadOperation(this, EXACTLY, n) as unknown as Coroutine<Uint8Array>;
  }

  /**
   * Reads up to and including `separator` (a string, encoded as UTF-8, or bytes).
   * `IncompleteReadError` with what was left if the stream ends first;
   * `LimitOverrunError` when the limit is reached first (the bytes stay buffered).
   */
  readuntil(separator: string | Uint8Array = NEWLINE): Coroutine<Uint8Array> {
    let sep: Buffer;
    if (typeof separator === "string") sep = Buffer.from(separator);
    else if (separator instanceof Uint8Array) sep = asBuffer(separator);
    else throw new TypeError(`StreamReader.readuntil(separator): separator must be a string or a Uint8Array, got ${typeof separator}`);
    if (sep.length === 0) throw new RangeError("StreamReader.readuntil(separator): the separator must be at least one byte long");
    return new ReadUntilOperation(this, sep) as unknown as Coroutine<Uint8Array>;
  }

  /** `read(n)` with n < 0: asyncio reads limit-sized blocks until EOF and joins them. */
  private *_readAll(): Coroutine<Uint8Array> {
    if (this._failed) throw this._exception;
    const blocks: Buffer[] = [];
    let total = 0;
    for (;;) {
      if (this._size === 0 && !this._eof) {
        const waiter = this._newWaiter(READ);
        try {
          yield* waiter;
        } finally {
          if (this._waiter === waiter) this._waiter = null;
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

  /**
   * @internal One attempt of a `ReadOperation`: the bytes it returns, or null when it must
   * wait for more (asyncio's `read`, `readexactly` and `readuntil` up to their
   * `_wait_for_data`). Throws as they do.
   */
  _attempt(op: ReadOperation): Uint8Array | null {
    switch (op._kind) {
      case READ: {
        if (this._size === 0) return this._eof ? EMPTY : null;
        const data = this._take(Math.min(op._n, this._size));
        this._maybeResumeTransport();
        return data;
      }
      case EXACTLY: {
        const n = op._n;
        if (this._size < n) {
          if (!this._eof) return null;
          const partial = this._take(this._size);
          throw new IncompleteReadError(partial, n);
        }
        const data = this._take(n);
        this._maybeResumeTransport();
        return data;
      }
      default:
        return this._attemptUntil(op);
    }
  }

  /** `readuntil`, and `readline` when the kind says so (asyncio's error handling folded in). */
  private _attemptUntil(op: ReadOperation): Uint8Array | null {
    const sep = op._separator();
    const line = op._kind === LINE;
    const seplen = sep.length;
    // `_n` is where the next search starts: the separator may begin in the last seplen-1
    // bytes already looked through.
    if (this._size - op._n >= seplen) {
      const found = this._find(sep, op._n);
      if (found !== -1) {
        if (found > this._limit) {
          return this._overrun(new LimitOverrunError("Separator is found, but chunk is longer than limit", found), sep, line);
        }
        const data = this._take(found + seplen);
        this._maybeResumeTransport();
        return data;
      }
      op._n = this._size + 1 - seplen;
      if (op._n > this._limit) {
        return this._overrun(new LimitOverrunError("Separator is not found, and chunk exceed the limit", op._n), sep, line);
      }
    }
    if (!this._eof) return null;
    const partial = this._take(this._size);
    if (line) return partial;
    throw new IncompleteReadError(partial, null);
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
   * @internal asyncio's `_wait_for_data`, minus the await: makes the waiter the caller
   * yields on; the caller clears `_waiter` after, unless another waiter took its place.
   * One waiter at a time, and a paused transport is resumed first, or a reader waiting
   * for a separator beyond 2 × limit would wait forever.
   */
  _newWaiter(kind: number): Future<void> {
    if (this._waiter !== null) {
      throw new Error(`StreamReader.${WAIT_NAMES[kind] as string}() called while another coroutine is already waiting for incoming data`);
    }
    if (this._paused) {
      this._paused = false;
      // Only a reader with a transport pauses, and a transport is never taken away.
      (this._transport as ReadTransport).resumeReading();
    }
    const waiter = this._loop.createFuture<void>();
    waiter.label = this._label(kind);
    this._waiter = waiter;
    return waiter;
  }

  private _label(kind: number): string {
    const source = this.source;
    const labelled = (this._flags >> LABEL_SHIFT) - 1;
    if (labelled !== kind || this._labelSource !== source) {
      // One concatenation of a shared prefix: a single rope node over `source`.
      this._labelText = source === "" ? (BARE_LABELS[kind] as string) : (LABEL_PREFIXES[kind] as string) + source;
      this._labelSource = source;
      this._flags = (this._flags & ((1 << LABEL_SHIFT) - 1)) | ((kind + 1) << LABEL_SHIFT);
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
      (this._transport as ReadTransport).resumeReading();
    }
  }

  /** Joins the unread chunks into one (only when a search spans chunks) and returns it. */
  private _coalesce(): Buffer {
    const first = this._first as Buffer;
    const rest = this._rest;
    if (rest === null) return first;
    const parts: Buffer[] = [first.subarray(this._offset)];
    for (let i = this._head; i < rest.length; i++) parts.push(rest[i] as Buffer);
    const joined = Buffer.concat(parts, this._size);
    this._first = joined;
    this._rest = null;
    this._head = 0;
    this._offset = 0;
    return joined;
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
    let first = this._first as Buffer;
    const available = first.length - this._offset;
    if (n <= available) {
      if (n === first.length) {
        // The whole chunk, untouched: hand it over as it is.
        this._size -= n;
        this._dropFirst();
        return first;
      }
      const view = first.subarray(this._offset, this._offset + n);
      this._size -= n;
      if (n === available) this._dropFirst();
      else this._offset += n;
      return view;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      first = this._first as Buffer;
      const part = Math.min(first.length - this._offset, n - filled);
      first.copy(out, filled, this._offset, this._offset + part);
      filled += part;
      if (this._offset + part === first.length) this._dropFirst();
      else this._offset += part;
    }
    this._size -= n;
    return out;
  }

  /** The first chunk is consumed: the next one takes its place (none: the reader holds nothing). */
  private _dropFirst(): void {
    this._offset = 0;
    const rest = this._rest;
    if (rest === null) {
      this._first = null;
      return;
    }
    this._first = rest[this._head] as Buffer;
    if (++this._head === rest.length) {
      this._rest = null;
      this._head = 0;
    } else if (this._head >= 64 && this._head * 2 >= rest.length) {
      this._rest = rest.slice(this._head);
      this._head = 0;
    }
  }
}

// The bits of StreamReader._flags.
const EOF = 1;
const FAILED = 2;
const PAUSED = 4;
/** The bits from here up: 1 + the kind of read the cached wait label names (0: none yet). */
const LABEL_SHIFT = 3;

const READ = 0;
const EXACTLY = 1;
const UNTIL = 2;
const LINE = 3;

const FRESH = 0;
const WAITING = 1;
const FINISHED = 2;

const WAIT_NAMES = ["read", "readexactly", "readuntil", "readline"];
const BARE_LABELS = WAIT_NAMES.map((name) => `StreamReader.${name}`);
const LABEL_PREFIXES = WAIT_NAMES.map((name) => `StreamReader.${name} from `);

/**
 * `read(n)`, `readexactly(n)`, `readuntil(sep)` and `readline()` written out as a small
 * state machine instead of a `function*`: a reader that waits for data (every idle
 * connection of a server) holds this object and the future it yields, where a generator
 * would hold its frame and register file as well. It implements the generator protocol
 * (`next`, `throw`, `return`, iterable), so it can be `yield*`ed or run as a task, and
 * behaves as the generator it replaces: the first `next()` checks the reader's error and
 * tries; each wait yields a fresh waiter; `throw`/`return` while waiting give it up and
 * take no bytes, so a cancelled read loses nothing.
 *
 * @internal
 */
class ReadOperation {
  _future: Future<void> | null = null;
  /** The kind (READ, EXACTLY, UNTIL, LINE) in the low two bits, the state above them: one field less per idle reader. */
  private _mode: number;

  constructor(
    readonly _reader: StreamReader,
    kind: number,
    /** READ, EXACTLY: how many bytes; UNTIL, LINE: where the next separator search starts. */
    public _n: number,
  ) {
    this._mode = kind | (FRESH << 2);
  }

  /** What UNTIL and LINE look for: "\n" here, the separator given in `ReadUntilOperation`. */
  _separator(): Buffer {
    return NEWLINE;
  }

  /** @internal */
  get _kind(): number {
    return this._mode & 3;
  }

  /** @internal */
  get _state(): number {
    return this._mode >> 2;
  }

  /** @internal */
  set _state(state: number) {
    this._mode = (this._mode & 3) | (state << 2);
  }

  next(): IteratorResult<Future<unknown> | undefined, Uint8Array> {
    const reader = this._reader;
    if (this._state === WAITING) {
      const future = this._future as Future<void>;
      // The generator this replaces did `yield* waiter`: resumed early it waits again, and
      // a failed or cancelled waiter throws (through the future's own iterator).
      let step: IteratorResult<Future<unknown> | undefined, void>;
      try {
        step = future.next();
      } catch (error) {
        this._leave();
        throw error;
      }
      if (step.done !== true) return step;
      this._leave();
      if (this._kind >= UNTIL && reader._failed) throw reader._exception;
    } else if (this._state === FRESH) {
      this._state = FINISHED; // until it waits: a throw ends the operation
      if (reader._failed) throw reader._exception;
      // read(0) returns at once, as asyncio's does; readexactly(0) gets the same from `_take(0)`.
      if (this._n === 0 && this._kind === READ) return { done: true, value: EMPTY };
    } else {
      return { done: true, value: undefined as unknown as Uint8Array };
    }
    const data = reader._attempt(this);
    if (data !== null) return { done: true, value: data };
    const future = reader._newWaiter(this._kind);
    this._future = future;
    this._state = WAITING;
    try {
      // Yields the future through its own iterator, which refuses a wait outside a task
      // and, in debug mode, records where the task is suspended.
      return future.next() as IteratorYieldResult<Future<unknown> | undefined>;
    } catch (error) {
      this._leave();
      throw error;
    }
  }

  // `_leave` is harmless in any state: `_future` is null unless WAITING.
  throw(error: unknown): never {
    this._leave();
    throw error;
  }

  return(value: Uint8Array): IteratorReturnResult<Uint8Array> {
    this._leave();
    return { done: true, value };
  }

  [Symbol.iterator](): this {
    return this;
  }

  /** The generator's `finally`: the reader no longer points at this wait's future. */
  private _leave(): void {
    const reader = this._reader;
    if (reader._waiter === this._future) reader._waiter = null;
    this._future = null;
    this._state = FINISHED;
  }
}

/** @internal `readuntil(separator)`: the one kind of read that carries a separator of its own. */
class ReadUntilOperation extends ReadOperation {
  constructor(
    reader: StreamReader,
    private readonly _sep: Buffer,
  ) {
    super(reader, UNTIL, 0);
  }

  override _separator(): Buffer {
    return this._sep;
  }
}

function checkInteger(where: string, n: unknown): void {
  if (typeof n !== "number") throw new TypeError(`${where}: n must be a number of bytes, got ${typeof n}`);
  if (!Number.isInteger(n)) throw new RangeError(`${where}: n must be an integer, got ${n}`);
}

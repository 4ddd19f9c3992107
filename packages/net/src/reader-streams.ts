import { CancelledError, currentTask, type Coroutine, type Stream, type Subscription, type Task } from "@loop/core";
import { StreamReader } from "./stream-reader.js";

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined }) as IteratorReturnResult<undefined>;

function checkReader(where: string, reader: unknown): void {
  if (!(reader instanceof StreamReader)) throw new TypeError(`${where}: reader must be a StreamReader (from openConnection, startServer or a subprocess)`);
}

/**
 * A stream of the bytes of `reader`, in chunks of at most `size` bytes (default 64 KiB) as
 * they arrive (`reader.read(size)` per pull), until the end of the stream. Nothing is read
 * ahead of the consumer beyond the reader's own buffer, which pauses the transport past
 * its limit. Releasing the stream leaves the reader as it is, for other reads.
 * @example
 * for (const chunk of yield* each(chunks(reader))) {
 *   writer.write(chunk);
 *   yield* writer.drain();
 *   yield* each.next();
 * }
 */
export function chunks(reader: StreamReader, size = 65_536): Stream<Uint8Array> {
  checkReader("chunks(reader, size)", reader);
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(`chunks(reader, size): size must be an integer >= 1 (bytes), got ${String(size)}`);
  }
  return { subscribe: () => new ReaderSubscription(reader, size, false) };
}

/**
 * A stream of the lines of `reader` as strings (UTF-8), without their `\n` or `\r\n`,
 * until the end of the stream; a last line without a newline is included. A line longer
 * than the reader's limit fails the stream with `LimitOverrunError`, as `readline()` does.
 * @example
 * for (const line of yield* each(lines(reader))) {
 *   if (line === "QUIT") break;
 *   writer.write(`echo: ${line}\n`);
 *   yield* each.next();
 * }
 */
export function lines(reader: StreamReader): Stream<string> {
  checkReader("lines(reader)", reader);
  return { subscribe: () => new ReaderSubscription<string>(reader, 0, true) };
}

class ReaderSubscription<T> implements Subscription<T> {
  _ended = false;
  /** True while the consumer is inside a read of this subscription. */
  _reading = false;
  readonly _decoder = new TextDecoder();

  constructor(
    readonly _reader: StreamReader,
    readonly _size: number,
    readonly _lines: boolean,
  ) {}

  *next(): Coroutine<IteratorResult<T, undefined>> {
    if (this._ended) return DONE;
    let data: Uint8Array;
    this._reading = true;
    try {
      data = this._lines ? yield* this._reader.readline() : yield* this._reader.read(this._size);
    } catch (error) {
      const released = this._ended;
      this._ended = true;
      // A return() from another task cancelled the wait for data, and no cancel() of the
      // consumer's task came with it: the end of the stream (the reader keeps its bytes).
      if (released && error instanceof CancelledError && (currentTask() as Task<unknown>).cancelling() === 0) return DONE;
      throw error;
    } finally {
      this._reading = false;
    }
    if (data.byteLength === 0) {
      this._ended = true;
      return DONE;
    }
    if (!this._lines) return { done: false, value: data as T };
    let end = data.byteLength;
    if (data[end - 1] === 0x0a) end--;
    // A line of just "\n" leaves end at 0, and data[-1] is undefined: no bounds check needed.
    if (data[end - 1] === 0x0d) end--;
    return { done: false, value: this._decoder.decode(data.subarray(0, end)) as T };
  }

  return(): void {
    this._ended = true;
    // A consumer waiting for data (a release from another task) sees the end: the reader's
    // wait is cancelled, as asyncio's readline() cancelled leaves the buffer as it was.
    const waiter = this._reader._waiter;
    // (A waiter already woken by data is null here; cancel() of a done one would do nothing.)
    if (this._reading && waiter !== null) waiter.cancel("the stream was released");
  }
}

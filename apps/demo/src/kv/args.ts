/**
 * A command's arguments as ranges of the bytes they arrived in, not as one view object per
 * argument: what the parser hands the command runner on the hot path.
 *
 * A pipelined batch is parsed straight from the received chunk, and most arguments are
 * only looked at once (a command name looked up, a key turned into a string through
 * the string table of `bytes.ts`, a value copied to be stored), so making a `subarray`
 * for each one, and an array to hold them, was the parser's largest cost and a good part
 * of the garbage. Here a command is a buffer and a table of (start, end) pairs, and one
 * `CommandArgs` per connection is refilled for every command.
 */

import { latin1Range, parseInt64, rangeEqualsIgnoreCase } from "./bytes.js";

/** Argument slots a `CommandArgs` keeps between commands; a longer command's table is dropped after it. */
const KEPT_SLOTS = 256;
const EMPTY = new Uint8Array(0);
/** From this many bytes, `value` may keep a view instead of copying. */
const LARGE_VALUE = 64 * 1024;
/** Up to this many bytes, `copy` copies byte by byte rather than through `slice`. */
const SHORT_COPY = 32;

/**
 * The arguments of one command, the command name first (`args.latin1(0)`). The bytes they
 * point into are never written again (the parser moves to a new buffer rather than reuse
 * one), so a view from `bytes(i)` stays valid for as long as it is kept; it keeps the
 * whole chunk alive too, so anything stored for long takes `copy(i)` instead.
 *
 * The parser refills the same object for every command of a connection: a command reads
 * its arguments while it runs and keeps none of them past its return (`detach()` makes
 * a copy that may be kept, as MULTI's queue does).
 *
 * @example
 * const args = CommandArgs.of([utf8Bytes("GET"), utf8Bytes("key")]);
 * args.length; // 2
 * args.is(0, "get"); // true
 * args.latin1(1); // "key"
 */
export class CommandArgs {
  /** How many arguments, the command name included. */
  length = 0;
  /** @internal The bytes the arguments are ranges of. */
  buf: Uint8Array = EMPTY;
  /** @internal Argument i is `buf[bounds[2i], bounds[2i + 1])`. */
  bounds = new Int32Array(32);

  /** Arguments copied from separate arrays into one buffer of their own (tests, tools, inline commands). */
  static of(words: readonly Uint8Array[]): CommandArgs {
    const args = new CommandArgs();
    args.fill(words);
    return args;
  }

  /** Byte length of argument `i`. */
  size(i: number): number {
    return this.bounds[2 * i + 1] - this.bounds[2 * i];
  }

  /** Argument `i` as a view of the bytes it arrived in (see the class comment). */
  bytes(i: number): Uint8Array {
    return this.buf.subarray(this.bounds[2 * i], this.bounds[2 * i + 1]);
  }

  /** Argument `i` in an exactly sized array of its own: what a stored value must be. */
  copy(i: number): Uint8Array {
    const start = this.bounds[2 * i];
    const end = this.bounds[2 * i + 1];
    const n = end - start;
    // `buf` is always a plain Uint8Array (the parser sees a Node Buffer as one), whose
    // slice() copies; a loop is quicker for the short values most requests carry.
    if (n > SHORT_COPY) return this.buf.slice(start, end);
    const buf = this.buf;
    const out = new Uint8Array(n);
    for (let k = 0; k < n; k++) out[k] = buf[start + k];
    return out;
  }

  /**
   * Argument `i` as a value to store: a view when it takes at least half the memory it
   * arrived in (a large value, which the parser assembles in a buffer of its own), sparing
   * a copy of megabytes at the cost of at most as much again; a copy otherwise, so that a
   * short value does not keep a whole chunk alive.
   */
  value(i: number): Uint8Array {
    const n = this.size(i);
    if (n >= LARGE_VALUE && 2 * n >= this.buf.buffer.byteLength) return this.bytes(i);
    return this.copy(i);
  }

  /** Argument `i` as a Latin-1 byte string (keys, channel names: see `bytes.ts`). */
  latin1(i: number): string {
    return latin1Range(this.buf, this.bounds[2 * i], this.bounds[2 * i + 1]);
  }

  /** True when argument `i` spells `word` in ASCII, ignoring case; `word` must be lower case. */
  is(i: number, word: string): boolean {
    return rangeEqualsIgnoreCase(this.buf, this.bounds[2 * i], this.bounds[2 * i + 1], word);
  }

  /** Argument `i` as a signed 64-bit integer (see `parseInt64`), or null. */
  int64(i: number): number | bigint | null {
    return parseInt64(this.bytes(i));
  }

  /** Every argument as a view (see `bytes`). */
  toArray(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let i = 0; i < this.length; i++) out.push(this.bytes(i));
    return out;
  }

  /** A copy that owns its bytes: one array for all the arguments, whatever they arrived in. */
  detach(): CommandArgs {
    const copy = new CommandArgs();
    if (this.length === 0) return copy;
    // The arguments lie in order in `buf` (the parser fills them front to back), so one
    // slice from the first to the end of the last takes them all.
    const from = this.bounds[0];
    copy.buf = this.buf.slice(from, this.bounds[2 * this.length - 1]);
    copy.bounds = this.bounds.slice(0, 2 * this.length).map((at) => at - from);
    copy.length = this.length;
    return copy;
  }

  /** @internal The parser starts a command. */
  reset(): void {
    this.length = 0;
    if (this.bounds.length > 2 * KEPT_SLOTS) this.bounds = new Int32Array(32);
  }

  /** @internal The parser found argument `length` at `[start, end)` of the buffer it parses. */
  push(start: number, end: number): void {
    const at = 2 * this.length;
    if (at === this.bounds.length) {
      const grown = new Int32Array(at * 2);
      grown.set(this.bounds);
      this.bounds = grown;
    }
    this.bounds[at] = start;
    this.bounds[at + 1] = end;
    this.length++;
  }

  /** @internal The parser moved the command in progress `by` bytes towards the start of a new buffer. */
  shift(by: number): void {
    for (let i = 0; i < 2 * this.length; i++) this.bounds[i] -= by;
  }

  /** @internal Sets the arguments to copies of `words`, in one new buffer. */
  fill(words: readonly Uint8Array[]): void {
    let total = 0;
    for (const word of words) total += word.length;
    const buf = new Uint8Array(total);
    this.reset();
    let at = 0;
    for (const word of words) {
      buf.set(word, at);
      this.push(at, at + word.length);
      at += word.length;
    }
    this.buf = buf;
  }
}

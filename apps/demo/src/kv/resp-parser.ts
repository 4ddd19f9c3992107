/**
 * The request side of RESP2, the Redis protocol: turns the bytes a client sends into
 * commands (arrays of byte strings), incrementally and without copying where it can.
 *
 * Two request forms exist, and Redis accepts both on the same connection:
 * - multibulk: `*<n>\r\n` then n bulk strings `$<len>\r\n<bytes>\r\n` (what every client
 *   library and `redis-cli` send);
 * - inline: one line of space-separated words, with Redis's quoting rules (what `telnet`
 *   users type; see `splitInlineArgs`).
 *
 * Zero copy: an argument is a range of the chunk it arrived in (`CommandArgs`; `next()`
 * makes `subarray` views of them for callers that want arrays). The parser never writes
 * into a byte it has handed out (when it must merge a partial frame with the next chunk
 * it moves to a new buffer), so views stay valid for as long as the caller keeps them; a
 * caller that stores an argument for long should copy it (a 3-byte view keeps its whole
 * 64 KiB chunk alive).
 *
 * Limits (`RespLimits`) bound what a client can make the server buffer; breaking one, or
 * any malformed frame, raises `RespProtocolError` with the message Redis itself uses
 * (`Protocol error: invalid bulk length`, …). After an error the stream is out of sync and
 * the parser refuses to go on, as Redis closes such a connection.
 */

import { CommandArgs } from "./args.js";

/** What a client may make the server buffer. Defaults are Redis's. */
export interface RespLimits {
  /** Largest bulk string accepted, in bytes (Redis `proto-max-bulk-len`: 512 MiB). */
  readonly maxBulkLength: number;
  /** Most arguments in one multibulk command (Redis: 1024 * 1024 for an unauthenticated client). */
  readonly maxArrayLength: number;
  /** Longest inline command line, and longest `*`/`$` header line (Redis `PROTO_INLINE_MAX_SIZE`: 64 KiB). */
  readonly maxInlineLength: number;
}

export const defaultRespLimits: RespLimits = Object.freeze({
  maxBulkLength: 512 * 1024 * 1024,
  maxArrayLength: 1024 * 1024,
  maxInlineLength: 64 * 1024,
});

/** A malformed request. The message is what Redis replies (after `ERR `). */
export class RespProtocolError extends Error {
  override name = "RespProtocolError";
}

const CR = 13;
const LF = 10;
const STAR = 42; // *
const DOLLAR = 36; // $
const MINUS = 45; // -
const ZERO = 48;
const NINE = 57;
const EMPTY = new Uint8Array(0);

/** Between commands: the next byte starts a multibulk (`*`) or an inline line. */
const BETWEEN = -1;

/**
 * An incremental command parser for one connection.
 *
 * `feed(chunk)` appends bytes; `nextArgs()` returns the next complete command (its
 * arguments, the command name first, in a `CommandArgs` the parser refills for every
 * command) or `null` when the buffered bytes do not hold one yet; `next()` is the same as
 * an array of views. A server feeds what it read, then calls `nextArgs()` until it returns
 * `null`, so that every command of a pipelined batch is executed before the replies are
 * written in one go.
 *
 * Work is linear in the input whatever the chunking: a multibulk in progress keeps the
 * arguments already parsed (Redis's `multibulklen`/`bulklen` state), a header line is not
 * rescanned from its start, a bulk string is not looked at until all its bytes are there,
 * and a partial frame grows its buffer geometrically. Memory is bounded by the limits,
 * never by what a header claims: `$536870912\r\n` alone allocates nothing.
 *
 * @example
 * const parser = new CommandParser();
 * parser.feed(new TextEncoder().encode("*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\n"));
 * parser.next(); // [GET, k] as byte views
 * parser.next(); // [PING] (an inline command)
 * parser.next(); // null: needs more input
 */
export class CommandParser {
  readonly limits: RespLimits;
  /** Unparsed bytes are `buf[pos, end)`. `buf` is the caller's chunk or, when `owned`, ours (with spare room past `end`). */
  private buf: Uint8Array = EMPTY;
  private pos = 0;
  private end = 0;
  private owned = false;
  /** Bytes after `pos` already searched for a line end without finding one. */
  private scanned = 0;
  /** Arguments still expected by the multibulk in progress, or BETWEEN. */
  private remaining = BETWEEN;
  /** Length of the bulk string whose `$` header was consumed, or -1. */
  private bulkLength = -1;
  /** Where the multibulk in progress starts in `buf`: its arguments are ranges of `buf` after it. */
  private commandStart = 0;
  private readonly args = new CommandArgs();
  private error: RespProtocolError | null = null;

  constructor(limits?: Partial<RespLimits>) {
    this.limits = checkLimits(limits);
  }

  /** Bytes received and not yet returned as (part of) a command. */
  get buffered(): number {
    return this.end - this.pos;
  }

  /** True between commands: no partial frame is buffered (what a server checks at end of stream). */
  idle(): boolean {
    return this.end === this.pos && this.remaining === BETWEEN;
  }

  /** Appends received bytes. The chunk is kept by reference and never modified. */
  feed(chunk: Uint8Array): void {
    const length = chunk.length;
    if (length === 0) return;
    // What must be kept: the unparsed bytes, and the arguments already parsed of a
    // multibulk in progress (ranges of `buf` from `commandStart`).
    const keepFrom = this.remaining === BETWEEN ? this.pos : this.commandStart;
    const kept = this.end - keepFrom;
    if (kept === 0) {
      // The common case (a whole command per read): parse straight from the chunk, seen as
      // a plain Uint8Array. Sockets deliver Node Buffers, whose subarray() and slice() are
      // JS wrappers (and slice() makes no copy); the typed array's own are V8 builtins.
      this.buf = chunk.constructor === Uint8Array ? chunk : new Uint8Array(chunk.buffer, chunk.byteOffset, length);
      this.pos = 0;
      this.end = length;
      this.commandStart = 0;
      this.owned = false;
      return;
    }
    if (this.owned && this.end + length <= this.buf.length) {
      this.buf.set(chunk, this.end);
      this.end += length;
      return;
    }
    // A new buffer rather than compacting in place: views handed out may point into the
    // old one. It doubles, but never past the end of a bulk string in progress, and goes
    // straight to that end once it is half way there: a 40 MiB value ends in a 40 MiB
    // buffer, not a 64 MiB one, after fewer copies; what a header declares is never
    // allocated before a quarter of it arrived.
    let capacity = Math.max(kept + length, kept * 2, 4096);
    if (this.bulkLength >= 0) {
      const whole = this.pos - keepFrom + this.bulkLength + 2;
      if (capacity * 2 >= whole) capacity = Math.max(kept + length, whole);
    }
    const grown = new Uint8Array(capacity);
    grown.set(this.buf.subarray(keepFrom, this.end), 0);
    grown.set(chunk, kept);
    this.buf = grown;
    this.pos -= keepFrom;
    if (this.remaining !== BETWEEN) this.args.shift(keepFrom);
    this.commandStart -= keepFrom;
    this.end = kept + length;
    this.owned = true;
  }

  /**
   * The next complete command, or `null` when more bytes are needed. Empty commands
   * (`*0\r\n`, a blank inline line) are skipped, as Redis does.
   * @throws RespProtocolError on malformed input, and again on every later call.
   */
  next(): Uint8Array[] | null {
    const args = this.nextArgs();
    return args === null ? null : args.toArray();
  }

  /**
   * The next complete command as ranges of the received bytes, or `null` when more bytes
   * are needed: `next()` without a view or an array per command. The same `CommandArgs`
   * is refilled by the next call, so its caller reads it and lets it go.
   * @throws RespProtocolError on malformed input, and again on every later call.
   */
  nextArgs(): CommandArgs | null {
    if (this.error !== null) throw this.error;
    try {
      for (;;) {
        if (this.remaining === BETWEEN) {
          if (this.pos === this.end) return null;
          if (this.buf[this.pos] === STAR) {
            if (!this.readArrayHeader()) return null;
            if (this.remaining === BETWEEN) continue; // *0 or *-1: nothing to run
          } else {
            const words = this.readInline();
            if (words === null) return null;
            if (words.length === 0) continue;
            this.args.fill(words);
            return this.args;
          }
        }
        while (this.remaining > 0) {
          if (!this.readBulk()) return null;
        }
        this.remaining = BETWEEN;
        this.args.buf = this.buf;
        return this.args;
      }
    } catch (error) {
      if (error instanceof RespProtocolError) this.error = error;
      throw error;
    }
  }

  /**
   * The position of the CR of the line starting at `pos`, or -1 if it is not all there.
   * Lines end with CRLF; a CR followed by anything else is malformed.
   */
  private findLineEnd(tooLong: string): number {
    const buf = this.buf;
    const end = this.end;
    let i = this.pos + this.scanned;
    // Start one back: the CR of a CRLF split across chunks was scanned already.
    if (i > this.pos) i--;
    for (; i < end; i++) {
      if (buf[i] === CR) {
        if (i + 1 === end) break;
        if (buf[i + 1] !== LF) throw new RespProtocolError("Protocol error: expected CRLF at the end of a header line");
        this.scanned = 0;
        return i;
      }
    }
    this.scanned = end - this.pos;
    if (this.scanned > this.limits.maxInlineLength) throw new RespProtocolError(`Protocol error: ${tooLong}`);
    return -1;
  }

  private readArrayHeader(): boolean {
    const start = this.pos;
    const quick = this.quickHeader(STAR, this.limits.maxArrayLength);
    if (quick > 0) {
      this.commandStart = start;
      this.args.reset();
      this.remaining = quick;
      return true;
    }
    const cr = this.findLineEnd("too big mbulk count string");
    if (cr < 0) return false;
    const count = parseHeaderInteger(this.buf, this.pos + 1, cr);
    if (count === null || count > this.limits.maxArrayLength) {
      throw new RespProtocolError("Protocol error: invalid multibulk length");
    }
    this.commandStart = this.pos;
    this.args.reset();
    this.pos = cr + 2;
    // Redis runs nothing for `*0` and `*-1`.
    this.remaining = count <= 0 ? BETWEEN : count;
    return true;
  }

  /**
   * Consumes a `*<n>\r\n` or `$<n>\r\n` header at `pos` (`type` is `*` or `$`) when it is
   * whole and plain, 1 to 9 digits, at most `max` (what clients send), and returns n; -1
   * for anything else, which the general path then reads and reports. One pass over the
   * header instead of a line scan and then a number parse: a header per argument is most
   * of what the parser reads.
   */
  private quickHeader(type: number, max: number): number {
    const buf = this.buf;
    const end = this.end;
    const at = this.pos;
    if (this.scanned !== 0 || at + 3 >= end || buf[at] !== type) return -1;
    let c = buf[at + 1];
    if (c <= ZERO || c > NINE) return -1;
    let n = c - ZERO;
    let i = at + 2;
    for (; i < end; i++) {
      c = buf[i];
      if (c < ZERO || c > NINE) break;
      n = n * 10 + (c - ZERO);
    }
    if (i + 1 >= end || c !== CR || buf[i + 1] !== LF || i - at > 10 || n > max) return -1;
    this.pos = i + 2;
    return n;
  }

  private readBulk(): boolean {
    const buf = this.buf;
    if (this.bulkLength < 0) this.bulkLength = this.quickHeader(DOLLAR, this.limits.maxBulkLength);
    if (this.bulkLength < 0) {
      if (this.pos === this.end) return false;
      const first = buf[this.pos];
      if (first !== DOLLAR) {
        throw new RespProtocolError(`Protocol error: expected '$', got '${printable(first)}'`);
      }
      const cr = this.findLineEnd("too big bulk count string");
      if (cr < 0) return false;
      const length = parseHeaderInteger(buf, this.pos + 1, cr);
      if (length === null || length < 0 || length > this.limits.maxBulkLength) {
        throw new RespProtocolError("Protocol error: invalid bulk length");
      }
      this.pos = cr + 2;
      this.bulkLength = length;
    }
    const start = this.pos;
    const stop = start + this.bulkLength;
    if (stop + 2 > this.end) return false;
    if (buf[stop] !== CR || buf[stop + 1] !== LF) {
      throw new RespProtocolError("Protocol error: expected CRLF after a bulk string");
    }
    this.args.push(start, stop);
    this.pos = stop + 2;
    this.bulkLength = -1;
    this.remaining--;
    return true;
  }

  private readInline(): Uint8Array[] | null {
    const buf = this.buf;
    const end = this.end;
    let i = this.pos + this.scanned;
    for (; i < end; i++) if (buf[i] === LF) break;
    if (i === end) {
      this.scanned = end - this.pos;
      if (this.scanned > this.limits.maxInlineLength) throw new RespProtocolError("Protocol error: too big inline request");
      return null;
    }
    if (i - this.pos > this.limits.maxInlineLength) throw new RespProtocolError("Protocol error: too big inline request");
    const lineEnd = i > this.pos && buf[i - 1] === CR ? i - 1 : i;
    const line = buf.subarray(this.pos, lineEnd);
    this.pos = i + 1;
    this.scanned = 0;
    const args = splitInlineArgs(line);
    if (args === null) throw new RespProtocolError("Protocol error: unbalanced quotes in request");
    return args;
  }
}

/** Checks and completes partial limits; each must be a positive integer. */
export function checkLimits(limits: Partial<RespLimits> | undefined): RespLimits {
  if (limits === undefined) return defaultRespLimits;
  if (typeof limits !== "object" || limits === null) {
    throw new TypeError("limits must be an object such as { maxBulkLength: 1048576 }");
  }
  const merged = { ...defaultRespLimits, ...limits };
  for (const name of ["maxBulkLength", "maxArrayLength", "maxInlineLength"] as const) {
    const value = merged[name];
    if (typeof value !== "number") throw new TypeError(`limits.${name} must be a number, got ${typeof value}`);
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new RangeError(`limits.${name} must be a positive integer, got ${value}`);
    }
  }
  return Object.freeze(merged);
}

/**
 * The integer of a header line (`buf[from, to)`): an optional `-` then decimal digits, as
 * Redis's `string2ll` reads them (no `+`, no spaces, no leading zeros). `null` if it is not
 * one, or has more than 15 digits (beyond every limit anyway, and beyond exact doubles).
 */
export function parseHeaderInteger(buf: Uint8Array, from: number, to: number): number | null {
  let i = from;
  let negative = false;
  if (i < to && buf[i] === MINUS) {
    negative = true;
    i++;
  }
  const digits = to - i;
  if (digits <= 0 || digits > 15) return null;
  if (buf[i] === ZERO && (digits > 1 || negative)) return null;
  let value = 0;
  for (; i < to; i++) {
    const c = buf[i];
    if (c < ZERO || c > NINE) return null;
    value = value * 10 + (c - ZERO);
  }
  return negative ? -value : value;
}

function isSpace(c: number): boolean {
  // C's isspace: space, \t, \n, \v, \f, \r.
  return c === 32 || (c >= 9 && c <= 13);
}

/** Ends an unquoted word. NUL too: sdssplitargs works on a C string, which ends there. */
function isSeparator(c: number): boolean {
  return c === 0 || isSpace(c);
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * Splits an inline command line into arguments with the rules of Redis's `sdssplitargs`:
 * words are separated by whitespace; `"…"` may contain `\n \r \t \b \a \\ \"` and `\xHH`
 * escapes; `'…'` takes everything literally except `\'`; a closing quote must be followed
 * by whitespace or the end of the line. Returns `null` for unbalanced quotes. Unquoted
 * words are views of `line`; quoted ones are new arrays.
 */
export function splitInlineArgs(line: Uint8Array): Uint8Array[] | null {
  const args: Uint8Array[] = [];
  const n = line.length;
  let p = 0;
  for (;;) {
    while (p < n && isSeparator(line[p])) p++;
    if (p >= n) return args;
    const start = p;
    while (p < n) {
      const c = line[p];
      if (isSeparator(c) || c === 34 || c === 39) break;
      p++;
    }
    if (p >= n || (line[p] !== 34 && line[p] !== 39)) {
      args.push(line.subarray(start, p));
      continue;
    }
    // A quote: this word needs unescaping, so it is built in a copy.
    const word: number[] = [];
    for (let k = start; k < p; k++) word.push(line[k]);
    const next = readQuotedWord(line, p, word);
    if (next < 0) return null;
    p = next;
    args.push(Uint8Array.from(word));
  }
}

/**
 * Continues a word at `p` (on a quote, or inside an unquoted run that may meet more quotes
 * as sdssplitargs allows: `a"b c"` is one word). Appends its bytes to `word` and returns
 * the index after it, or -1 for unbalanced quotes.
 */
function readQuotedWord(line: Uint8Array, p: number, word: number[]): number {
  const n = line.length;
  let inDouble = false;
  let inSingle = false;
  for (;;) {
    if (inDouble) {
      if (p >= n) return -1;
      const c = line[p];
      if (c === 92 && p + 3 < n && line[p + 1] === 120 && hexValue(line[p + 2]) >= 0 && hexValue(line[p + 3]) >= 0) {
        word.push(hexValue(line[p + 2]) * 16 + hexValue(line[p + 3]));
        p += 4;
      } else if (c === 92 && p + 1 < n) {
        const e = line[p + 1];
        word.push(e === 110 ? 10 : e === 114 ? 13 : e === 116 ? 9 : e === 98 ? 8 : e === 97 ? 7 : e);
        p += 2;
      } else if (c === 34) {
        if (p + 1 < n && !isSeparator(line[p + 1])) return -1;
        return p + 1;
      } else {
        word.push(c);
        p++;
      }
    } else if (inSingle) {
      if (p >= n) return -1;
      const c = line[p];
      if (c === 92 && p + 1 < n && line[p + 1] === 39) {
        word.push(39);
        p += 2;
      } else if (c === 39) {
        if (p + 1 < n && !isSeparator(line[p + 1])) return -1;
        return p + 1;
      } else {
        word.push(c);
        p++;
      }
    } else {
      if (p >= n) return p;
      const c = line[p];
      if (isSeparator(c)) return p;
      if (c === 34) inDouble = true;
      else if (c === 39) inSingle = true;
      else word.push(c);
      p++;
    }
  }
}

function printable(c: number): string {
  return c >= 32 && c < 127 ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, "0")}`;
}

/**
 * Parses every complete command in `bytes` at once: a convenience over `CommandParser`
 * for tests and tools. `complete` is false when the bytes end inside a command.
 * @throws RespProtocolError on malformed input.
 */
export function parseCommands(bytes: Uint8Array, limits?: Partial<RespLimits>): { commands: Uint8Array[][]; complete: boolean } {
  const parser = new CommandParser(limits);
  parser.feed(bytes);
  const commands: Uint8Array[][] = [];
  for (let c = parser.next(); c !== null; c = parser.next()) commands.push(c);
  return { commands, complete: parser.idle() };
}

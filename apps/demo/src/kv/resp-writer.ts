/**
 * The reply side of RESP2: `ReplyBuffer` encodes replies straight into one growing byte
 * buffer, so that all the replies of a pipelined batch leave in a single write; and
 * `encodeCommand` builds a request, for clients.
 *
 * Strings given to the encoder are byte strings held as Latin-1 (each char code is one
 * byte, 0–255): keys and channel names are kept that way (`latin1` in `bytes.ts`), so what
 * goes out is exactly what came in, whatever the encoding the client used.
 */

const CR = 13;
const LF = 10;

/** Bulk payloads at least this long are passed on by reference instead of being copied. */
const LARGE_BULK = 8 * 1024;
/** Bulk payloads up to this long are copied byte by byte: quicker than `set` for short ones. */
const SHORT_BULK = 32;

/**
 * Replies of one batch, encoded as they are produced.
 *
 * Replies are encoded into a slab (16 KiB by default) that is filled from front to back
 * and never rewritten: `take()` hands out a view of the bytes encoded since the last
 * `take()` and the next batch continues after them, so the transport may hold on to what
 * it was given for as long as it likes. A full slab is replaced by a new one (the old one
 * lives on only while the transport holds views of it). That makes a batch cost no
 * allocation at all most of the time, where copying each batch out would cost a new
 * ArrayBuffer per request when clients do not pipeline. Large bulk payloads are not
 * copied at all: `take()` returns them as separate chunks (stored values are never
 * modified in place, so sharing them is safe).
 *
 * @example
 * const out = new ReplyBuffer();
 * out.simple("OK");
 * out.bulk(value);
 * writer.writelines(out.take());
 */
export class ReplyBuffer {
  private buf: Uint8Array;
  /** Bytes before `start` were handed out by `take()`: never written again. */
  private start = 0;
  /** The batch in progress is `buf[start, length)`. */
  private length = 0;
  /** Chunks completed before `buf[start, length)`, in order: only when a large bulk went by reference. */
  private chunks: Uint8Array[] = [];
  private chunkBytes = 0;
  private readonly slabSize: number;
  /**
   * The connection speaks RESP3 (after `HELLO 3`): nulls are `_`, maps `%`, pushes `>`.
   * Every other reply this server sends is the same in both protocols.
   */
  resp3 = false;

  constructor(slabSize = 16 * 1024) {
    this.slabSize = slabSize;
    this.buf = new Uint8Array(slabSize);
  }

  /** Bytes encoded and not yet taken. */
  get size(): number {
    return this.chunkBytes + this.length - this.start;
  }

  /** Everything encoded since the last `take()`, as chunks to write in order; empty if nothing. */
  take(): Uint8Array[] {
    this.flushScratch();
    const chunks = this.chunks;
    this.chunks = [];
    this.chunkBytes = 0;
    return chunks;
  }

  /** `+OK`: a status line. Must not contain CR or LF. */
  simple(text: string): void {
    this.reserve(text.length + 3);
    this.buf[this.length++] = 43; // +
    this.latin1(text);
    this.crlf();
  }

  /**
   * `-ERR message`: an error. CR and LF in the message become spaces, as Redis's
   * `addReplyError` does, so that a user-supplied name cannot break the framing.
   */
  error(message: string): void {
    this.reserve(message.length + 3);
    this.buf[this.length++] = 45; // -
    const start = this.length;
    this.latin1(message);
    const buf = this.buf;
    // Redis's addReplyErrorLength: CR and LF would end the reply early; a NUL, echoed from
    // an argument, cuts the message short in clients that read it as a C string.
    for (let i = start; i < this.length; i++) if (buf[i] === CR || buf[i] === LF || buf[i] === 0) buf[i] = 32;
    this.crlf();
  }

  /** `:42`: an integer. */
  integer(value: number | bigint): void {
    this.reserve(24);
    this.buf[this.length++] = 58; // :
    if (typeof value === "bigint") this.latin1(value.toString());
    else this.decimal(value);
    this.crlf();
  }

  /** `$3\r\nabc`: a bulk string, or the null bulk `$-1` for `null`. */
  bulk(value: Uint8Array | null): void {
    if (value === null) {
      this.nullBulk();
      return;
    }
    const n = value.length;
    this.reserve(n < LARGE_BULK ? n + 17 : 17);
    this.buf[this.length++] = 36; // $
    this.decimal(n);
    this.crlf();
    if (n <= SHORT_BULK) {
      const buf = this.buf;
      let at = this.length;
      for (let i = 0; i < n; i++) buf[at++] = value[i];
      this.length = at;
    } else if (n < LARGE_BULK) {
      this.buf.set(value, this.length);
      this.length += n;
    } else {
      this.flushScratch();
      this.chunks.push(value);
      this.chunkBytes += n;
    }
    this.crlf();
  }

  /** A bulk string from a Latin-1 byte string (a key, a channel name, a word of ours). */
  bulkLatin1(text: string): void {
    this.reserve(text.length + 17);
    this.buf[this.length++] = 36; // $
    this.decimal(text.length);
    this.crlf();
    this.latin1(text);
    this.crlf();
  }

  /** `$-1`: the null bulk string (GET of a missing key); RESP3's null `_`. */
  nullBulk(): void {
    this.reserve(5);
    if (this.resp3) {
      this.buf[this.length++] = 95; // _
    } else {
      this.buf[this.length++] = 36;
      this.buf[this.length++] = 45;
      this.buf[this.length++] = 49;
    }
    this.crlf();
  }

  /** `*3`: the header of an array whose `count` elements follow. */
  arrayHeader(count: number): void {
    this.header(42, count); // *
  }

  /** A map of `count` key/value pairs: RESP3's `%count`, a flat array of 2 × count in RESP2. */
  mapHeader(count: number): void {
    if (this.resp3) this.header(37, count); // %
    else this.header(42, 2 * count);
  }

  /** Out-of-band data (pub/sub): RESP3's `>count`, an array in RESP2. */
  pushHeader(count: number): void {
    this.header(this.resp3 ? 62 : 42, count); // > or *
  }

  private header(type: number, count: number): void {
    this.reserve(24);
    this.buf[this.length++] = type;
    this.decimal(count);
    this.crlf();
  }

  /** Bytes already encoded as RESP (a pub/sub message shared by every subscriber). */
  raw(bytes: Uint8Array): void {
    const n = bytes.length;
    if (n >= LARGE_BULK) {
      this.flushScratch();
      this.chunks.push(bytes);
      this.chunkBytes += n;
      return;
    }
    this.reserve(n);
    this.buf.set(bytes, this.length);
    this.length += n;
  }

  private reserve(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.buf.length) return;
    // A new slab; the batch in progress moves along (what was taken stays where it is).
    const pending = this.length - this.start;
    const slab = new Uint8Array(Math.max(this.slabSize, (pending + extra) * 2));
    slab.set(this.buf.subarray(this.start, this.length));
    this.buf = slab;
    this.start = 0;
    this.length = pending;
  }

  /** Moves the batch so far to `chunks`, before a chunk passed by reference (and on take). */
  private flushScratch(): void {
    if (this.length === this.start) return;
    this.chunks.push(this.buf.subarray(this.start, this.length));
    this.chunkBytes += this.length - this.start;
    this.start = this.length;
  }

  private crlf(): void {
    this.buf[this.length++] = CR;
    this.buf[this.length++] = LF;
  }

  /** Writes a Latin-1 string; the caller reserved room. */
  private latin1(text: string): void {
    const buf = this.buf;
    let at = this.length;
    for (let i = 0; i < text.length; i++) buf[at++] = text.charCodeAt(i) & 0xff;
    this.length = at;
  }

  /** Writes an integer in decimal without making a string; the caller reserved room. */
  private decimal(value: number): void {
    if (!Number.isSafeInteger(value)) {
      this.latin1(String(Math.trunc(value)));
      return;
    }
    const buf = this.buf;
    if (value < 0) {
      buf[this.length++] = 45;
      value = -value;
    }
    if (value < 10) {
      buf[this.length++] = 48 + value;
      return;
    }
    let digits = 0;
    for (let v = value; v > 0; v = Math.floor(v / 10)) digits++;
    let at = this.length + digits;
    this.length = at;
    for (let v = value; v > 0; v = Math.floor(v / 10)) buf[--at] = 48 + (v % 10);
  }
}

const utf8 = new TextEncoder();

/**
 * One command as a RESP multibulk request. Strings are encoded as UTF-8, byte arrays sent
 * as they are.
 * @example
 * socket.write(encodeCommand(["SET", "greeting", "hello"]));
 */
export function encodeCommand(args: readonly (string | Uint8Array)[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const arg of args) {
    const bytes = typeof arg === "string" ? utf8.encode(arg) : arg;
    parts.push(bytes);
    total += bytes.length + 16;
  }
  const out = new ReplyBuffer(total + 16);
  out.arrayHeader(parts.length);
  for (const bytes of parts) out.bulk(bytes);
  const chunks = out.take();
  return chunks.length === 1 ? chunks[0] : concat(chunks);
}

/** The bytes of `chunks`, end to end, in one array. */
export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const c of chunks) total += c.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

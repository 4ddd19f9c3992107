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

/**
 * Replies of one batch, encoded as they are produced.
 *
 * Small replies go into a scratch buffer that is reused from batch to batch; `take()`
 * copies its used part out (one small allocation per batch, not one per reply) because
 * the transport may hold on to what it is given. Large bulk payloads are not copied:
 * `take()` returns them as separate chunks (stored values are never modified in place,
 * so sharing them is safe).
 *
 * @example
 * const out = new ReplyBuffer();
 * out.simple("OK");
 * out.bulk(value);
 * writer.writelines(out.take());
 */
export class ReplyBuffer {
  private buf: Uint8Array;
  private length = 0;
  /** Chunks completed before `buf[0, length)`, in order: only when a large bulk went by reference. */
  private chunks: Uint8Array[] = [];
  private chunkBytes = 0;

  constructor(initialCapacity = 16 * 1024) {
    this.buf = new Uint8Array(initialCapacity);
  }

  /** Bytes encoded and not yet taken. */
  get size(): number {
    return this.chunkBytes + this.length;
  }

  /** Everything encoded since the last `take()`, as chunks to write in order; empty if nothing. */
  take(): Uint8Array[] {
    const chunks = this.chunks;
    if (this.length > 0) chunks.push(this.buf.slice(0, this.length));
    this.chunks = [];
    this.chunkBytes = 0;
    this.length = 0;
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
    for (let i = start; i < this.length; i++) if (buf[i] === CR || buf[i] === LF) buf[i] = 32;
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
    if (n < LARGE_BULK) {
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

  /** `$-1`: the null bulk string (GET of a missing key). */
  nullBulk(): void {
    this.reserve(5);
    this.buf[this.length++] = 36;
    this.buf[this.length++] = 45;
    this.buf[this.length++] = 49;
    this.crlf();
  }

  /** `*3`: the header of an array whose `count` elements follow. */
  arrayHeader(count: number): void {
    this.reserve(24);
    this.buf[this.length++] = 42; // *
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
    const grown = new Uint8Array(Math.max(needed, this.buf.length * 2));
    grown.set(this.buf.subarray(0, this.length));
    this.buf = grown;
  }

  /** Moves the scratch contents to `chunks`, before a chunk passed by reference. */
  private flushScratch(): void {
    if (this.length === 0) return;
    this.chunks.push(this.buf.slice(0, this.length));
    this.chunkBytes += this.length;
    this.length = 0;
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

/**
 * Byte strings as JavaScript strings. Redis keys and channel names are arbitrary bytes; we
 * hold them as Latin-1 strings (char code = byte value, 0–255), a lossless mapping both
 * ways, so they can be Map keys and come back out byte for byte. (The WHATWG "latin1"
 * TextDecoder is really windows-1252 and is not lossless, hence these helpers.)
 */

const CHUNK = 8192;

/** Inputs up to this many bytes go through the string table below. */
const SHORT = 32;
/** Slots of the string table (a power of two). */
const SLOTS = 4096;

/**
 * The last short string made for each hash slot: command names and hot keys repeat on
 * every request, and handing back the same string saves building it again, the garbage
 * it becomes a request later, and rehashing it in the command table and the keyspace
 * (a string caches its hash). It is what JSON parsers do for field names (Jackson's
 * symbol table). Direct-mapped and bounded: at most SLOTS strings of at most SHORT chars;
 * a miss replaces the slot's string.
 */
const recent: string[] = new Array<string>(SLOTS).fill("");

/** The Latin-1 string of `bytes`: one char per byte. */
export function latin1(bytes: Uint8Array): string {
  return latin1Range(bytes, 0, bytes.length);
}

/**
 * The Latin-1 string of `buf[start, end)`, read in place: a command's arguments are
 * ranges of the chunk they arrived in (see `CommandArgs`), and a hit in the string table
 * costs no view and no string.
 */
export function latin1Range(buf: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n <= SHORT) {
    // FNV-1a over the bytes, then compare with the slot's string before trusting it.
    let hash = 0x811c9dc5;
    for (let i = start; i < end; i++) hash = Math.imul(hash ^ buf[i], 0x01000193);
    const slot = (hash ^ (hash >>> 16)) & (SLOTS - 1);
    const seen = recent[slot];
    if (seen.length === n) {
      let i = 0;
      while (i < n && seen.charCodeAt(i) === buf[start + i]) i++;
      if (i === n) return seen;
    }
    const text = String.fromCharCode.apply(null, buf.subarray(start, end) as unknown as number[]);
    recent[slot] = text;
    return text;
  }
  if (n <= CHUNK)
    return String.fromCharCode.apply(null, buf.subarray(start, end) as unknown as number[]);
  let text = "";
  for (let i = start; i < end; i += CHUNK) {
    text += String.fromCharCode.apply(
      null,
      buf.subarray(i, Math.min(i + CHUNK, end)) as unknown as number[],
    );
  }
  return text;
}

/** The bytes of a Latin-1 string (chars above 255 are truncated to their low byte). */
export function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

/**
 * A copy of `bytes` in a new, exactly sized array. Not `bytes.slice()`: on a Node
 * `Buffer` (what sockets deliver) `slice` returns a view, which would keep the whole
 * received chunk alive for as long as the copy is stored.
 */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

const utf8Decoder = new TextDecoder();
const utf8Encoder = new TextEncoder();

/** Bytes as text, for display (invalid UTF-8 shows as U+FFFD). */
export function utf8(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes);
}

/** Text as UTF-8 bytes. */
export function utf8Bytes(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/** True when `bytes` spells `word` in ASCII, ignoring case; `word` must be lower case. */
export function equalsIgnoreCase(bytes: Uint8Array, word: string): boolean {
  return rangeEqualsIgnoreCase(bytes, 0, bytes.length, word);
}

/** `equalsIgnoreCase` on `buf[start, end)`. */
export function rangeEqualsIgnoreCase(
  buf: Uint8Array,
  start: number,
  end: number,
  word: string,
): boolean {
  if (end - start !== word.length) return false;
  for (let i = start; i < end; i++) {
    let c = buf[i];
    if (c >= 65 && c <= 90) c += 32;
    if (c !== word.charCodeAt(i - start)) return false;
  }
  return true;
}

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/**
 * The signed 64-bit integer spelled by `bytes`, as Redis's `string2ll` reads it: optional
 * `-`, digits, no `+`, no spaces, no leading zeros, no `-0`. A `number` when it fits in a
 * double exactly (up to 15 digits), a `bigint` beyond; `null` if it is not one or is out of
 * the int64 range.
 */
export function parseInt64(bytes: Uint8Array): number | bigint | null {
  const n = bytes.length;
  if (n === 0 || n > 20) return null;
  let i = 0;
  const negative = bytes[0] === 45;
  if (negative) i = 1;
  const digits = n - i;
  if (digits === 0) return null;
  const first = bytes[i];
  if (first === 48) return digits === 1 && !negative ? 0 : null;
  if (first < 49 || first > 57) return null;
  let value = 0;
  for (let k = i; k < n; k++) {
    const c = bytes[k];
    if (c < 48 || c > 57) return null;
    if (digits <= 15) value = value * 10 + (c - 48);
  }
  if (digits <= 15) return negative ? -value : value;
  const big = BigInt(latin1(bytes));
  return big > INT64_MAX || big < INT64_MIN ? null : big;
}

export { INT64_MAX, INT64_MIN };

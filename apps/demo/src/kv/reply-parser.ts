/**
 * The client side of RESP2: parses what a server replies. Used by the demo's client
 * (`client.ts`) and by the tests, which check the server byte for byte through it.
 */

import { latin1 } from "./bytes.js";

/** An error reply (`-ERR …`), as a value: the client decides whether to throw it. */
export class ReplyError extends Error {
  override name = "ReplyError";
}

/**
 * A decoded reply: a status (`+OK` → `"OK"`), an integer (`bigint` only beyond 2^53), a
 * bulk string (bytes), `null` (null bulk or null array), an error, or an array of these.
 */
export type RespValue = string | number | bigint | Uint8Array | null | ReplyError | RespValue[];

/** What `ReplyParser.next()` returns when the bytes so far do not hold a whole reply. */
export const INCOMPLETE: unique symbol = Symbol("INCOMPLETE");

const CR = 13;
const EMPTY = new Uint8Array(0);

/**
 * An incremental reply parser: `feed` bytes, take replies with `next()` until it says
 * `INCOMPLETE`. Malformed replies throw `ReplyError` (a client cannot resync after that).
 */
export class ReplyParser {
  private buf: Uint8Array = EMPTY;
  private pos = 0;
  /** The read position while a reply is parsed; committed to `pos` once it is complete. */
  private at = 0;

  feed(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.pos === this.buf.length) {
      this.buf = chunk;
      this.pos = 0;
      return;
    }
    const rest = this.buf.length - this.pos;
    const merged = new Uint8Array(rest + chunk.length);
    merged.set(this.buf.subarray(this.pos));
    merged.set(chunk, rest);
    this.buf = merged;
    this.pos = 0;
  }

  /** True when no partial reply is buffered. */
  idle(): boolean {
    return this.pos === this.buf.length;
  }

  next(): RespValue | typeof INCOMPLETE {
    this.at = this.pos;
    const value = this.value();
    if (value !== INCOMPLETE) this.pos = this.at;
    return value;
  }

  private line(): string | null {
    const buf = this.buf;
    for (let i = this.at; i + 1 < buf.length; i++) {
      if (buf[i] === CR && buf[i + 1] === 10) {
        const text = latin1(buf.subarray(this.at, i));
        this.at = i + 2;
        return text;
      }
    }
    return null;
  }

  private value(): RespValue | typeof INCOMPLETE {
    if (this.at >= this.buf.length) return INCOMPLETE;
    const type = this.buf[this.at++];
    const line = this.line();
    if (line === null) return INCOMPLETE;
    switch (type) {
      case 43: // +
        return line;
      case 45: // -
        return new ReplyError(line);
      case 58: // :
        return integer(line);
      case 36: {
        // $
        const length = Number(integer(line));
        if (length < 0) return null;
        if (this.at + length + 2 > this.buf.length) return INCOMPLETE;
        const bytes = new Uint8Array(this.buf.subarray(this.at, this.at + length));
        this.at += length + 2;
        return bytes;
      }
      case 95: // _ (RESP3 null)
        return null;
      case 37: // % (RESP3 map: its pairs, flattened, as RESP2 sends them)
      case 62: // > (RESP3 push)
      case 42: {
        // *
        const count = Number(integer(line)) * (type === 37 ? 2 : 1);
        if (count < 0) return null;
        const items: RespValue[] = [];
        for (let i = 0; i < count; i++) {
          const item = this.value();
          if (item === INCOMPLETE) return INCOMPLETE;
          items.push(item);
        }
        return items;
      }
      default:
        throw new ReplyError(`malformed reply: unexpected type byte ${type}`);
    }
  }
}

function integer(text: string): number | bigint {
  if (!/^-?\d+$/.test(text)) throw new ReplyError(`malformed reply: not an integer: ${JSON.stringify(text)}`);
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : BigInt(text);
}

/** Every complete reply in `bytes` (a test helper); throws if bytes are left over. */
export function parseReplies(bytes: Uint8Array): RespValue[] {
  const parser = new ReplyParser();
  parser.feed(bytes);
  const replies: RespValue[] = [];
  for (let r = parser.next(); r !== INCOMPLETE; r = parser.next()) replies.push(r);
  if (!parser.idle()) throw new ReplyError("incomplete reply at the end of the bytes");
  return replies;
}

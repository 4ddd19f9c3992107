/** Keyspace commands: DEL, EXISTS, EXPIRE, TTL, PTTL, KEYS (Redis `db.c`, `expire.c`). */

import { equalsIgnoreCase, utf8 } from "../bytes.js";
import { globMatch } from "../glob.js";
import { NOT_AN_INTEGER, type Command } from "./context.js";

export const del: Command = {
  name: "del",
  arity: -2,
  run(ctx, args) {
    let deleted = 0;
    for (let i = 1; i < args.length; i++) if (ctx.keyspace.delete(args.latin1(i))) deleted++;
    ctx.out.integer(deleted);
  },
};

/** `EXISTS key [key …]`: how many of the keys exist; a key named twice counts twice. */
export const exists: Command = {
  name: "exists",
  arity: -2,
  run(ctx, args) {
    let found = 0;
    for (let i = 1; i < args.length; i++) if (ctx.keyspace.has(args.latin1(i))) found++;
    ctx.out.integer(found);
  },
};

/**
 * `EXPIRE key seconds [NX | XX | GT | LT]` (Redis 7): 1 if the deadline was set, 0 if the
 * key does not exist or a condition failed. A deadline already past deletes the key (and
 * answers 1). GT treats a key without deadline as never expiring, so it never applies to it.
 */
export const expire: Command = {
  name: "expire",
  arity: -3,
  run(ctx, args) {
    // The options are read first, as Redis's expireGenericCommand does: a bad option is
    // reported before a bad number.
    let nx = false;
    let xx = false;
    let gt = false;
    let lt = false;
    for (let i = 3; i < args.length; i++) {
      const option = args.bytes(i);
      if (equalsIgnoreCase(option, "nx")) nx = true;
      else if (equalsIgnoreCase(option, "xx")) xx = true;
      else if (equalsIgnoreCase(option, "gt")) gt = true;
      else if (equalsIgnoreCase(option, "lt")) lt = true;
      else {
        ctx.out.error(`ERR Unsupported option ${utf8(option)}`);
        return;
      }
    }
    if (nx && (xx || gt || lt)) {
      ctx.out.error("ERR NX and XX, GT or LT options at the same time are not compatible");
      return;
    }
    if (gt && lt) {
      ctx.out.error("ERR GT and LT options at the same time are not compatible");
      return;
    }
    const seconds = args.int64(2);
    if (seconds === null) {
      ctx.out.error(NOT_AN_INTEGER);
      return;
    }
    // Beyond 2^53 ms (285,000 years) doubles stop being exact: refused, as Redis refuses
    // an int64 overflow.
    const ms = typeof seconds === "bigint" ? Infinity : seconds * 1000;
    if (!Number.isSafeInteger(ms)) {
      ctx.out.error("ERR invalid expire time in 'expire' command");
      return;
    }
    const key = args.latin1(1);
    const current = ctx.keyspace.deadline(key);
    if (current === undefined) {
      ctx.out.integer(0);
      return;
    }
    const when = ctx.keyspace.clock() + ms;
    const refused =
      (nx && current !== Infinity) ||
      (xx && current === Infinity) ||
      (gt && when <= current) || // Infinity: never greater
      (lt && current !== Infinity && when >= current);
    if (refused) {
      ctx.out.integer(0);
      return;
    }
    ctx.keyspace.expireAt(key, when);
    ctx.out.integer(1);
  },
};

function remainingMs(deadline: number, now: number): number {
  return Math.max(0, deadline - now);
}

/** `TTL key`: seconds left (rounded as Redis rounds), -1 without deadline, -2 without key. */
export const ttl: Command = {
  name: "ttl",
  arity: 2,
  run(ctx, args) {
    const deadline = ctx.keyspace.deadline(args.latin1(1));
    if (deadline === undefined) ctx.out.integer(-2);
    else if (deadline === Infinity) ctx.out.integer(-1);
    else ctx.out.integer(Math.floor((remainingMs(deadline, ctx.keyspace.clock()) + 500) / 1000));
  },
};

/** `PTTL key`: milliseconds left, -1 without deadline, -2 without key. */
export const pttl: Command = {
  name: "pttl",
  arity: 2,
  run(ctx, args) {
    const deadline = ctx.keyspace.deadline(args.latin1(1));
    if (deadline === undefined) ctx.out.integer(-2);
    else if (deadline === Infinity) ctx.out.integer(-1);
    else ctx.out.integer(Math.round(remainingMs(deadline, ctx.keyspace.clock())));
  },
};

/** `KEYS pattern`: every live key matching the glob pattern (see `glob.ts`). */
export const keys: Command = {
  name: "keys",
  arity: 2,
  run(ctx, args) {
    const pattern = args.latin1(1);
    const all = pattern === "*";
    const matched: string[] = [];
    for (const key of ctx.keyspace.keys()) if (all || globMatch(pattern, key)) matched.push(key);
    ctx.out.arrayHeader(matched.length);
    for (const key of matched) ctx.out.bulkLatin1(key);
  },
};

export const keyCommands: readonly Command[] = [del, exists, expire, ttl, pttl, keys];

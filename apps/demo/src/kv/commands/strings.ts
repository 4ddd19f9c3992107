/** String commands: GET, SET, INCR/INCRBY/DECR/DECRBY, MGET, MSET (Redis `t_string.c`). */

import { INT64_MAX, latin1Bytes, parseInt64 } from "../bytes.js";
import { NOT_AN_INTEGER, SYNTAX_ERROR, type Command, type CommandContext } from "./context.js";

const OK = "OK";

export const get: Command = {
  name: "get",
  arity: 2,
  run(ctx, args) {
    const value = ctx.keyspace.get(args.latin1(1));
    if (value === undefined) ctx.out.nullBulk();
    else ctx.out.bulk(value);
  },
};

/**
 * `SET key value [NX | XX] [GET] [EX seconds | PX milliseconds | KEEPTTL]`, with
 * Redis 7.0's rules: options in any order and any case; NX with XX, or two expiry options,
 * is a syntax error; an expiry must be a positive integer. Not supported: EXAT and PXAT
 * (absolute Unix times make no sense on the loop's monotonic clock) — a syntax error.
 */
export const set: Command = {
  name: "set",
  arity: -3,
  run(ctx, args) {
    let nx = false;
    let xx = false;
    let returnOld = false;
    let keepTtl = false;
    /** Index of the EX/PX amount, or 0. */
    let expiry = 0;
    let unitMs = 0;
    for (let i = 3; i < args.length; i++) {
      if (args.is(i, "nx") && !xx) nx = true;
      else if (args.is(i, "xx") && !nx) xx = true;
      else if (args.is(i, "get")) returnOld = true;
      else if (args.is(i, "keepttl") && expiry === 0) keepTtl = true;
      else if (expiry === 0 && !keepTtl && i + 1 < args.length && (args.is(i, "ex") || args.is(i, "px"))) {
        unitMs = args.is(i, "ex") ? 1000 : 1;
        expiry = ++i;
      } else {
        ctx.out.error(SYNTAX_ERROR);
        return;
      }
    }
    let expiresAt = Infinity;
    if (expiry !== 0) {
      const amount = args.int64(expiry);
      if (amount === null) {
        ctx.out.error(NOT_AN_INTEGER);
        return;
      }
      // Redis's bound is int64 milliseconds; a deadline past 2^53 ms (285,000 years) is
      // refused here, where doubles would stop being exact.
      const ms = typeof amount === "bigint" ? Infinity : amount * unitMs;
      if (ms <= 0 || !Number.isSafeInteger(ms)) {
        ctx.out.error("ERR invalid expire time in 'set' command");
        return;
      }
      expiresAt = ctx.keyspace.clock() + ms;
    }
    const key = args.latin1(1);
    // A plain SET has no use for the old value: one lookup fewer.
    const old = nx || xx || returnOld ? ctx.keyspace.get(key) : undefined;
    if ((nx && old !== undefined) || (xx && old === undefined)) {
      if (returnOld) ctx.out.bulk(old ?? null);
      else ctx.out.nullBulk();
      return;
    }
    // Not a view of the whole chunk the argument arrived in (see CommandArgs.value).
    ctx.keyspace.set(key, args.value(2), expiresAt, keepTtl);
    if (returnOld) ctx.out.bulk(old ?? null);
    else ctx.out.simple(OK);
  },
};

/** `INCR key`: the int64 in the key plus one; a missing key counts as 0; keeps the TTL. */
export const incr: Command = {
  name: "incr",
  arity: 2,
  run(ctx, args) {
    incrementBy(ctx, args.latin1(1), 1);
  },
};

/** `INCRBY key delta`, `DECRBY key delta`, `DECR key`: INCR by another step (redis-py's `incr` sends INCRBY). */
function stepCommand(name: string, arity: number, sign: 1 | -1): Command {
  return {
    name,
    arity,
    run(ctx, args) {
      let delta: number | bigint = 1;
      if (arity === 3) {
        const parsed = args.int64(2);
        if (parsed === null) {
          ctx.out.error(NOT_AN_INTEGER);
          return;
        }
        delta = parsed;
      }
      incrementBy(ctx, args.latin1(1), sign === 1 ? delta : -delta);
    },
  };
}

export const incrby = stepCommand("incrby", 3, 1);
export const decrby = stepCommand("decrby", 3, -1);
export const decr = stepCommand("decr", 2, -1);

function incrementBy(ctx: CommandContext, key: string, delta: number | bigint): void {
  const stored = ctx.keyspace.get(key);
  const current = stored === undefined ? 0 : parseInt64(stored);
  if (current === null) {
    ctx.out.error(NOT_AN_INTEGER);
    return;
  }
  let next: number | bigint;
  if (typeof current === "number" && typeof delta === "number" && Number.isSafeInteger(current + delta)) {
    next = current + delta;
  } else {
    next = BigInt(current) + BigInt(delta);
    if (next > INT64_MAX || next < -INT64_MAX - 1n) {
      ctx.out.error("ERR increment or decrement would overflow");
      return;
    }
  }
  ctx.keyspace.set(key, latin1Bytes(String(next)), Infinity, true);
  ctx.out.integer(next);
}

export const mget: Command = {
  name: "mget",
  arity: -2,
  run(ctx, args) {
    ctx.out.arrayHeader(args.length - 1);
    for (let i = 1; i < args.length; i++) {
      const value = ctx.keyspace.get(args.latin1(i));
      if (value === undefined) ctx.out.nullBulk();
      else ctx.out.bulk(value);
    }
  },
};

/** `MSET key value [key value …]`: sets every pair, clearing their TTLs, as SET does. */
export const mset: Command = {
  name: "mset",
  arity: -3,
  run(ctx, args) {
    if (args.length % 2 === 0) {
      ctx.out.error("ERR wrong number of arguments for 'mset' command");
      return;
    }
    for (let i = 1; i < args.length; i += 2) {
      ctx.keyspace.set(args.latin1(i), args.value(i + 1));
    }
    ctx.out.simple(OK);
  },
};

export const stringCommands: readonly Command[] = [get, set, incr, incrby, decr, decrby, mget, mset];

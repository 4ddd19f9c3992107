/**
 * MULTI / EXEC / DISCARD (Redis `multi.c`, without WATCH): commands after MULTI are
 * checked and queued (`+QUEUED`); EXEC runs them back to back and answers an array of
 * their replies. Nothing else runs in between — the server runs one command at a time —
 * which is all a transaction promises. A command refused while queueing (unknown, wrong
 * arity) makes EXEC abort. redis-py's `pipeline()` uses a transaction by default.
 */

import { runCommand } from "./index.js";
import type { Command } from "./context.js";

export const multi: Command = {
  name: "multi",
  arity: 1,
  inTransaction: true,
  run(ctx) {
    if (ctx.transaction != null) {
      ctx.out.error("ERR MULTI calls can not be nested");
      return;
    }
    ctx.transaction = [];
    ctx.transactionFailed = false;
    ctx.out.simple("OK");
  },
};

export const exec: Command = {
  name: "exec",
  arity: 1,
  inTransaction: true,
  run(ctx) {
    const queued = ctx.transaction;
    if (queued == null) {
      ctx.out.error("ERR EXEC without MULTI");
      return;
    }
    ctx.transaction = null;
    if (ctx.transactionFailed === true) {
      ctx.transactionFailed = false;
      ctx.out.error("EXECABORT Transaction discarded because of previous errors.");
      return;
    }
    ctx.out.arrayHeader(queued.length);
    for (const args of queued) runCommand(ctx, args);
  },
};

export const discard: Command = {
  name: "discard",
  arity: 1,
  inTransaction: true,
  run(ctx) {
    if (ctx.transaction == null) {
      ctx.out.error("ERR DISCARD without MULTI");
      return;
    }
    ctx.transaction = null;
    ctx.transactionFailed = false;
    ctx.out.simple("OK");
  },
};

export const transactionCommands: readonly Command[] = [multi, exec, discard];

/**
 * The command table and its dispatcher: finds the command, checks its arity and the
 * connection's mode, runs it. Error replies and their wording are Redis 7.0's, so that
 * clients and tools that match on them behave as they do against Redis.
 */

import { CommandArgs } from "../args.js";
import { latin1 } from "../bytes.js";
import { connectionCommands } from "./connection.js";
import type { Command, CommandContext } from "./context.js";
import { info } from "./info.js";
import { transactionCommands } from "./transactions.js";
import { keyCommands } from "./keys.js";
import { pubsubCommands } from "./pubsub.js";
import { stringCommands } from "./strings.js";

export type { Command, CommandContext, ServerFacts } from "./context.js";

/**
 * `COMMAND [COUNT | DOCS …]`: clients ask for the command table, `redis-cli` for docs to
 * show hints. An empty table (or the count) is a valid answer that makes them carry on.
 */
const commandCommand: Command = {
  name: "command",
  arity: -1,
  run(ctx, args) {
    if (args.length >= 2 && args.is(1, "count")) ctx.out.integer(commands.length);
    else ctx.out.arrayHeader(0);
  },
};

/** Every command the server knows. */
export const commands: readonly Command[] = [
  ...connectionCommands,
  ...stringCommands,
  ...keyCommands,
  ...pubsubCommands,
  info,
  ...transactionCommands,
  commandCommand,
];

/**
 * Lookup by the name as sent. Both the lower and the upper case spelling are keys, so
 * the usual `GET`/`get` hit the map without a `toLowerCase()` per command; mixed case
 * takes the slow path.
 */
const table = new Map<string, Command>();
for (const c of commands) {
  table.set(c.name, c);
  table.set(c.name.toUpperCase(), c);
}

/** Looks a command up by name, in any case. */
export function findCommand(name: string): Command | undefined {
  return table.get(name) ?? table.get(name.toLowerCase());
}

/**
 * Runs one command given as byte arrays (`args[0]` is its name) and appends its reply to
 * `ctx.out`: `runCommand` for tests and tools, at the cost of a copy of the arguments.
 * @example
 * execute(ctx, [utf8Bytes("SET"), utf8Bytes("k"), utf8Bytes("v")]);
 */
export function execute(ctx: CommandContext, args: readonly Uint8Array[]): void {
  runCommand(ctx, CommandArgs.of(args));
}

/**
 * Runs one command (`args.latin1(0)` is its name) and appends its reply to `ctx.out`.
 * Never throws for bad input: unknown commands, wrong arities and commands not allowed in
 * subscribed mode get error replies, as in Redis's `processCommand`.
 */
export function runCommand(ctx: CommandContext, args: CommandArgs): void {
  const name = args.latin1(0);
  const command = findCommand(name);
  if (command === undefined) {
    if (ctx.transaction != null) ctx.transactionFailed = true;
    ctx.out.error(unknownCommandMessage(name, args));
    return;
  }
  const arity = command.arity;
  if ((arity > 0 && args.length !== arity) || args.length < -arity) {
    if (ctx.transaction != null) ctx.transactionFailed = true;
    ctx.out.error(`ERR wrong number of arguments for '${command.name}' command`);
    return;
  }
  if (ctx.transaction != null && !command.inTransaction) {
    // Queued as they are now: the arguments are ranges of the read buffer, and `args` is
    // refilled by the next command.
    ctx.transaction.push(args.detach());
    ctx.out.simple("QUEUED");
    return;
  }
  // RESP2 cannot tell a reply from a pushed message, so a subscribed RESP2 connection is
  // limited to the pub/sub commands; RESP3 pushes are typed, and any command goes.
  if (command.inSubscribedMode !== true && ctx.subscriber !== null && ctx.subscriber.channels.size > 0 && !ctx.out.resp3) {
    ctx.out.error(
      `ERR Can't execute '${command.name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`,
    );
    return;
  }
  command.run(ctx, args);
}

/** Redis 7.0's `ERR unknown command 'x', with args beginning with: 'a' 'b' `, cut as Redis cuts it. */
function unknownCommandMessage(name: string, args: CommandArgs): string {
  let quoted = "";
  for (let i = 1; i < args.length && quoted.length < 128; i++) {
    quoted += `'${latin1(args.bytes(i).subarray(0, 128 - quoted.length))}' `;
  }
  return `ERR unknown command '${name.slice(0, 128)}', with args beginning with: ${quoted}`;
}

/**
 * Connection and server commands: PING, ECHO, QUIT, SELECT, HELLO, CLIENT, CONFIG GET,
 * DBSIZE, FLUSHALL/FLUSHDB — the small talk that real clients and tools (`redis-cli`,
 * `redis-benchmark`, client libraries) make before and around the data commands.
 */

import { equalsIgnoreCase, latin1, parseInt64, utf8 } from "../bytes.js";
import { globMatch } from "../glob.js";
import { NOT_AN_INTEGER, SYNTAX_ERROR, type Command, type CommandContext } from "./context.js";

/** `PING [message]`; in subscribed mode the RESP2 reply is `["pong", message]`, as Redis sends. */
export const ping: Command = {
  name: "ping",
  arity: -1,
  inSubscribedMode: true,
  run(ctx, args) {
    if (args.length > 2) {
      ctx.out.error("ERR wrong number of arguments for 'ping' command");
    } else if (ctx.subscriber !== null && ctx.subscriber.channels.size > 0) {
      ctx.out.arrayHeader(2);
      ctx.out.bulkLatin1("pong");
      ctx.out.bulk(args.length === 2 ? args[1] : EMPTY);
    } else if (args.length === 2) {
      ctx.out.bulk(args[1]);
    } else {
      ctx.out.simple("PONG");
    }
  },
};

const EMPTY = new Uint8Array(0);

export const echo: Command = {
  name: "echo",
  arity: 2,
  run(ctx, args) {
    ctx.out.bulk(args[1]);
  },
};

export const quit: Command = {
  name: "quit",
  arity: -1,
  inSubscribedMode: true,
  run(ctx) {
    ctx.out.simple("OK");
    ctx.closeAfterReply();
  },
};

/** `SELECT index`: there is one database, number 0. */
export const select: Command = {
  name: "select",
  arity: 2,
  run(ctx, args) {
    const index = parseInt64(args[1]);
    if (index === null) ctx.out.error(NOT_AN_INTEGER);
    else if (index !== 0) ctx.out.error("ERR DB index is out of range");
    else ctx.out.simple("OK");
  },
};

/** `HELLO [2]`: protocol negotiation; only RESP2 is spoken, so HELLO 3 is refused as Redis 6 refuses it. */
export const hello: Command = {
  name: "hello",
  arity: -1,
  run(ctx, args) {
    if (args.length > 1) {
      const version = parseInt64(args[1]);
      if (version === null) {
        ctx.out.error("ERR Protocol version is not an integer or out of range");
        return;
      }
      if (version !== 2) {
        ctx.out.error("NOPROTO unsupported protocol version");
        return;
      }
    }
    const out = ctx.out;
    out.arrayHeader(14);
    out.bulkLatin1("server");
    out.bulkLatin1("loop-kv");
    out.bulkLatin1("version");
    out.bulkLatin1("7.0.0");
    out.bulkLatin1("proto");
    out.integer(2);
    out.bulkLatin1("id");
    out.integer(ctx.clientId);
    out.bulkLatin1("mode");
    out.bulkLatin1("standalone");
    out.bulkLatin1("role");
    out.bulkLatin1("master");
    out.bulkLatin1("modules");
    out.arrayHeader(0);
  },
};

/** `CLIENT ID | GETNAME | SETNAME name | SETINFO attr value`. */
export const client: Command = {
  name: "client",
  arity: -2,
  run(ctx, args) {
    const sub = args[1];
    if (equalsIgnoreCase(sub, "id") && args.length === 2) ctx.out.integer(ctx.clientId);
    else if (equalsIgnoreCase(sub, "getname") && args.length === 2) {
      if (ctx.clientName === null) ctx.out.nullBulk();
      else ctx.out.bulkLatin1(ctx.clientName);
    } else if (equalsIgnoreCase(sub, "setname") && args.length === 3) {
      const name = latin1(args[2]);
      if (/[\s]/.test(name)) {
        ctx.out.error("ERR Client names cannot contain spaces, newlines or special characters.");
        return;
      }
      ctx.clientName = name === "" ? null : name;
      ctx.out.simple("OK");
    } else if (equalsIgnoreCase(sub, "setinfo") && args.length === 4) {
      ctx.out.simple("OK");
    } else {
      unknownSubcommand(ctx, "CLIENT", sub);
    }
  },
};

/**
 * The configuration `CONFIG GET` reports: what `redis-benchmark` asks about before it
 * starts (and aborts on an error reply).
 */
const config: ReadonlyMap<string, string> = new Map([
  ["save", ""],
  ["appendonly", "no"],
  ["databases", "1"],
  ["maxmemory", "0"],
]);

/** `CONFIG GET parameter [parameter …]` (glob patterns allowed); CONFIG SET is refused. */
export const configCommand: Command = {
  name: "config",
  arity: -2,
  run(ctx, args) {
    const sub = args[1];
    if (!equalsIgnoreCase(sub, "get") || args.length < 3) {
      unknownSubcommand(ctx, "CONFIG", sub);
      return;
    }
    const found: string[] = [];
    for (let i = 2; i < args.length; i++) {
      const pattern = latin1(args[i]).toLowerCase();
      for (const [name, value] of config) {
        if (globMatch(pattern, name) && !found.includes(name)) found.push(name, value);
      }
    }
    ctx.out.arrayHeader(found.length);
    for (const word of found) ctx.out.bulkLatin1(word);
  },
};

export const dbsize: Command = {
  name: "dbsize",
  arity: 1,
  run(ctx) {
    ctx.out.integer(ctx.keyspace.size);
  },
};

/** `FLUSHALL [ASYNC | SYNC]` and `FLUSHDB`: delete every key. */
function flush(name: string): Command {
  return {
    name,
    arity: -1,
    run(ctx, args) {
      if (args.length > 2 || (args.length === 2 && !equalsIgnoreCase(args[1], "async") && !equalsIgnoreCase(args[1], "sync"))) {
        ctx.out.error(SYNTAX_ERROR);
        return;
      }
      ctx.keyspace.clear();
      ctx.out.simple("OK");
    },
  };
}

function unknownSubcommand(ctx: CommandContext, command: string, sub: Uint8Array): void {
  ctx.out.error(`ERR unknown subcommand '${utf8(sub).slice(0, 128)}'. Try ${command} HELP.`);
}

export const connectionCommands: readonly Command[] = [
  ping,
  echo,
  quit,
  select,
  hello,
  client,
  configCommand,
  dbsize,
  flush("flushall"),
  flush("flushdb"),
];


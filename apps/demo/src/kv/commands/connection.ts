/**
 * Connection and server commands: PING, ECHO, QUIT, SELECT, HELLO, CLIENT, CONFIG GET,
 * DBSIZE, FLUSHALL/FLUSHDB — the small talk that real clients and tools (`redis-cli`,
 * `redis-benchmark`, client libraries) make before and around the data commands.
 */

import { equalsIgnoreCase, utf8 } from "../bytes.js";
import { globMatch } from "../glob.js";
import { NOT_AN_INTEGER, SYNTAX_ERROR, type Command, type CommandContext } from "./context.js";
import { REDIS_VERSION } from "./info.js";

/** `PING [message]`; in subscribed mode the RESP2 reply is `["pong", message]`, as Redis sends. */
export const ping: Command = {
  name: "ping",
  arity: -1,
  inSubscribedMode: true,
  run(ctx, args) {
    if (args.length > 2) {
      ctx.out.error("ERR wrong number of arguments for 'ping' command");
    } else if (ctx.subscriber !== null && ctx.subscriber.channels.size > 0 && !ctx.out.resp3) {
      ctx.out.arrayHeader(2);
      ctx.out.bulkLatin1("pong");
      ctx.out.bulk(args.length === 2 ? args.bytes(1) : EMPTY);
    } else if (args.length === 2) {
      ctx.out.bulk(args.bytes(1));
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
    ctx.out.bulk(args.bytes(1));
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
    const index = args.int64(1);
    if (index === null) ctx.out.error(NOT_AN_INTEGER);
    else if (index !== 0) ctx.out.error("ERR DB index is out of range");
    else ctx.out.simple("OK");
  },
};

/**
 * `HELLO [protover [SETNAME name]]`: protocol negotiation, RESP2 or RESP3 (what node-redis
 * asks for by default). The reply is a map, in the protocol just chosen. AUTH is refused:
 * this server has no passwords.
 */
export const hello: Command = {
  name: "hello",
  arity: -1,
  inSubscribedMode: true,
  run(ctx, args) {
    let resp3 = ctx.out.resp3;
    let name: string | null | undefined;
    if (args.length > 1) {
      const version = args.int64(1);
      if (version === null) {
        ctx.out.error("ERR Protocol version is not an integer or out of range");
        return;
      }
      if (version !== 2 && version !== 3) {
        ctx.out.error("NOPROTO unsupported protocol version");
        return;
      }
      resp3 = version === 3;
      for (let i = 2; i < args.length; i++) {
        if (args.is(i, "setname") && i + 1 < args.length) {
          name = args.latin1(++i);
          if (!validClientName(name)) {
            ctx.out.error(BAD_CLIENT_NAME);
            return;
          }
        } else if (args.is(i, "auth")) {
          ctx.out.error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?");
          return;
        } else {
          ctx.out.error(`ERR Syntax error in HELLO option '${utf8(args.bytes(i)).slice(0, 128)}'`);
          return;
        }
      }
    }
    if (name !== undefined) ctx.clientName = name === "" ? null : name;
    const out = ctx.out;
    out.resp3 = resp3;
    if (ctx.subscriber !== null) ctx.subscriber.resp3 = resp3;
    out.mapHeader(7);
    out.bulkLatin1("server");
    out.bulkLatin1("loop-kv");
    out.bulkLatin1("version");
    out.bulkLatin1(REDIS_VERSION);
    out.bulkLatin1("proto");
    out.integer(resp3 ? 3 : 2);
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
    const sub = args.bytes(1);
    if (equalsIgnoreCase(sub, "id") && args.length === 2) ctx.out.integer(ctx.clientId);
    else if (equalsIgnoreCase(sub, "getname") && args.length === 2) {
      if (ctx.clientName === null) ctx.out.nullBulk();
      else ctx.out.bulkLatin1(ctx.clientName);
    } else if (equalsIgnoreCase(sub, "setname") && args.length === 3) {
      const name = args.latin1(2);
      if (!validClientName(name)) {
        ctx.out.error(BAD_CLIENT_NAME);
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

const BAD_CLIENT_NAME = "ERR Client names cannot contain spaces, newlines or special characters.";

/** Redis's rule: printable ASCII without spaces (`'!'` to `'~'`). */
function validClientName(name: string): boolean {
  return /^[!-~]*$/.test(name);
}

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
    const sub = args.bytes(1);
    if (!equalsIgnoreCase(sub, "get") || args.length < 3) {
      unknownSubcommand(ctx, "CONFIG", sub);
      return;
    }
    const found: string[] = [];
    for (let i = 2; i < args.length; i++) {
      const pattern = args.latin1(i).toLowerCase();
      for (const [name, value] of config) {
        if (globMatch(pattern, name) && !found.includes(name)) found.push(name, value);
      }
    }
    ctx.out.mapHeader(found.length / 2);
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
      if (args.length > 2 || (args.length === 2 && !args.is(1, "async") && !args.is(1, "sync"))) {
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


/**
 * A key-value server speaking the Redis protocol (RESP2), built on @loop: the demo's
 * "real clients" stop. `redis-cli` and `redis-benchmark` work against it.
 */
export { startKvServer, KvServer } from "./server.js";
export type { KvServerOptions, KvServerStats } from "./server.js";
export { KvClient } from "./client.js";
export type { CommandArg } from "./client.js";
export { CommandParser, RespProtocolError, parseCommands, splitInlineArgs, defaultRespLimits } from "./resp-parser.js";
export type { RespLimits } from "./resp-parser.js";
export { ReplyBuffer, encodeCommand } from "./resp-writer.js";
export { ReplyParser, ReplyError, INCOMPLETE, parseReplies } from "./reply-parser.js";
export type { RespValue } from "./reply-parser.js";
export { Keyspace } from "./keyspace.js";
export { PubSub, Subscriber } from "./pubsub.js";
export { globMatch } from "./glob.js";
export { execute, runCommand, commands } from "./commands/index.js";
export { CommandArgs } from "./args.js";
export type { Command, CommandContext } from "./commands/index.js";

/**
 * A small RESP2 client on `@loop/net`'s `openConnection`: what the demo's self-check and
 * the tests use to talk to the server (and it talks to a real `redis-server` just as well).
 */

import type { Coroutine } from "@loop/core";
import { openConnection, type StreamReader, type StreamWriter } from "@loop/net";
import { INCOMPLETE, ReplyError, ReplyParser, type RespValue } from "./reply-parser.js";
import { concat, encodeCommand } from "./resp-writer.js";

export type CommandArg = string | Uint8Array | number;

/**
 * One connection to a RESP2 server. Requests are answered in order, so `command` sends
 * and waits for its reply; `pipeline` sends a batch in one write and reads the replies.
 * Only one coroutine should use a client at a time.
 * @example
 * const client = yield* KvClient.connect("127.0.0.1", 6379);
 * yield* client.command("SET", "greeting", "hello");
 * const value = yield* client.command("GET", "greeting"); // Uint8Array "hello"
 * yield* client.close();
 */
export class KvClient {
  private readonly parser = new ReplyParser();

  private constructor(
    private readonly reader: StreamReader,
    private readonly writer: StreamWriter,
  ) {}

  /** Connects to `host:port`. Arguments are checked at the call. */
  static connect(host: string, port: number): Coroutine<KvClient> {
    if (typeof host !== "string") throw new TypeError(`KvClient.connect(host, port): host must be a string, got ${typeof host}`);
    if (typeof port !== "number") throw new TypeError(`KvClient.connect(host, port): port must be a number, got ${typeof port}`);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`KvClient.connect(host, port): port must be an integer from 1 to 65535, got ${port}`);
    return connectTo(host, port);
  }

  /** @internal */
  static _wrap(reader: StreamReader, writer: StreamWriter): KvClient {
    return new KvClient(reader, writer);
  }

  /** Sends one command and returns its reply; an error reply is returned as a `ReplyError` value, not thrown. */
  command(...args: CommandArg[]): Coroutine<RespValue> {
    if (args.length === 0) throw new RangeError("KvClient.command(...args): give at least the command name");
    return this.roundTrip([args]);
  }

  /** Like `command`, but throws an error reply. */
  call(...args: CommandArg[]): Coroutine<RespValue> {
    if (args.length === 0) throw new RangeError("KvClient.call(...args): give at least the command name");
    return this.callChecked(args);
  }

  /** Sends every command in one write, then returns their replies in order. */
  pipeline(commands: readonly (readonly CommandArg[])[]): Coroutine<RespValue[]> {
    if (commands.length === 0) throw new RangeError("KvClient.pipeline(commands): give at least one command");
    return this.roundTripAll(commands);
  }

  /** Waits for the next value the server pushes (a pub/sub message, in subscribed mode). */
  nextReply(): Coroutine<RespValue> {
    return this.readReply();
  }

  /** Closes the connection. */
  *close(): Coroutine<void> {
    this.writer.close();
    yield* this.writer.waitClosed();
  }

  private *callChecked(args: CommandArg[]): Coroutine<RespValue> {
    const reply = yield* this.roundTrip([args]);
    if (reply instanceof ReplyError) throw reply;
    return reply;
  }

  private *roundTrip(commands: readonly (readonly CommandArg[])[]): Coroutine<RespValue> {
    const replies = yield* this.roundTripAll(commands);
    return replies[0] as RespValue;
  }

  private *roundTripAll(commands: readonly (readonly CommandArg[])[]): Coroutine<RespValue[]> {
    this.writer.write(concat(commands.map((args) => encodeCommand(args.map((a) => (typeof a === "number" ? String(a) : a))))));
    yield* this.writer.drain();
    const replies: RespValue[] = [];
    for (let i = 0; i < commands.length; i++) replies.push(yield* this.readReply());
    return replies;
  }

  private *readReply(): Coroutine<RespValue> {
    for (;;) {
      const reply = this.parser.next();
      if (reply !== INCOMPLETE) return reply;
      const chunk = yield* this.reader.read(64 * 1024);
      if (chunk.length === 0) throw new Error("KvClient: the server closed the connection");
      this.parser.feed(chunk);
    }
  }
}

function* connectTo(host: string, port: number): Coroutine<KvClient> {
  const [reader, writer] = yield* openConnection(host, port);
  return KvClient._wrap(reader, writer);
}

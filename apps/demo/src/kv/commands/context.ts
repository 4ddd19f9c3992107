import type { Keyspace } from "../keyspace.js";
import type { PubSub, Subscriber } from "../pubsub.js";
import type { ReplyBuffer } from "../resp-writer.js";

/**
 * What a command sees of its connection and of the server. The connection (`session.ts`)
 * implements it; the command tests use a plain object, so commands are tested without
 * sockets.
 */
export interface CommandContext {
  readonly keyspace: Keyspace;
  readonly pubsub: PubSub;
  /** Where replies go; the connection writes it out after the batch. */
  readonly out: ReplyBuffer;
  /** Connection number (CLIENT ID). */
  readonly clientId: number;
  /** Set by CLIENT SETNAME. */
  clientName: string | null;
  /** This connection's subscriber, once it has subscribed to something. */
  readonly subscriber: Subscriber | null;
  /** The connection's subscriber, created (and its pump started) on the first call. */
  startSubscriber(): Subscriber;
  /** Close the connection once the replies so far are written (QUIT). */
  closeAfterReply(): void;
}

/** One entry of the command table. */
export interface Command {
  /** Lower case, as Redis names commands in its error messages. */
  readonly name: string;
  /** Redis's convention: n means exactly n words (the name included), -n at least n. */
  readonly arity: number;
  /** Allowed while the connection is in subscribed mode (RESP2). */
  readonly inSubscribedMode?: boolean;
  run(ctx: CommandContext, args: Uint8Array[]): void;
}

export const NOT_AN_INTEGER = "ERR value is not an integer or out of range";
export const SYNTAX_ERROR = "ERR syntax error";

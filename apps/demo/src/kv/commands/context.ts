import type { CommandArgs } from "../args.js";
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
  /**
   * The commands queued since MULTI, or null outside a transaction; `transactionFailed`
   * once a queued command was refused (EXEC then aborts, as Redis's EXECABORT).
   */
  transaction?: CommandArgs[] | null;
  transactionFailed?: boolean;
  /** What INFO reports about the server; absent for a connection without one (tests). */
  readonly server?: ServerFacts;
}

/** The server-wide facts INFO prints. */
export interface ServerFacts {
  /** The TCP port listened on. */
  readonly port: number;
  /** When the server started (`Date.now()`). */
  readonly startedAt: number;
  /** Open connections. */
  readonly connections: number;
  readonly stats: { readonly connectionsAccepted: number; readonly commandsProcessed: number };
}

/** One entry of the command table. */
export interface Command {
  /** Lower case, as Redis names commands in its error messages. */
  readonly name: string;
  /** Redis's convention: n means exactly n words (the name included), -n at least n. */
  readonly arity: number;
  /** Allowed while the connection is in subscribed mode (RESP2). */
  readonly inSubscribedMode?: boolean;
  /** Runs at once inside MULTI instead of being queued (MULTI, EXEC, DISCARD). */
  readonly inTransaction?: boolean;
  run(ctx: CommandContext, args: CommandArgs): void;
}

export const NOT_AN_INTEGER = "ERR value is not an integer or out of range";
export const SYNTAX_ERROR = "ERR syntax error";

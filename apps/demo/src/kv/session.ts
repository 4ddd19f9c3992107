/**
 * One client connection: read, parse every complete command, run them, write all the
 * replies at once, wait for `drain()`, repeat.
 *
 * That loop is what makes pipelining fast (`redis-benchmark -P 16` sends 16 commands in
 * one packet and gets 16 replies in one write) and what gives backpressure both ways: a
 * client that sends faster than it reads finds us waiting in `drain()` instead of reading
 * more, and a huge pipelined batch is written out in slices of `FLUSH_THRESHOLD` bytes,
 * each drained before the next commands run.
 */

import { CancelledError, getRunningLoop, type Coroutine, type Task } from "@loop/core";
import type { StreamReader, StreamWriter } from "@loop/net";
import { QueueShutDown } from "@loop/sync";
import type { CommandArgs } from "./args.js";
import { runCommand } from "./commands/index.js";
import type { CommandContext, ServerFacts } from "./commands/context.js";
import type { Keyspace } from "./keyspace.js";
import { OutputLimitCheck, type OutputBufferLimit } from "./output-limit.js";
import { Subscriber, type PubSub } from "./pubsub.js";
import { CommandParser, RespProtocolError, type RespLimits } from "./resp-parser.js";
import { ReplyBuffer } from "./resp-writer.js";

/** Most bytes asked of the reader at once. */
const READ_SIZE = 64 * 1024;
/** Replies buffered past this are written (and drained) before more commands run. */
const FLUSH_THRESHOLD = 64 * 1024;

/** What a session needs from its server. */
export interface SessionHost {
  readonly keyspace: Keyspace;
  readonly pubsub: PubSub;
  readonly limits: RespLimits;
  readonly subscriberQueueSize: number;
  /** Output limits of ordinary connections and of subscribers. */
  readonly outputLimits: { readonly normal: OutputBufferLimit; readonly pubsub: OutputBufferLimit };
  /** Set once shutdown began: sessions leave after their current batch. */
  readonly draining: boolean;
  readonly stats: { commandsProcessed: number; protocolErrors: number };
  /** What INFO reports about the server. */
  readonly facts?: ServerFacts;
  log(line: string): void;
}

/** Outcome of running the buffered commands. */
const enum Batch {
  /** Everything buffered ran; read more. */
  NeedInput,
  /** The replies reached the flush threshold: write them, drain, then go on. */
  Flush,
  /** QUIT, or a protocol error (its reply is buffered): write the replies, then close. */
  Close,
}

export class Session implements CommandContext {
  readonly out = new ReplyBuffer();
  readonly keyspace: Keyspace;
  readonly pubsub: PubSub;
  clientName: string | null = null;
  transaction: CommandArgs[] | null = null;
  transactionFailed = false;
  subscriber: Subscriber | null = null;
  /** True while waiting for the client's next request: shutdown may cancel the session there. */
  idle = false;
  /** The handler task serving this connection. */
  readonly task: Task<unknown> | null;
  private readonly parser: CommandParser;
  private quitting = false;
  private pump: Task<void> | null = null;
  /** The normal class's limit on replies not yet sent; null when it has none (the default). */
  private readonly outputCheck: OutputLimitCheck | null;

  constructor(
    private readonly host: SessionHost,
    readonly clientId: number,
    private readonly reader: StreamReader,
    private readonly writer: StreamWriter,
    task: Task<unknown> | null,
  ) {
    this.keyspace = host.keyspace;
    this.pubsub = host.pubsub;
    this.parser = new CommandParser(host.limits);
    this.task = task;
    const normal = host.outputLimits.normal;
    this.outputCheck = normal.hardBytes > 0 || normal.softBytes > 0 ? new OutputLimitCheck(normal, clock) : null;
  }

  /** The connection's life: returns when the client leaves, QUITs, breaks the protocol, or shutdown ends it. */
  *serve(): Coroutine<void> {
    const { reader, writer, out, parser } = this;
    try {
      for (;;) {
        if (this.host.draining) break;
        this.idle = true;
        let chunk: Uint8Array;
        try {
          chunk = yield* reader.read(READ_SIZE);
        } finally {
          this.idle = false;
        }
        // End of stream: a partial command left in the parser is dropped, as Redis does.
        if (chunk.length === 0) break;
        parser.feed(chunk);
        let batch: Batch;
        do {
          batch = this.runBatch();
          if (out.size > 0) {
            const chunks = out.take();
            if (chunks.length === 1) writer.write(chunks[0] as Uint8Array);
            else writer.writelines(chunks);
            // Checked where Redis checks, as replies are added: a client over its limit is
            // dropped with what it did not read.
            if (this.outputCheck !== null && this.outputCheck.exceeded(writer.transport.getWriteBufferSize())) {
              this.host.log(`kv-server: client #${this.clientId} is over its output buffer limit: disconnecting it`);
              writer.transport.abort();
              break;
            }
            yield* writer.drain();
          }
        } while (batch === Batch.Flush);
        if (batch === Batch.Close || writer.transport.isClosing()) break;
      }
    } catch (error) {
      // The peer went away (reset, broken pipe): nothing to answer.
      if (isConnectionError(error)) return;
      // Shutdown cancels sessions that wait for a request: a normal end.
      if (error instanceof CancelledError && this.host.draining) return;
      throw error;
    } finally {
      this.stopSubscriber();
      writer.close();
    }
  }

  /** Runs the complete commands in the parser (the hot path: no suspension in here). */
  private runBatch(): Batch {
    const { parser, out, host } = this;
    if (this.subscriber !== null) this.takeQueuedMessages(this.subscriber);
    for (;;) {
      let args: CommandArgs | null;
      try {
        args = parser.nextArgs();
      } catch (error) {
        if (!(error instanceof RespProtocolError)) throw error;
        host.stats.protocolErrors++;
        out.error(`ERR ${error.message}`);
        return Batch.Close;
      }
      if (args === null) return Batch.NeedInput;
      host.stats.commandsProcessed++;
      try {
        runCommand(this, args);
      } catch (error) {
        // A bug in a command must cost its client one error reply, not the connection.
        out.error(`ERR internal error: ${error instanceof Error ? error.message : String(error)}`);
        getRunningLoop().callExceptionHandler({ message: "kv-server: command failed", exception: error });
      }
      if (this.quitting) return Batch.Close;
      if (out.size >= FLUSH_THRESHOLD) return Batch.Flush;
    }
  }

  startSubscriber(): Subscriber {
    const transport = (): number => this.writer.transport.getWriteBufferSize();
    const output = { check: new OutputLimitCheck(this.host.outputLimits.pubsub, clock), socketBytes: transport };
    const subscriber = new Subscriber(this.host.subscriberQueueSize, () => this.dropSlowSubscriber(), output);
    this.subscriber = subscriber;
    this.pump = getRunningLoop().createTask(this.pumpMessages(subscriber), { name: `kv subscriber #${this.clientId}` });
    return subscriber;
  }

  closeAfterReply(): void {
    this.quitting = true;
  }

  get server(): ServerFacts | undefined {
    return this.host.facts;
  }

  /**
   * Moves the messages queued for this subscriber into the reply buffer, ahead of the
   * replies of the batch about to run: they were published before those commands, so
   * they must reach the client first (UNSUBSCRIBE's reply after the last message). One
   * message can still come after: the one already handed to the pump when the queue woke
   * it, if this batch runs in the same loop turn before the pump does.
   */
  private takeQueuedMessages(subscriber: Subscriber): void {
    const queue = subscriber.queue;
    while (!queue.empty()) {
      const frame = queue.getNowait();
      subscriber.taken(frame);
      this.out.raw(frame);
    }
  }

  /** Writes queued messages as they come, batching what piled up meanwhile, at the socket's pace. */
  private *pumpMessages(subscriber: Subscriber): Coroutine<void> {
    const { queue } = subscriber;
    const writer = this.writer;
    try {
      for (;;) {
        let frame = yield* queue.get();
        subscriber.taken(frame);
        writer.write(frame);
        while (!queue.empty()) {
          frame = queue.getNowait();
          subscriber.taken(frame);
          writer.write(frame);
        }
        // While this waits, messages pile up in the bounded queue: the backpressure that
        // ends in the subscriber being dropped.
        yield* writer.drain();
      }
    } catch (error) {
      if (error instanceof QueueShutDown || isConnectionError(error)) return;
      throw error;
    }
  }

  /**
   * The subscriber's queue overflowed (called from inside a PUBLISH on another
   * connection): abort this connection, dropping what its socket still buffers. The
   * session's read then fails and `serve` ends.
   */
  private dropSlowSubscriber(): void {
    this.host.log(`kv-server: subscriber #${this.clientId} is too slow (over its output buffer limit): disconnecting it`);
    this.writer.transport.abort();
    this.stopSubscriber();
  }

  private stopSubscriber(): void {
    const subscriber = this.subscriber;
    if (subscriber === null) return;
    this.pubsub.unsubscribeAll(subscriber);
    subscriber.queue.shutdown(true);
    this.pump?.cancel();
  }
}

function clock(): number {
  return getRunningLoop().time();
}

/** A lost connection, as the streams layer reports it (Node system errors carry a `code`). */
function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === "ConnectionResetError") return true;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && /^(ECONNRESET|EPIPE|ECONNABORTED|ERR_STREAM_DESTROYED|ERR_STREAM_WRITE_AFTER_END|ETIMEDOUT)$/.test(code);
}

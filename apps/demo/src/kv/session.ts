/**
 * One client connection, as an asyncio protocol (`createServer`'s `Protocol`): each read
 * is parsed, every complete command in it runs, and all the replies leave in one write.
 *
 * That is what makes pipelining fast (`redis-benchmark -P 16` sends 16 commands in one
 * packet and gets 16 replies in one write), with no task, reader or writer between the
 * socket and the parser. Backpressure goes both ways, as in asyncio's protocols: once
 * the transport's write buffer is past its high-water mark (`pauseWriting`), the session
 * stops running commands and stops reading, so a client that sends faster than it reads
 * makes us wait instead of buffering its replies; `resumeWriting` picks up where it
 * stopped. A huge pipelined batch is written out in slices of `FLUSH_THRESHOLD` bytes,
 * and no more commands run while a slice waits for the socket.
 */

import { getRunningLoop, type BaseTransport, type Coroutine, type Future, type Protocol, type Task, type Transport } from "@loop/core";
import { QueueShutDown } from "@loop/sync";
import type { CommandArgs } from "./args.js";
import { runCommand } from "./commands/index.js";
import type { CommandContext, ServerFacts } from "./commands/context.js";
import type { Keyspace } from "./keyspace.js";
import { OutputLimitCheck, type OutputBufferLimit } from "./output-limit.js";
import { Subscriber, type PubSub } from "./pubsub.js";
import { CommandParser, RespProtocolError, type RespLimits } from "./resp-parser.js";
import { ReplyBuffer } from "./resp-writer.js";

/** Replies buffered past this are written (and the socket given its turn) before more commands run. */
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
  /** The session's connection is closed (`connectionLost`). */
  sessionClosed?(session: Session): void;
}

/** Outcome of running the buffered commands. */
const enum Batch {
  /** Everything buffered ran; read more. */
  NeedInput,
  /** The replies reached the flush threshold: write them, then go on if the socket keeps up. */
  Flush,
  /** QUIT, or a protocol error (its reply is buffered): write the replies, then close. */
  Close,
}

export class Session implements CommandContext, Protocol {
  readonly out = new ReplyBuffer();
  readonly keyspace: Keyspace;
  readonly pubsub: PubSub;
  clientName: string | null = null;
  transaction: CommandArgs[] | null = null;
  transactionFailed = false;
  subscriber: Subscriber | null = null;
  /** Resolved once the connection is closed. */
  readonly closed: Future<void>;
  private transport: Transport | null = null;
  private readonly parser: CommandParser;
  /** The transport's write buffer is past its high-water mark (between `pauseWriting` and `resumeWriting`). */
  private writePaused = false;
  /** Commands wait for `resumeWriting` to run, and reading is paused meanwhile. */
  private stalled = false;
  /** The client will send nothing more (EOF): close once what it sent has run. */
  private inputEnded = false;
  /** Closing: run nothing more. */
  private leaving = false;
  private quitting = false;
  private pump: Task<void> | null = null;
  /** The subscriber's pump waits on this while writing is paused. */
  private writable: Future<void> | null = null;
  /** The normal class's limit on replies not yet sent; null when it has none (the default). */
  private readonly outputCheck: OutputLimitCheck | null;

  constructor(
    private readonly host: SessionHost,
    readonly clientId: number,
  ) {
    this.keyspace = host.keyspace;
    this.pubsub = host.pubsub;
    this.parser = new CommandParser(host.limits);
    this.closed = getRunningLoop().createFuture<void>();
    const normal = host.outputLimits.normal;
    this.outputCheck = normal.hardBytes > 0 || normal.softBytes > 0 ? new OutputLimitCheck(normal, clock) : null;
  }

  connectionMade(transport: BaseTransport): void {
    this.transport = transport as Transport;
    if (this.host.draining) this.leave();
  }

  dataReceived(data: Uint8Array): void {
    if (this.leaving) return;
    this.parser.feed(data);
    if (!this.stalled) this.runBuffered();
  }

  /**
   * End of stream: what the client sent before it still runs and is answered (a client
   * may half-close after its last request), then the connection closes. A partial
   * command left in the parser is dropped, as Redis does.
   */
  eofReceived(): boolean {
    this.inputEnded = true;
    if (!this.stalled) this.leave();
    return true;
  }

  pauseWriting(): void {
    this.writePaused = true;
  }

  resumeWriting(): void {
    this.writePaused = false;
    this.wakePump();
    if (this.stalled && !this.leaving) {
      this.stalled = false;
      this.transport?.resumeReading();
      this.runBuffered();
    }
  }

  connectionLost(): void {
    this.leaving = true;
    this.stopSubscriber();
    this.wakePump();
    this.host.sessionClosed?.(this);
    if (!this.closed.done()) this.closed.setResult(undefined);
  }

  /** Wakes the subscriber's pump if it waits for writing to resume (its future is cancelled if the pump was). */
  private wakePump(): void {
    const writable = this.writable;
    this.writable = null;
    if (writable !== null && !writable.done()) writable.setResult(undefined);
  }

  /** Shutdown: closes the connection now if nothing is in flight, else once the commands received have run. */
  shutdown(): void {
    if (!this.stalled) this.leave();
  }

  /**
   * Runs the commands buffered in the parser, writing their replies, until more input is
   * needed, the socket must catch up first, or the connection is to close.
   */
  private runBuffered(): void {
    const transport = this.transport as Transport;
    const out = this.out;
    for (;;) {
      const batch = this.runBatch();
      if (out.size > 0) {
        const chunks = out.take();
        if (chunks.length === 1) transport.write(chunks[0] as Uint8Array);
        else transport.writelines(chunks);
        // Checked where Redis checks, as replies are added: a client over its limit is
        // dropped with what it did not read.
        if (this.outputCheck !== null && this.outputCheck.exceeded(transport.getWriteBufferSize())) {
          this.host.log(`kv-server: client #${this.clientId} is over its output buffer limit: disconnecting it`);
          this.leaving = true;
          transport.abort();
          return;
        }
      }
      if (batch === Batch.Close) break;
      if (this.writePaused) {
        // The socket has to catch up: nothing more runs, and nothing more is read (so the
        // client's own sending slows down), until `resumeWriting`.
        this.stalled = true;
        transport.pauseReading();
        return;
      }
      if (batch === Batch.NeedInput) {
        if (!this.inputEnded && !this.host.draining) return;
        break;
      }
    }
    this.leave();
  }

  /** Closes the connection once the replies written so far are sent (the transport's `close()`). */
  private leave(): void {
    if (this.leaving) return;
    this.leaving = true;
    this.stopSubscriber();
    this.transport?.close();
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
    const transport = this.transport as Transport;
    const socketBytes = (): number => transport.getWriteBufferSize();
    const output = { check: new OutputLimitCheck(this.host.outputLimits.pubsub, clock), socketBytes };
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
    const transport = this.transport as Transport;
    try {
      for (;;) {
        let frame = yield* queue.get();
        subscriber.taken(frame);
        transport.write(frame);
        while (!queue.empty()) {
          frame = queue.getNowait();
          subscriber.taken(frame);
          transport.write(frame);
        }
        // While this waits, messages pile up in the bounded queue: the backpressure that
        // ends in the subscriber being dropped.
        while (this.writePaused && !this.leaving) yield* (this.writable ??= getRunningLoop().createFuture<void>());
      }
    } catch (error) {
      if (error instanceof QueueShutDown) return;
      throw error;
    }
  }

  /**
   * The subscriber's queue overflowed (called from inside a PUBLISH on another
   * connection): abort this connection, dropping what its socket still buffers.
   */
  private dropSlowSubscriber(): void {
    this.host.log(`kv-server: subscriber #${this.clientId} is too slow (over its output buffer limit): disconnecting it`);
    this.leaving = true;
    this.transport?.abort();
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

/**
 * PUBLISH/SUBSCRIBE with bounded memory.
 *
 * Each subscriber has a queue of encoded messages, emptied onto its socket by a pump task
 * that waits while the socket is behind (`pauseWriting`): a subscriber that reads slowly
 * makes its socket's buffer fill, then its queue. Its pending output — the queued bytes plus the socket's write buffer —
 * is bounded in bytes as Redis's `client-output-buffer-limit pubsub` bounds it (32 MiB hard,
 * 8 MiB for 60 s soft, by default): the publish that breaks the limit drops the subscriber
 * (the server then closes its connection) instead of letting memory grow. A count of
 * queued messages bounds it too (`subscriberQueueSize`), for tiny messages. Publishers
 * never wait: `PUBLISH` stays O(subscribers) and a slow reader cannot slow anyone down.
 */

import { Queue, QueueFull } from "@loop/sync";
import type { OutputLimitCheck } from "./output-limit.js";
import { latin1Bytes } from "./bytes.js";
import { ReplyBuffer, concat } from "./resp-writer.js";

/** What a subscriber's output limit looks at besides its queue. */
export interface SubscriberOutput {
  readonly check: OutputLimitCheck;
  /** Bytes written to the socket and not yet sent. */
  socketBytes(): number;
}

/**
 * One connection in subscribed mode. The server owns the pump that moves `queue` to the
 * socket (calling `taken` for each frame); `PubSub` only ever calls `offer`.
 */
export class Subscriber {
  /** Channels this subscriber listens to, in subscription order. */
  readonly channels = new Set<string>();
  /** Encoded `message` frames waiting for the socket. */
  readonly queue: Queue<Uint8Array>;
  /** Set when the output limit broke: the subscriber gets nothing more and is being disconnected. */
  dropped = false;
  /** The connection speaks RESP3: messages are pushes (`>3`), not arrays. */
  resp3 = false;
  /** Bytes of the frames in `queue`. */
  queuedBytes = 0;

  /**
   * @param capacity most messages that may wait for this subscriber's socket.
   * @param onDropped called once, synchronously, when a publish broke the subscriber's
   *   output limit and dropped it: its connection should be closed.
   * @param output the byte limit and the socket it watches; none without.
   */
  constructor(
    capacity: number,
    readonly onDropped: (subscriber: Subscriber) => void,
    private readonly output: SubscriberOutput | null = null,
  ) {
    this.queue = new Queue<Uint8Array>(capacity);
  }

  /** Queues one frame; false if that broke the limits (the subscriber is to be dropped). */
  offer(frame: Uint8Array): boolean {
    try {
      this.queue.putNowait(frame);
    } catch (error) {
      if (error instanceof QueueFull) return false;
      throw error;
    }
    this.queuedBytes += frame.length;
    const output = this.output;
    return output === null || !output.check.exceeded(this.queuedBytes + output.socketBytes());
  }

  /** The pump took `frame` from the queue (to write it). */
  taken(frame: Uint8Array): void {
    this.queuedBytes -= frame.length;
  }
}

/** The channels of one server and who listens to them. */
export class PubSub {
  private readonly channels = new Map<string, Set<Subscriber>>();
  /** Subscribers dropped for being too slow, since the start. */
  droppedCount = 0;

  /** How many subscribers listen to `channel`. */
  subscriberCount(channel: string): number {
    return this.channels.get(channel)?.size ?? 0;
  }

  /** The channels that have at least one subscriber. */
  channelNames(): string[] {
    return [...this.channels.keys()];
  }

  /** Adds `channel` to the subscriber's set; false if it was there already, or the subscriber was dropped. */
  subscribe(subscriber: Subscriber, channel: string): boolean {
    if (subscriber.dropped || subscriber.channels.has(channel)) return false;
    subscriber.channels.add(channel);
    let listeners = this.channels.get(channel);
    if (listeners === undefined) {
      listeners = new Set();
      this.channels.set(channel, listeners);
    }
    listeners.add(subscriber);
    return true;
  }

  /** Removes `channel` from the subscriber's set; false if it was not there. */
  unsubscribe(subscriber: Subscriber, channel: string): boolean {
    if (!subscriber.channels.delete(channel)) return false;
    const listeners = this.channels.get(channel);
    if (listeners !== undefined) {
      listeners.delete(subscriber);
      if (listeners.size === 0) this.channels.delete(channel);
    }
    return true;
  }

  /** Removes every subscription of `subscriber` (it disconnected or was dropped). */
  unsubscribeAll(subscriber: Subscriber): void {
    for (const channel of [...subscriber.channels]) this.unsubscribe(subscriber, channel);
  }

  /**
   * Sends `message` to every subscriber of `channel` and returns how many got it queued
   * (subscribers dropped by this very publish are not counted). The frame is encoded
   * once and shared.
   */
  publish(channel: string, message: Uint8Array): number {
    const listeners = this.channels.get(channel);
    if (listeners === undefined) return 0;
    let resp2: Uint8Array | null = null;
    let resp3: Uint8Array | null = null;
    let received = 0;
    // A subscriber dropped on the way leaves this set; deleting from a Set while
    // iterating it is well defined (the entry is simply not visited again).
    for (const subscriber of listeners) {
      // Encoded once per protocol in use, shared by every subscriber speaking it.
      let frame: Uint8Array;
      if (subscriber.resp3) frame = resp3 ??= asPush((resp2 ??= encodeMessage(channel, message)));
      else frame = resp2 ??= encodeMessage(channel, message);
      if (subscriber.offer(frame)) received++;
      else this.drop(subscriber);
    }
    return received;
  }

  /** A publish broke the subscriber's output limit: it leaves every channel, and its owner is told. */
  private drop(subscriber: Subscriber): void {
    if (subscriber.dropped) return;
    subscriber.dropped = true;
    this.droppedCount++;
    this.unsubscribeAll(subscriber);
    subscriber.onDropped(subscriber);
  }
}

/** The RESP3 push `>3 …` of a RESP2 `*3 …` message frame: the same bytes but the first. */
function asPush(frame: Uint8Array): Uint8Array {
  const push = frame.slice();
  push[0] = 62; // >
  return push;
}

/**
 * `*3 $7 message $<channel> $<message>`: a pushed message, as every RESP2 subscriber
 * receives it. One allocation of the exact size: with large messages, anything more
 * (a reply slab, then a join) doubles the garbage of every publish.
 */
export function encodeMessage(channel: string, message: Uint8Array): Uint8Array {
  const head = new ReplyBuffer(64 + channel.length);
  head.arrayHeader(3);
  head.bulkLatin1("message");
  head.bulkLatin1(channel);
  head.raw(latin1Bytes(`$${message.length}\r\n`));
  const chunks = head.take();
  const headBytes = chunks.length === 1 ? (chunks[0] as Uint8Array) : concat(chunks);
  const frame = new Uint8Array(headBytes.length + message.length + 2);
  frame.set(headBytes, 0);
  frame.set(message, headBytes.length);
  frame[frame.length - 2] = 13;
  frame[frame.length - 1] = 10;
  return frame;
}

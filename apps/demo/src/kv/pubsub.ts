/**
 * PUBLISH/SUBSCRIBE with bounded memory.
 *
 * Redis buffers pushed messages per client up to `client-output-buffer-limit pubsub`
 * (32 MiB hard) and then disconnects the client. Here each subscriber has a bounded
 * `Queue` of encoded messages, emptied onto its socket by a pump task that waits on
 * `drain()`: a subscriber that reads slowly makes its socket's buffer fill, then its
 * queue; the publish that finds the queue full drops the subscriber (the server then
 * closes its connection) instead of letting memory grow without bound. Publishers never
 * wait: `PUBLISH` stays O(subscribers) and a slow reader cannot slow anyone else down.
 */

import { Queue, QueueFull } from "@loop/sync";
import { ReplyBuffer, concat } from "./resp-writer.js";

/**
 * One connection in subscribed mode. The server owns the pump that moves `queue` to the
 * socket; `PubSub` only ever calls `deliver`.
 */
export class Subscriber {
  /** Channels this subscriber listens to, in subscription order. */
  readonly channels = new Set<string>();
  /** Encoded `message` frames waiting for the socket. */
  readonly queue: Queue<Uint8Array>;
  /** Set when the queue overflowed: the subscriber gets nothing more and is being disconnected. */
  dropped = false;

  /**
   * @param capacity most messages that may wait for this subscriber's socket.
   * @param onDropped called once, synchronously, when a publish found the queue full and
   *   dropped the subscriber: its connection should be closed.
   */
  constructor(
    capacity: number,
    readonly onDropped: (subscriber: Subscriber) => void,
  ) {
    this.queue = new Queue<Uint8Array>(capacity);
  }

  /** Queues one frame; false if the queue is full. */
  offer(frame: Uint8Array): boolean {
    try {
      this.queue.putNowait(frame);
      return true;
    } catch (error) {
      if (error instanceof QueueFull) return false;
      throw error;
    }
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
    const frame = encodeMessage(channel, message);
    let received = 0;
    // A subscriber dropped on the way leaves this set; deleting from a Set while
    // iterating it is well defined (the entry is simply not visited again).
    for (const subscriber of listeners) {
      if (subscriber.offer(frame)) received++;
      else this.drop(subscriber);
    }
    return received;
  }

  /** A publish found the subscriber's queue full: it leaves every channel, and its owner is told. */
  private drop(subscriber: Subscriber): void {
    if (subscriber.dropped) return;
    subscriber.dropped = true;
    this.droppedCount++;
    this.unsubscribeAll(subscriber);
    subscriber.onDropped(subscriber);
  }
}

/** `*3 $7 message $<channel> $<message>`: a pushed message, as every subscriber receives it. */
export function encodeMessage(channel: string, message: Uint8Array): Uint8Array {
  const out = new ReplyBuffer(channel.length + message.length + 48);
  out.arrayHeader(3);
  out.bulkLatin1("message");
  out.bulkLatin1(channel);
  out.bulk(message);
  const chunks = out.take();
  return chunks.length === 1 ? chunks[0] : concat(chunks);
}

/** Pub/sub commands: PUBLISH, SUBSCRIBE, UNSUBSCRIBE (Redis `pubsub.c`; RESP3 connections get pushes). */

import type { Command, CommandContext } from "./context.js";

/** `PUBLISH channel message`: how many subscribers got the message. */
export const publish: Command = {
  name: "publish",
  arity: 3,
  run(ctx, args) {
    ctx.out.integer(ctx.pubsub.publish(args.latin1(1), args.bytes(2)));
  },
};

/**
 * `SUBSCRIBE channel [channel …]`: one `subscribe` reply per channel with the number of
 * channels this connection now listens to. The connection enters subscribed mode, where
 * only the pub/sub commands, PING and QUIT are accepted.
 */
export const subscribe: Command = {
  name: "subscribe",
  arity: -2,
  inSubscribedMode: true,
  run(ctx, args) {
    const subscriber = ctx.subscriber ?? ctx.startSubscriber();
    subscriber.resp3 = ctx.out.resp3;
    for (let i = 1; i < args.length; i++) {
      const channel = args.latin1(i);
      ctx.pubsub.subscribe(subscriber, channel);
      confirm(ctx, "subscribe", channel, subscriber.channels.size);
    }
  },
};

/**
 * `UNSUBSCRIBE [channel …]`: without channels, from all of them. One `unsubscribe` reply
 * per channel; with no channel at all to leave, a single reply with a null channel.
 */
export const unsubscribe: Command = {
  name: "unsubscribe",
  arity: -1,
  inSubscribedMode: true,
  run(ctx, args) {
    const subscriber = ctx.subscriber;
    const channels = args.length > 1 ? Array.from({ length: args.length - 1 }, (_, i) => args.latin1(i + 1)) : [...(subscriber?.channels ?? [])];
    if (channels.length === 0) {
      confirm(ctx, "unsubscribe", null, 0);
      return;
    }
    for (const channel of channels) {
      if (subscriber !== null) ctx.pubsub.unsubscribe(subscriber, channel);
      confirm(ctx, "unsubscribe", channel, subscriber?.channels.size ?? 0);
    }
  },
};

function confirm(ctx: CommandContext, kind: string, channel: string | null, count: number): void {
  ctx.out.pushHeader(3);
  ctx.out.bulkLatin1(kind);
  if (channel === null) ctx.out.nullBulk();
  else ctx.out.bulkLatin1(channel);
  ctx.out.integer(count);
}

export const pubsubCommands: readonly Command[] = [publish, subscribe, unsubscribe];

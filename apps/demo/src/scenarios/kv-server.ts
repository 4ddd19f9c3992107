/**
 * The "real clients" stop: a key-value server speaking the Redis protocol.
 *
 *   npm run demo                                  (part of the tour) start on a free port,
 *                                                 check it with our own client, shut down
 *   npm run demo -- kv-server --port 6380         serve until SIGINT/SIGTERM; try
 *                                                 `redis-cli -p 6380` and `redis-benchmark -p 6380`
 *   npm run demo -- kv-server --port 6380 --poller selector
 *                                                 ... on @loop/selector's raw sockets
 *   npm run demo -- kv-server --inspect [--port 6380] [--inspect-port 9230]
 *                                                 ... with the live inspector beside it
 *                                                 (a free port when --port is not given)
 */

import { ensureFuture, getRunningLoop, run, type Coroutine } from "@loop/core";
import { startInspector, type Inspector } from "@loop/debug";
import { openConnection } from "@loop/net";
import { sleep } from "@loop/timers";
import { latin1, utf8 } from "../kv/bytes.js";
import { KvClient } from "../kv/client.js";
import { ReplyError, type RespValue } from "../kv/reply-parser.js";
import { startKvServer, type KvServer } from "../kv/server.js";
import { pollerFromArgs } from "../poller-option.js";
import type { Scenario } from "../scenario.js";

interface Options {
  host: string;
  /** null: the tour's self-check on a free port (unless --inspect). */
  port: number | null;
  inspect: boolean;
  inspectPort: number;
}

export const kvServer: Scenario = {
  name: "kv-server",
  description: "a Redis-protocol (RESP2) key-value server that redis-cli and redis-benchmark talk to",
  run(args) {
    const options = parseArgs(args);
    // --inspect alone means a long-lived server too (on a free port): an inspector
    // beside a server that stops a second later would show nothing.
    const longLived = options.port !== null || options.inspect;
    return run(longLived ? serve(options, options.port ?? 0) : tour(options), { poller: pollerFromArgs(args, "kv-server") });
  },
};

function parseArgs(args: readonly string[]): Options {
  const options: Options = { host: "127.0.0.1", port: null, inspect: false, inspectPort: 0 };
  const value = (i: number, flag: string): string => {
    const v = args[i + 1];
    if (v === undefined) throw new RangeError(`kv-server: ${flag} needs a value`);
    return v;
  };
  const port = (text: string, flag: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new RangeError(`kv-server: ${flag} must be a port number from 0 to 65535, got ${text}`);
    return n;
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--port") options.port = port(value(i++, arg), arg);
    else if (arg === "--host") options.host = value(i++, arg);
    else if (arg === "--inspect") options.inspect = true;
    else if (arg === "--inspect-port") options.inspectPort = port(value(i++, arg), arg);
  }
  return options;
}

function* maybeInspector(options: Options): Coroutine<Inspector | null> {
  if (!options.inspect) return null;
  const inspector = yield* ensureFuture(startInspector({ port: options.inspectPort }));
  console.log(`live inspector: ${inspector.url}`);
  return inspector;
}

/** Long-lived: serve until SIGINT or SIGTERM, then shut down gracefully. */
function* serve(options: Options, listenPort: number): Coroutine<void> {
  const loop = getRunningLoop();
  const stop = loop.createFuture<string>();
  stop.label = "kv-server: waiting for SIGINT/SIGTERM";
  // asyncio's idiom: the handlers run as loop callbacks; a handler for SIGINT also takes
  // the place of run()'s own Ctrl-C handling while it is added.
  const onSignal = (signal: string): void => {
    if (stop.done()) {
      // A second signal: the user does not want to wait for the graceful shutdown.
      console.log(`${signal} again: exiting now`);
      process.exit(130);
    }
    stop.setResult(signal);
  };
  // Before anything is printed: whoever waits for "listening" may signal right after it.
  loop.addSignalHandler("SIGINT", onSignal, "SIGINT");
  loop.addSignalHandler("SIGTERM", onSignal, "SIGTERM");
  let inspector: Inspector | null = null;
  try {
    const server = yield* startKvServer({ host: options.host, port: listenPort, log: (line) => console.log(line) });
    inspector = yield* maybeInspector(options);
    const { address, port } = server.address();
    console.log(`kv-server listening on ${address}:${port}  (try: redis-cli -p ${port})`);
    const signal = yield* stop;
    console.log(`${signal}: shutting down (no new connections; in-flight commands finish)`);
    const started = loop.time();
    yield* server.shutdown();
    console.log(`kv-server stopped in ${(loop.time() - started).toFixed(0)} ms; ${describeStats(server)}`);
  } finally {
    loop.removeSignalHandler("SIGINT");
    loop.removeSignalHandler("SIGTERM");
    if (inspector !== null) yield* ensureFuture(inspector.close());
  }
}

/** The tour: start on a free port, check the server with real connections, shut down. */
function* tour(options: Options): Coroutine<void> {
  const server = yield* startKvServer({ host: options.host, port: 0, subscriberQueueSize: 16, log: (line) => console.log(`  ${line}`) });
  const { port } = server;
  console.log(`kv-server listening on ${options.host}:${port} (RESP2: redis-cli -p ${port} would work too)`);
  const inspector = yield* maybeInspector(options);
  try {
    yield* selfCheck(options.host, server);
  } finally {
    const loop = getRunningLoop();
    const started = loop.time();
    yield* server.shutdown();
    console.log(`graceful shutdown in ${(loop.time() - started).toFixed(1)} ms; ${describeStats(server)}`);
    if (inspector !== null) yield* ensureFuture(inspector.close());
  }
}

function* selfCheck(host: string, server: KvServer): Coroutine<void> {
  const { port } = server;
  const client = yield* KvClient.connect(host, port);
  const show = (request: string, reply: RespValue): void => console.log(`  ${request.padEnd(34)} -> ${format(reply)}`);

  show("SET greeting hello", yield* client.command("SET", "greeting", "hello"));
  show("GET greeting", yield* client.command("GET", "greeting"));
  show("SET session token PX 50", yield* client.command("SET", "session", "token", "PX", "50"));
  show("PTTL session", yield* client.command("PTTL", "session"));
  yield* sleep(60);
  show("GET session (60 ms later)", yield* client.command("GET", "session"));

  const increments = Array.from({ length: 100 }, () => ["INCR", "visits"]);
  const replies = yield* client.pipeline(increments);
  show("100 x INCR visits, pipelined", `${replies.length} replies in order, last = ${format(replies[replies.length - 1] as RespValue)}`);

  // Pub/sub: a subscriber on its own connection, a publish from ours.
  const subscriber = yield* KvClient.connect(host, port);
  show("SUBSCRIBE news (2nd connection)", yield* subscriber.command("SUBSCRIBE", "news"));
  show("PUBLISH news 'the loop is up'", yield* client.command("PUBLISH", "news", "the loop is up"));
  show("  ... the subscriber receives", yield* subscriber.nextReply());
  yield* subscriber.close();

  yield* slowSubscriber(host, server, client);
  yield* garbage(host, port);
  show("GET greeting (still serving)", yield* client.command("GET", "greeting"));
  yield* client.close();
}

/**
 * A subscriber that never reads: its socket fills, then its bounded queue, and the server
 * drops it instead of buffering without bound.
 */
function* slowSubscriber(host: string, server: KvServer, publisher: KvClient): Coroutine<void> {
  const [, writer] = yield* openConnection(host, server.port);
  // Subscribe, then never read a byte: our reader stops pulling from the socket once its
  // own buffer (twice its limit) is full, as a stuck client would.
  writer.write("SUBSCRIBE firehose\r\n");
  yield* writer.drain();
  while (server.pubsub.subscriberCount("firehose") === 0) yield* sleep(1);
  const message = "x".repeat(64 * 1024);
  let publishes = 0;
  let receivers: RespValue = 1;
  while (receivers === 1 && publishes < 10_000) {
    receivers = yield* publisher.command("PUBLISH", "firehose", message);
    publishes++;
  }
  console.log(
    `  slow subscriber (queue of 16, never reads): dropped after ${publishes} publishes of 64 KiB; ` +
      `subscribers dropped so far: ${server.pubsub.droppedCount}`,
  );
  writer.close();
}

/** Malformed input gets an error reply and a closed connection; the server carries on. */
function* garbage(host: string, port: number): Coroutine<void> {
  for (const [what, bytes] of [
    ["garbage '*1\\r\\n$x\\r\\n'", "*1\r\n$x\r\n"],
    ["oversized bulk '$9999999999'", "*2\r\n$4\r\nECHO\r\n$9999999999\r\n"],
  ] as const) {
    const [reader, writer] = yield* openConnection(host, port);
    writer.write(bytes);
    const reply = yield* reader.read();
    console.log(`  ${what.padEnd(34)} -> ${JSON.stringify(latin1(reply).trim())} (connection closed)`);
    writer.close();
  }
}

function format(value: RespValue): string {
  if (value === null) return "(nil)";
  if (value instanceof Uint8Array) return JSON.stringify(utf8(value));
  if (value instanceof ReplyError) return `(error) ${value.message}`;
  if (Array.isArray(value)) return `[${value.map(format).join(", ")}]`;
  if (typeof value === "string") return value;
  return `(integer) ${String(value)}`;
}

function describeStats(server: KvServer): string {
  const { connectionsAccepted, commandsProcessed, protocolErrors } = server.stats;
  return (
    `${connectionsAccepted} connections, ${commandsProcessed} commands, ${protocolErrors} protocol errors, ` +
    `${server.pubsub.droppedCount} slow subscribers dropped, ${server.keyspace.expiredCount} keys expired`
  );
}

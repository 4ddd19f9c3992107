/**
 * The key-value server: a `@loop/net` protocol server (`createServer`, asyncio's
 * `loop.create_server`) whose connections are `Session`s over one shared `Keyspace` and
 * `PubSub`, plus the task that sweeps expired keys.
 *
 * Shutdown is graceful, in asyncio's order for `Server.close()` + `wait_closed()`: stop
 * accepting; let every connection finish the batch it is running (its replies are
 * written); end the connections that wait for their next request; give the rest (a
 * client that does not read its replies) `shutdownGraceMs`, then abort them; then wait
 * until every connection is closed.
 */

import { getRunningLoop, wait, type Coroutine, type Task } from "@loop/core";
import { createServer, type Server } from "@loop/net";
import { sleep } from "@loop/timers";
import type { ServerFacts } from "./commands/context.js";
import { Keyspace } from "./keyspace.js";
import { NORMAL_OUTPUT_LIMIT, PUBSUB_OUTPUT_LIMIT, checkOutputLimit, type OutputBufferLimit } from "./output-limit.js";
import { PubSub } from "./pubsub.js";
import { checkLimits, type RespLimits } from "./resp-parser.js";
import { Session, type SessionHost } from "./session.js";

export interface KvServerOptions {
  /** Address to listen on; 127.0.0.1 by default. */
  host?: string;
  /** TCP port; 0 (the default) picks a free one (see `KvServer.port`). */
  port?: number;
  /** Protocol limits (bulk length, array length, inline line length); Redis's by default. */
  limits?: Partial<RespLimits>;
  /** Messages that may wait for a subscriber's socket before it is dropped; 1024 by default. */
  subscriberQueueSize?: number;
  /**
   * Redis's `client-output-buffer-limit`, in bytes of pending output per connection: a
   * client past `hardBytes`, or at `softBytes` or more for `softSeconds`, is disconnected.
   * Defaults are Redis's: none for ordinary clients (their replies wait on backpressure),
   * 32 MiB hard and 8 MiB for 60 s soft for subscribers. 0 turns a limit off.
   */
  outputBufferLimits?: { normal?: Partial<OutputBufferLimit>; pubsub?: Partial<OutputBufferLimit> };
  /** Period of the active expiry sweep, in ms; 100 by default (Redis's `hz 10`). */
  sweepIntervalMs?: number;
  /** How long shutdown waits for connections that do not finish, in ms; 5000 by default. */
  shutdownGraceMs?: number;
  /** Where the server reports notable events (a slow subscriber dropped…); silent by default. */
  log?: (line: string) => void;
}

/** Counters, for the demo's report and the tests. */
export interface KvServerStats {
  connectionsAccepted: number;
  commandsProcessed: number;
  protocolErrors: number;
}

/**
 * Starts a Redis-protocol (RESP2) key-value server and returns once it listens.
 * Arguments are checked at the call.
 * @example
 * const server = yield* startKvServer({ port: 0 });
 * console.log(`redis-cli -p ${server.port} PING`);
 * yield* server.shutdown();
 */
export function startKvServer(options: KvServerOptions = {}): Coroutine<KvServer> {
  if (typeof options !== "object" || options === null) throw new TypeError("startKvServer(options): options must be an object such as { port: 6379 }");
  const host = options.host ?? "127.0.0.1";
  if (typeof host !== "string") throw new TypeError(`startKvServer(options): host must be a string, got ${typeof host}`);
  const port = checkInteger("port", options.port ?? 0, 0, 65535);
  const settings: Settings = {
    host,
    port,
    limits: checkLimits(options.limits),
    subscriberQueueSize: checkInteger("subscriberQueueSize", options.subscriberQueueSize ?? 1024, 1, Number.MAX_SAFE_INTEGER),
    sweepIntervalMs: checkInteger("sweepIntervalMs", options.sweepIntervalMs ?? 100, 1, Number.MAX_SAFE_INTEGER),
    shutdownGraceMs: checkInteger("shutdownGraceMs", options.shutdownGraceMs ?? 5000, 0, Number.MAX_SAFE_INTEGER),
    outputLimits: checkOutputLimits(options.outputBufferLimits),
    log: options.log ?? (() => {}),
  };
  if (typeof settings.log !== "function") throw new TypeError("startKvServer(options): log must be a function");
  return start(settings);
}

interface Settings {
  host: string;
  port: number;
  limits: RespLimits;
  subscriberQueueSize: number;
  sweepIntervalMs: number;
  shutdownGraceMs: number;
  outputLimits: { normal: OutputBufferLimit; pubsub: OutputBufferLimit };
  log: (line: string) => void;
}

function checkOutputLimits(value: unknown): { normal: OutputBufferLimit; pubsub: OutputBufferLimit } {
  if (value === undefined) return { normal: NORMAL_OUTPUT_LIMIT, pubsub: PUBSUB_OUTPUT_LIMIT };
  if (typeof value !== "object" || value === null) {
    throw new TypeError("startKvServer(options): outputBufferLimits must be an object like { pubsub: { hardBytes: 33554432 } }");
  }
  const { normal, pubsub } = value as { normal?: unknown; pubsub?: unknown };
  return {
    normal: checkOutputLimit("outputBufferLimits.normal", normal, NORMAL_OUTPUT_LIMIT),
    pubsub: checkOutputLimit("outputBufferLimits.pubsub", pubsub, PUBSUB_OUTPUT_LIMIT),
  };
}

function factsOf(kv: KvServer, startedAt: number): ServerFacts {
  return {
    startedAt,
    get stats() {
      return kv.stats;
    },
    get port() {
      return kv.port;
    },
    get connections() {
      return kv.connections;
    },
  };
}

function checkInteger(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number") throw new TypeError(`startKvServer(options): ${name} must be a number, got ${typeof value}`);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`startKvServer(options): ${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

function* start(settings: Settings): Coroutine<KvServer> {
  const kv = new KvServer(settings);
  yield* kv._listen();
  return kv;
}

export class KvServer implements SessionHost {
  readonly keyspace: Keyspace;
  readonly pubsub = new PubSub();
  readonly limits: RespLimits;
  readonly subscriberQueueSize: number;
  readonly outputLimits: { readonly normal: OutputBufferLimit; readonly pubsub: OutputBufferLimit };
  readonly stats: KvServerStats = { connectionsAccepted: 0, commandsProcessed: 0, protocolErrors: 0 };
  private readonly settings: Settings;
  private readonly sessions = new Set<Session>();
  private server: Server | null = null;
  private sweeper: Task<void> | null = null;
  private shuttingDown: Task<void> | null = null;
  private _draining = false;
  private nextClientId = 1;

  /** @internal Made by `startKvServer`. */
  constructor(settings: Settings) {
    this.settings = settings;
    this.limits = settings.limits;
    this.subscriberQueueSize = settings.subscriberQueueSize;
    this.outputLimits = settings.outputLimits;
    const loop = getRunningLoop();
    this.keyspace = new Keyspace(() => loop.time());
  }

  /** @internal */
  *_listen(): Coroutine<void> {
    const { host, port } = this.settings;
    this.server = yield* createServer(() => this.newSession(), host, port);
    this.sweeper = getRunningLoop().createTask(this.sweepExpired(), { name: "kv expiry sweep" });
  }

  /** True once shutdown began. */
  get draining(): boolean {
    return this._draining;
  }

  /** The address listened on (`{ address, family, port }`). */
  address(): { address: string; family: string; port: number } {
    const address = this.server?.address();
    if (address === null || address === undefined || typeof address === "string") throw new Error("KvServer.address(): the server is closed");
    return address;
  }

  /** The TCP port listened on (the one picked, when started on port 0). */
  get port(): number {
    return this.address().port;
  }

  /** Open connections. */
  get connections(): number {
    return this.sessions.size;
  }

  /** What INFO reports. */
  readonly facts: ServerFacts = factsOf(this, Date.now());

  log(line: string): void {
    this.settings.log(line);
  }

  /**
   * Shuts down gracefully (see the module comment) and returns once every connection is
   * closed. Calling it again waits for the same shutdown.
   */
  shutdown(): Coroutine<void> {
    return this.awaitShutdown();
  }

  private *awaitShutdown(): Coroutine<void> {
    this.shuttingDown ??= getRunningLoop().createTask(this.runShutdown(), { name: "kv shutdown" });
    yield* this.shuttingDown;
  }

  private *runShutdown(): Coroutine<void> {
    const server = this.server;
    if (server === null) return;
    this._draining = true;
    server.close();
    this.sweeper?.cancel();
    // A session waiting for a request has nothing in flight and closes now; a busy one
    // closes by itself after its batch, because `draining` is set.
    for (const session of this.sessions) session.shutdown();
    const open = [...this.sessions].map((s) => s.closed);
    if (open.length > 0) {
      const { pending } = yield* wait(open, { timeout: this.settings.shutdownGraceMs });
      if (pending.size > 0) {
        this.log(`kv-server: ${pending.size} connection(s) did not finish within ${this.settings.shutdownGraceMs} ms: aborting them`);
        server.abortClients();
      }
    }
    yield* server.waitClosed();
  }

  private newSession(): Session {
    this.stats.connectionsAccepted++;
    const session = new Session(this, this.nextClientId++);
    this.sessions.add(session);
    return session;
  }

  /** @internal A session's connection closed. */
  sessionClosed(session: Session): void {
    this.sessions.delete(session);
  }

  /** Active expiry: one `Keyspace.sweep()` per period, for as long as the server runs. */
  private *sweepExpired(): Coroutine<void> {
    for (;;) {
      yield* sleep(this.settings.sweepIntervalMs);
      this.keyspace.sweep();
    }
  }
}

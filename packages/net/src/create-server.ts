import { getRunningLoop, type BaseTransport, type Coroutine, type Protocol, type Transport } from "@loop/core";
import { getNetDriver } from "./driver.js";
import { Server } from "./server.js";
import { checkServerArgs, type ServerTarget } from "./protocol-args.js";
import type { TlsServerOptions } from "./streams.js";

/** Options of `createServer` and `createUnixServer` (asyncio's `backlog`, `ssl`, `reuse_port`). */
export interface CreateServerOptions {
  /** The length of the queue of connections not yet accepted (asyncio's `backlog`). */
  backlog?: number;
  /** Serve TLS with these options (Node's `tls.createServer` options; asyncio's `ssl`). */
  tls?: TlsServerOptions;
  /**
   * SO_REUSEPORT: several listeners (one loop per worker thread, or several processes)
   * share the port and the kernel spreads the connections. Needs a driver that can set
   * it (`@loop/selector`'s); Node's driver rejects it on Node 20.
   */
  reusePort?: boolean;
}

/**
 * A protocol from the user's factory, seen by the server: it counts the connection while
 * it is open so that `waitClosed()` and `closeClients()` know it. Everything else goes
 * straight to the user's protocol.
 */
class TrackedProtocol implements Protocol {
  private _transport: Transport | null = null;

  constructor(
    readonly inner: Protocol,
    private readonly _server: Server,
  ) {}

  connectionMade(transport: BaseTransport): void {
    this._transport = transport as Transport;
    this._server.connectionOpened(this._transport);
    this.inner.connectionMade(transport);
  }

  connectionLost(error: Error | null): void {
    try {
      this.inner.connectionLost(error);
    } finally {
      if (this._transport !== null) this._server.connectionClosed(this._transport);
      this._transport = null;
    }
  }

  dataReceived(data: Uint8Array): void {
    this.inner.dataReceived(data);
  }

  eofReceived(): boolean | void {
    return this.inner.eofReceived();
  }

  pauseWriting(): void {
    this.inner.pauseWriting();
  }

  resumeWriting(): void {
    this.inner.resumeWriting();
  }
}

/**
 * Listens on `host:port` and gives each connection a protocol from `protocolFactory`
 * (asyncio's `loop.create_server`): the transport calls its `connectionMade`,
 * `dataReceived`, `eofReceived`, `pauseWriting`/`resumeWriting` and `connectionLost`.
 * No reader, writer or task per connection: the fastest way to serve. Returns the same
 * `Server` as `startServer`.
 * @example
 * class Echo implements Protocol {
 *   private transport!: Transport;
 *   connectionMade(t: BaseTransport) { this.transport = t as Transport; }
 *   dataReceived(data: Uint8Array) { this.transport.write(data); }
 *   eofReceived() { return false; }
 *   connectionLost() {}
 *   pauseWriting() {}
 *   resumeWriting() {}
 * }
 * const server = yield* createServer(() => new Echo(), "127.0.0.1", 0);
 */
export function createServer(protocolFactory: () => Protocol, host: string | undefined, port: number, opts?: CreateServerOptions): Coroutine<Server> {
  const target = checkServerArgs("createServer", protocolFactory, host, port, opts);
  return listen(protocolFactory, target);
}

/** `createServer` on a Unix socket at `path` (asyncio's `loop.create_unix_server`). */
export function createUnixServer(protocolFactory: () => Protocol, path: string, opts?: Omit<CreateServerOptions, "reusePort">): Coroutine<Server> {
  if (typeof path !== "string" || path === "") throw new TypeError(`createUnixServer(protocolFactory, path): path must be a non-empty string, got ${typeof path}`);
  const target = checkServerArgs("createUnixServer", protocolFactory, undefined, 0, opts);
  return listen(protocolFactory, { path, backlog: target.backlog, tls: target.tls });
}

function* listen(protocolFactory: () => Protocol, target: ServerTarget): Coroutine<Server> {
  const loop = getRunningLoop();
  const name = target.path ?? `${target.host ?? "*"}:${target.port}`;
  const server = new Server(loop, name);
  const factory = (): Protocol => {
    const protocol = protocolFactory();
    if (typeof protocol !== "object" || protocol === null || typeof protocol.dataReceived !== "function") {
      throw new TypeError(`createServer: protocolFactory must return a Protocol (connectionMade, dataReceived, eofReceived, connectionLost, …), got ${protocol === null ? "null" : typeof protocol}`);
    }
    return new TrackedProtocol(protocol, server);
  };
  const pending = getNetDriver(loop).listen(loop, factory, target);
  pending.label = `createServer on ${name}`;
  try {
    server._setHandle(yield* pending);
  } catch (error) {
    if (pending.done() && !pending.cancelled() && pending.exception() === null) pending.result().close();
    throw error;
  }
  return server;
}

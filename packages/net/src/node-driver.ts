import { Buffer } from "node:buffer";
import * as net from "node:net";
import * as tls from "node:tls";
import type {
  ConnectOptions,
  DatagramOptions,
  DatagramProtocol,
  DatagramTransport,
  EventLoop,
  Future,
  ListenOptions,
  NetDriver,
  Protocol,
  ServerHandle,
  StartTlsOptions,
  Transport,
} from "@loop/core";
import { ConnectionResetError, withAddress } from "./errors.js";
import { openNodeDatagram } from "./node-datagram.js";
import { dispatcherFor, type DispatchTarget } from "./node-dispatcher.js";
import { NodeTransport, STARTED, type TransportOwner } from "./node-transport.js";

// The event kinds of an attempt (a connection, a listener, a TLS upgrade) carried by the
// dispatcher; a transport has kinds of its own (node-transport.ts).
/** The attempt succeeded: connected, listening, or the TLS handshake is done. */
const OPENED = 0;
/** The attempt failed; the payload is Node's error. */
const FAILED = 1;

type AddressInfo = { address: string; family: string; port: number };

/** Whether Node `version` ("22.12.0") has `server.listen({ reusePort })`: it arrived in 22.12 (and 23.1). */
export function nodeCanReusePort(version: string): boolean {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  return major > 22 || (major === 22 && minor >= 12);
}

const NODE_HAS_REUSE_PORT = nodeCanReusePort(process.versions.node);

/**
 * Node's sockets as a `NetDriver`: TCP (`node:net`, TCP_NODELAY on), Unix sockets and TLS
 * (`node:tls`), including `startTls` on an open connection, and UDP (`node:dgram`). The streams of `@loop/net`
 * use it whenever the loop's poller brings no network of its own.
 */
export class NodeNetDriver implements NetDriver {
  /** Connects a Node socket (TCP, Unix, TLS) and hands it to a new protocol. */
  connect(loop: EventLoop, protocolFactory: () => Protocol, options: ConnectOptions): Future<Transport> {
    const future = loop.createFuture<Transport>();
    const attempt = new ConnectAttempt(loop, future, protocolFactory, options);
    attempt.begin();
    return future;
  }

  /** Listens with a Node server; each accepted socket gets a new protocol. */
  listen(loop: EventLoop, protocolFactory: () => Protocol, options: ListenOptions): Future<ServerHandle> {
    const future = loop.createFuture<ServerHandle>();
    const listener = new NodeListener(loop, protocolFactory, options, future);
    listener.begin();
    return future;
  }

  /** Upgrades a connected Node socket transport to TLS. */
  startTls(loop: EventLoop, transport: Transport, protocol: Protocol, options: StartTlsOptions): Future<Transport> {
    const future = loop.createFuture<Transport>();
    if (!(transport instanceof NodeTransport)) {
      future.setException(new TypeError("NodeNetDriver.startTls: the transport is not a Node socket transport"));
      return future;
    }
    const upgrade = new TlsUpgrade(loop, transport, protocol, options, future);
    upgrade.begin();
    return future;
  }

  /** A UDP endpoint on a `node:dgram` socket. */
  datagram(loop: EventLoop, protocolFactory: () => DatagramProtocol, options: DatagramOptions): Future<DatagramTransport> {
    return openNodeDatagram(loop, protocolFactory, options);
  }
}

/** The driver streams fall back on when the poller has no `net`. */
export const nodeNetDriver: NodeNetDriver = new NodeNetDriver();

/**
 * One `connect`: owns the socket (and one external ref on the loop) until the transport
 * takes them over, or until it fails or its future is cancelled, when it destroys the socket.
 */
class ConnectAttempt implements DispatchTarget {
  private _socket: net.Socket | null = null;
  private _finished = false;
  private readonly _dispatcher;

  constructor(
    private readonly _loop: EventLoop,
    private readonly _future: Future<Transport>,
    private readonly _protocolFactory: () => Protocol,
    private readonly _options: ConnectOptions,
  ) {
    this._dispatcher = dispatcherFor(_loop);
  }

  begin(): void {
    const { host, port, path, tls: tlsOption, serverHostname } = this._options;
    // Node makes the socket's handle before it looks at the port, and leaves it open when
    // it throws on one it refuses: a port is checked here, before Node sees it.
    if (path === undefined && !(Number.isInteger(port) && (port as number) >= 0 && (port as number) <= 65535)) {
      this._future.setException(withAddress(new RangeError(`NodeNetDriver.connect: port must be an integer from 0 to 65535, got ${String(port)}`), host, port, path));
      return;
    }
    let socket: net.Socket;
    try {
      if (tlsOption !== undefined && tlsOption !== false) {
        // SNI takes a name, never an address; a Unix path has no host (isIP(undefined) is 0) and gives no name.
        const servername = serverHostname ?? (net.isIP(host as string) === 0 ? host : undefined);
        // Object.assign skips a primitive source: tls: true adds no option (Node's defaults).
        socket = tls.connect(Object.assign({}, tlsOption, { host, port: port as number, path, servername }) as tls.ConnectionOptions);
        socket.once("secureConnect", this._onConnected);
        // Node ignores it on a Unix socket.
        socket.setNoDelay(true);
      } else if (path !== undefined) {
        socket = net.connect({ path, allowHalfOpen: true });
        socket.once("connect", this._onConnected);
      } else {
        socket = net.connect({ host, port: port as number, allowHalfOpen: true, noDelay: true });
        socket.once("connect", this._onConnected);
      }
    } catch (error) {
      this._future.setException(withAddress(error, host, port, path));
      return;
    }
    this._socket = socket;
    this._loop.refExternal();
    this._dispatcher.open.add(this);
    socket.on("error", this._onError);
    this._future.addDoneCallback(this._onFutureDone);
  }

  private readonly _onConnected = (): void => {
    this._dispatcher.push(this, OPENED, null);
  };

  private readonly _onError = (error: Error): void => {
    this._dispatcher.push(this, FAILED, error);
  };

  private readonly _onFutureDone = (): void => {
    // Cancelled while connecting (a timeout, a cancelled task): leave nothing open. (Done
    // any other way, the attempt has finished and `_fail` does nothing.)
    this._fail(null);
  };

  handleEvent(kind: number, payload: unknown): void {
    // Once finished, `_fail` does nothing: a late event cannot touch the transport's socket.
    if (kind === FAILED || this._future.done()) {
      // OPENED's payload is null: a connect whose future is done (cancelled) fails quietly.
      this._fail(payload);
      return;
    }
    this._finished = true;
    this._dispatcher.open.delete(this);
    const socket = this._socket as net.Socket;
    socket.off("error", this._onError);
    const { path, tls: tlsOption } = this._options;
    const transport = new NodeTransport(this._loop, socket, this._dispatcher, { tls: tlsOption !== undefined && tlsOption !== false, unixPath: path });
    try {
      transport.start(this._protocolFactory(), true);
    } catch (error) {
      transport.abort();
      this._future.setException(error);
      return;
    }
    this._future.setResult(transport);
  }

  // The attempt is in the dispatcher's open set, and can be discarded, only once it has its socket.
  discard(): void {
    (this._socket as net.Socket).destroy();
  }

  private _fail(error: unknown): void {
    if (this._finished) return;
    this._finished = true;
    this._dispatcher.open.delete(this);
    const socket = this._socket as net.Socket;
    socket.destroy();
    // The 'error' listener stays: Node may still emit one for the destroyed socket.
    this._loop.unrefExternal();
    // A null error comes with a done future (cancelled).
    if (!this._future.done()) {
      const { host, port, path } = this._options;
      this._future.setException(withAddress(error, host, port, path));
    }
  }
}

/** A listening Node server: accepted sockets become transports, each with a fresh protocol. */
class NodeListener implements ServerHandle, TransportOwner, DispatchTarget {
  readonly transports = new Set<Transport>();
  private _server: net.Server | null = null;
  private _closed = false;
  private _listening = false;
  private readonly _dispatcher;

  constructor(
    private readonly _loop: EventLoop,
    private readonly _protocolFactory: () => Protocol,
    private readonly _options: ListenOptions,
    private readonly _future: Future<ServerHandle>,
  ) {
    this._dispatcher = dispatcherFor(_loop);
  }

  begin(): void {
    const { host, port, path, backlog, tls: tlsOptions } = this._options;
    if (this._options.reusePort === true && !NODE_HAS_REUSE_PORT) {
      // Nothing was opened, and nothing will call close(): the handle is never handed out.
      this._future.setException(new Error(`reusePort: Node ${process.version} cannot set SO_REUSEPORT (Node >= 22.12 can); run the loop on @loop/selector's SelectorPoller, whose driver sets it`));
      return;
    }
    const isTls = tlsOptions !== undefined;
    const server = isTls
      ? tls.createServer({ ...tlsOptions } as tls.TlsOptions)
      : net.createServer({ allowHalfOpen: true });
    this._server = server;
    server.on(isTls ? "secureConnection" : "connection", (socket: net.Socket) => {
      // (The loop's close closes the listener too.)
      if (this._closed) {
        socket.destroy();
        return;
      }
      // Node ignores it on a Unix socket.
      socket.setNoDelay(true);
      this._loop.refExternal();
      const transport = new NodeTransport(this._loop, socket, this._dispatcher, { tls: isTls, unixPath: path === undefined ? undefined : "", owner: this });
      this.transports.add(transport);
      this._dispatcher.push(transport, STARTED, this._protocolFactory);
    });
    server.on("error", (error) => this._dispatcher.push(this, FAILED, error));
    this._loop.refExternal();
    this._dispatcher.open.add(this);
    this._future.addDoneCallback(() => {
      if (this._future.cancelled()) this.close();
    });
    // reusePort reaches Node only where it has it (true was refused above otherwise).
    const listenOptions: net.ListenOptions & { reusePort?: boolean } = path !== undefined ? { path, backlog } : { host, port, backlog, reusePort: this._options.reusePort };
    server.listen(listenOptions, () => this._dispatcher.push(this, OPENED, null));
  }

  handleEvent(kind: number, payload: unknown): void {
    if (kind === OPENED) {
      this._listening = true;
      if (!this._future.done()) this._future.setResult(this);
      return;
    }
    const { host, port, path } = this._options;
    const error = withAddress(payload, host, port, path);
    if (!this._listening) {
      this.close();
      if (!this._future.done()) this._future.setException(error);
    } else {
      this._loop.callExceptionHandler({ message: "Error on a listening socket", exception: error });
    }
  }

  discard(): void {
    this.close();
  }

  address(): AddressInfo | string | null {
    // Node gives the path of a Unix server. The server exists: the handle is handed out only once it listens.
    return (this._server as net.Server).address() as AddressInfo | string | null;
  }

  close(): void {
    if (this._closed) return;
    this._closed = true;
    // Set in begin() before the listener is handed out or can be cancelled.
    (this._server as net.Server).close();
    this._loop.unrefExternal();
    this._dispatcher.open.delete(this);
    // The socket file of a Unix server goes with it, as in asyncio 3.13: libuv unlinks
    // the path it bound when the server's handle closes.
  }

  transportClosed(transport: NodeTransport): void {
    this.transports.delete(transport);
  }
}

/** `startTls`: wraps the transport's socket in a TLSSocket and makes a new transport of it. */
class TlsUpgrade implements DispatchTarget {
  private _socket: tls.TLSSocket | null = null;
  private _finished = false;
  private readonly _dispatcher;

  constructor(
    private readonly _loop: EventLoop,
    private readonly _old: NodeTransport,
    private readonly _protocol: Protocol,
    private readonly _options: StartTlsOptions,
    private readonly _future: Future<Transport>,
  ) {
    this._dispatcher = dispatcherFor(_loop);
  }

  begin(): void {
    const { server, serverHostname, ...rest } = this._options;
    const owner = this._old.owner;
    const { socket: raw, held, eof } = this._old.detach();
    if (eof || raw.readableEnded || raw.destroyed) {
      // The peer ended (or lost) the connection before any handshake byte of ours could
      // reach it, so the handshake cannot complete; and a TLSSocket on a socket that has
      // emitted 'end' or 'close' never hears of it and would wait forever. Fail as
      // asyncio's SSLProtocol fails a handshake at EOF: ConnectionResetError.
      const error: unknown = raw.errored ?? new ConnectionResetError("startTls: the peer closed the connection before the TLS handshake");
      raw.destroy();
      this._owner = owner;
      this._dispatcher.push(this, FAILED, error);
      return;
    }
    // Bytes Node read before the hand-over belong to the handshake. The TLSSocket takes
    // them from the socket's buffer a tick after it is made; the socket stays paused until
    // then, or it would flow them out to no listener first.
    raw.pause();
    for (let i = held.length - 1; i >= 0; i--) raw.unshift(held[i] as Buffer);
    let socket: tls.TLSSocket;
    try {
      if (server === true) {
        socket = new tls.TLSSocket(raw, { ...rest, isServer: true } as tls.TLSSocketOptions);
        socket.once("secure", this._onSecure);
      } else {
        const servername = serverHostname;
        socket = tls.connect({ ...rest, socket: raw, servername } as tls.ConnectionOptions);
        socket.once("secureConnect", this._onSecure);
      }
    } catch (error) {
      raw.destroy();
      this._loop.unrefExternal();
      this._future.setException(error);
      return;
    }
    this._socket = socket;
    this._owner = owner;
    this._dispatcher.open.add(this);
    socket.on("error", this._onError);
    // A server-side TLSSocket whose peer drops the handshake (a client that rejected the
    // certificate) only ends, without an 'error' (half-open like the socket it wraps, it
    // does not close); one destroyed under it (abortClients) only closes.
    socket.on("end", this._onLost);
    socket.on("close", this._onLost);
    // Cancelled while upgrading: leave nothing open (done any other way, `_fail` does nothing).
    this._future.addDoneCallback(() => this._fail(null));
  }

  private _owner: TransportOwner | null = null;

  private readonly _onSecure = (): void => this._dispatcher.push(this, OPENED, null);
  private readonly _onError = (error: Error): void => this._dispatcher.push(this, FAILED, error);
  private readonly _onLost = (): void => this._dispatcher.push(this, FAILED, new ConnectionResetError("startTls: the connection was lost during the TLS handshake"));

  handleEvent(kind: number, payload: unknown): void {
    // As in ConnectAttempt: once finished, `_fail` does nothing; OPENED's payload is null.
    if (kind === FAILED || this._future.done()) {
      this._fail(payload);
      return;
    }
    this._finished = true;
    this._dispatcher.open.delete(this);
    const socket = this._socket as tls.TLSSocket;
    socket.off("error", this._onError);
    socket.off("end", this._onLost);
    socket.off("close", this._onLost);
    const transport = new NodeTransport(this._loop, socket, this._dispatcher, { tls: true, owner: this._owner ?? undefined });
    if (this._owner instanceof NodeListener) {
      this._owner.transports.delete(this._old);
      this._owner.transports.add(transport);
    }
    transport.start(this._protocol, false);
    this._future.setResult(transport);
  }

  // As for a connect: in the open set, and discardable, only once it has its socket.
  discard(): void {
    (this._socket as tls.TLSSocket).destroy();
  }

  private _fail(error: unknown): void {
    if (this._finished) return;
    this._finished = true;
    this._dispatcher.open.delete(this);
    // No TLS socket when the peer had already ended the connection (begin() destroyed it).
    this._socket?.destroy();
    // The old transport's external ref came with the socket; it goes with it. Its
    // protocol hears of the loss, as asyncio's does when a handshake fails.
    this._loop.unrefExternal();
    if (this._owner instanceof NodeListener) this._owner.transports.delete(this._old);
    if (!this._future.done()) this._future.setException(error);
    // null when cancelled; otherwise the Error Node reported (or the lost connection's).
    this._protocol.connectionLost(error as Error | null);
  }
}

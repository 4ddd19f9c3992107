import { lookup } from "node:dns";
import { lstatSync, unlinkSync } from "node:fs";
import { isIP } from "node:net";
import type { ConnectOptions, EventLoop, Future, ListenOptions, NetDriver, Protocol, ServerHandle, StartTlsOptions, Transport } from "@loop/core";
import { nodeNetDriver } from "@loop/net";
import { systemError, withTarget } from "./errors.js";
import { ACCEPT, CONNECTED, ERROR } from "./native.js";
import type { FdTarget, Reactor } from "./reactor.js";
import type { SelectorPoller } from "./selector-poller.js";
import { SelectorTransport, addressInfo } from "./transport.js";

/** Listen options this driver understands beyond `@loop/net`'s. */
export interface SelectorListenOptions extends ListenOptions {
  /** SO_REUSEPORT: several listeners (one loop per worker thread) share the port. */
  reusePort?: boolean;
}

const DEFAULT_BACKLOG = 511; // Node's
/** asyncio's constants.ACCEPT_RETRY_DELAY: how long a listener rests after EMFILE and friends. */
const ACCEPT_RETRY_DELAY_MS = 1_000;
const EAFNOSUPPORT = 97;

type Target = { host?: string; port?: number; path?: string };

/**
 * The selector poller's network: TCP and Unix streams on raw non-blocking sockets, with
 * TLS (and `startTls`) left to Node's driver on the same loop.
 */
export class SelectorNetDriver implements NetDriver {
  constructor(
    private readonly _poller: SelectorPoller,
    private readonly _reactor: Reactor,
  ) {}

  /**
   * Opens a stream for `@loop/net`'s `openConnection`/`createConnection` (asyncio's
   * `loop.create_connection`): a raw non-blocking TCP or Unix socket; with `tls`, Node's
   * driver does it. Resolves once the protocol's `connectionMade` was called.
   */
  connect(loop: EventLoop, protocolFactory: () => Protocol, options: ConnectOptions): Future<Transport> {
    if (options.tls !== undefined && options.tls !== false) return nodeNetDriver.connect(loop, protocolFactory, options);
    const future = loop.createFuture<Transport>();
    new ConnectAttempt(this._poller, this._reactor, loop, future, protocolFactory, options).begin();
    return future;
  }

  /**
   * Listens for `@loop/net`'s `startServer`/`createServer` (asyncio's `loop.create_server`)
   * on a raw socket, honouring `reusePort`; with `tls`, Node's driver does it. Resolves
   * with the listening handle.
   */
  listen(loop: EventLoop, protocolFactory: () => Protocol, options: SelectorListenOptions): Future<ServerHandle> {
    if (options.tls !== undefined) return nodeNetDriver.listen(loop, protocolFactory, options);
    const future = loop.createFuture<ServerHandle>();
    new SelectorListener(this._poller, this._reactor, loop, protocolFactory, options, future).begin();
    return future;
  }

  /**
   * asyncio's `loop.start_tls`: upgrades a connection carried by Node's driver; a raw
   * selector transport is refused with a `TypeError` (connect with `{ tls }` instead).
   */
  startTls(loop: EventLoop, transport: Transport, protocol: Protocol, options: StartTlsOptions): Future<Transport> {
    if (transport instanceof SelectorTransport) {
      const future = loop.createFuture<Transport>();
      future.setException(new TypeError("startTls: a selector transport cannot be upgraded to TLS yet; connect with { tls } (carried by Node's driver) instead"));
      return future;
    }
    return nodeNetDriver.startTls(loop, transport, protocol, options);
  }
}

/** Resolves `host` like `net.connect` (the first address `dns.lookup` gives), on Node's thread pool. */
function resolve(loop: EventLoop, host: string, done: (error: unknown, address: string, family: number) => void): void {
  const family = isIP(host);
  // Stryker disable next-line ConditionalExpression,BlockStatement: dns.lookup answers an IP literal itself (no query, no thread pool) with the same address and family: only the route to the callback differs
  if (family !== 0) {
    loop.callSoon(() => done(null, host, family));
    return;
  }
  loop.refExternal();
  lookup(host, (error, address, fam) => {
    loop.unrefExternal();
    if (loop.isClosed()) return;
    loop.callSoonThreadsafe(() => done(error, address, fam));
  });
}

/**
 * One `connect`: owns the descriptor (and one external ref) until the transport takes it
 * over, or until it fails or its future is cancelled, when it closes the descriptor.
 */
class ConnectAttempt implements FdTarget {
  private _fd = -1;
  private _finished = false;
  private readonly _target: Target;

  constructor(
    readonly owner: SelectorPoller,
    private readonly _reactor: Reactor,
    private readonly _loop: EventLoop,
    private readonly _future: Future<Transport>,
    private readonly _protocolFactory: () => Protocol,
    options: ConnectOptions,
  ) {
    this._target = { host: options.host, port: options.port, path: options.path };
  }

  begin(): void {
    this._loop.refExternal();
    // Done while still connecting means cancelled (a timeout, a cancelled task): leave
    // nothing open. Once the attempt has finished, _fail does nothing.
    this._future.addDoneCallback(() => this._fail(null));
    const { host, port, path } = this._target;
    if (path !== undefined) {
      this._open(0, path, 0);
      return;
    }
    resolve(this._loop, host ?? "localhost", (error, address, family) => {
      if (this._finished) return;
      if (error !== null) this._fail(withTarget(error, this._target));
      else this._open(family, address, port ?? 0);
    });
  }

  private _open(family: number, address: string, port: number): void {
    const fd = this._reactor.native.connect(family, address, port);
    if (fd < 0) {
      this._fail(systemError(-fd, "connect", this._target));
      return;
    }
    this._fd = fd;
    this._reactor.targets[fd] = this;
  }

  handleEvent(kind: number, a: number): void {
    if (this._finished || kind !== CONNECTED) return;
    if (a !== 0 || this._future.done()) {
      this._fail(a !== 0 ? systemError(a, "connect", this._target) : null);
      return;
    }
    this._finished = true;
    const fd = this._fd;
    // The transport takes the descriptor and holds its own external ref from here on.
    const transport = new SelectorTransport(this.owner, this._loop, fd, { unixPath: this._target.path });
    this._loop.unrefExternal();
    try {
      transport.start(this._protocolFactory());
    } catch (error) {
      transport.abort();
      this._future.setException(error);
      return;
    }
    this._future.setResult(transport);
  }

  discard(): void {
    this._fail(null);
  }

  private _fail(error: unknown): void {
    if (this._finished) return;
    this._finished = true;
    const fd = this._fd;
    if (fd >= 0) {
      this._fd = -1;
      if (this._reactor.targets[fd] === this) this._reactor.targets[fd] = undefined;
      this._reactor.native.close(fd, false);
    }
    this._loop.unrefExternal();
    if (error !== null && !this._future.done()) this._future.setException(error);
  }
}

/** A listening socket: accepted descriptors become transports, each with a fresh protocol. */
class SelectorListener implements ServerHandle, FdTarget {
  /** Read from the reactor's table on each use: no Set entry per connection. */
  readonly transports: ReadonlySet<Transport> = new AcceptedTransports(this);
  private _fd = -1;
  private _closed = false;
  private readonly _target: Target;

  constructor(
    readonly owner: SelectorPoller,
    private readonly _reactor: Reactor,
    private readonly _loop: EventLoop,
    private readonly _protocolFactory: () => Protocol,
    private readonly _options: SelectorListenOptions,
    private readonly _future: Future<ServerHandle>,
  ) {
    this._target = { host: _options.host, port: _options.port, path: _options.path };
  }

  begin(): void {
    this._loop.refExternal();
    this._future.addDoneCallback(() => {
      if (this._future.cancelled()) this.close();
    });
    const { host, port, path } = this._options;
    if (path !== undefined) {
      // Stryker disable next-line BooleanLiteral: dual stack is an IPv6 socket option; the addon ignores it for a Unix socket
      this._open(0, path, 0, false);
      return;
    }
    if (host === undefined) {
      // All interfaces, as Node: IPv6 with IPv4 mapped in, or IPv4 where there is no IPv6.
      this._loop.callSoon(() => this._open(6, "::", port ?? 0, true));
      return;
    }
    // Closed (cancelled) during the lookup: _open and _failed find the listener closed.
    resolve(this._loop, host, (error, address, family) => {
      if (error !== null) this._failed(withTarget(error, this._target));
      else this._open(family, address, port ?? 0, false);
    });
  }

  private _open(family: number, address: string, port: number, dualStack: boolean): void {
    if (this._closed) return;
    const { backlog, reusePort } = this._options;
    let fd = this._reactor.native.listen(family, address, port, backlog ?? DEFAULT_BACKLOG, reusePort === true, dualStack);
    if (fd === -EAFNOSUPPORT && dualStack) fd = this._reactor.native.listen(4, "0.0.0.0", port, backlog ?? DEFAULT_BACKLOG, reusePort === true, false);
    if (fd < 0) {
      this._failed(systemError(-fd, "listen", this._target));
      return;
    }
    this._fd = fd;
    this._reactor.targets[fd] = this;
    this._reactor.native.reading(fd, true);
    if (!this._future.done()) this._future.setResult(this);
  }

  private _failed(error: unknown): void {
    this.close();
    if (!this._future.done()) this._future.setException(error);
  }

  handleEvent(kind: number, a: number, b: number): void {
    if (kind === ACCEPT) {
      if (this._closed) {
        this._reactor.native.close(a, false);
        return;
      }
      const transport = new SelectorTransport(this.owner, this._loop, a, { unixPath: this._options.path === undefined ? undefined : "", owner: this });
      try {
        transport.start(this._protocolFactory());
      } catch (error) {
        this._loop.callExceptionHandler({ message: "Error in the protocol factory or connectionMade of an accepted connection", exception: error });
        transport.abort();
      }
    } else if (kind === ERROR && b === 3) {
      // asyncio's _accept_connection: out of descriptors or memory; report, rest, retry.
      this._loop.callExceptionHandler({ message: "socket.accept() out of system resource", exception: systemError(a, "accept", this._target) });
      this._loop.callLater(ACCEPT_RETRY_DELAY_MS, () => {
        if (this._fd >= 0) this._reactor.native.reading(this._fd, true);
      });
    }
  }

  discard(): void {
    this.close();
  }

  /** @internal The reactor's descriptor table, where this listener's transports are found. */
  _reactorTargets(): readonly (FdTarget | undefined)[] {
    return this._reactor.targets;
  }

  address(): { address: string; family: string; port: number } | string | null {
    // A Unix listener's own name is its path (addressInfo gives it as a string).
    // Stryker disable next-line ConditionalExpression: sockname(-1) is null too (EBADF), so a closed listener answers null either way
    if (this._fd < 0) return null;
    return (addressInfo(this._reactor.native.sockname(this._fd)) as { address: string; family: string; port: number } | undefined) ?? null;
  }

  close(): void {
    if (this._closed) return;
    this._closed = true;
    this._loop.unrefExternal();
    const fd = this._fd;
    if (fd < 0) return;
    this._fd = -1;
    if (this._reactor.targets[fd] === this) this._reactor.targets[fd] = undefined;
    // Stryker disable next-line BooleanLiteral: SO_LINGER 0 changes nothing for a listening socket: the kernel resets its unaccepted connections either way
    this._reactor.native.close(fd, false);
    // asyncio 3.13 removes the socket file of a Unix server it created, on close.
    const path = this._options.path;
    // Stryker disable next-line ConditionalExpression: for a TCP listener lstatSync(undefined) throws, which the catch below takes for "nothing to remove"
    if (path !== undefined) {
      try {
        if (lstatSync(path).isSocket()) unlinkSync(path);
      } catch {
        // Already gone.
      }
    }
  }
}

/**
 * `ServerHandle.transports` of a listener: the open transports it accepted, found in the
 * reactor's descriptor table (each names the listener that accepted it) whenever the set
 * is read, so that a connection costs no Set entry. A live view, as a Set kept up to date
 * would be: what it holds changes as connections open and close.
 */
class AcceptedTransports implements ReadonlySet<Transport> {
  constructor(private readonly _listener: SelectorListener) {}

  get size(): number {
    let n = 0;
    for (const target of this._listener._reactorTargets()) if (target instanceof SelectorTransport && target._acceptedBy(this._listener)) n++;
    return n;
  }

  has(value: Transport): boolean {
    return value instanceof SelectorTransport && value._acceptedBy(this._listener);
  }

  forEach(callback: (value: Transport, key: Transport, set: ReadonlySet<Transport>) => void, thisArg?: unknown): void {
    for (const transport of this._list()) callback.call(thisArg, transport, transport, this);
  }

  values(): SetIterator<Transport> {
    return this._list().values();
  }

  keys(): SetIterator<Transport> {
    return this._list().values();
  }

  entries(): SetIterator<[Transport, Transport]> {
    return new Set(this._list()).entries();
  }

  [Symbol.iterator](): SetIterator<Transport> {
    return this._list().values();
  }

  /** A snapshot, so that closing transports while iterating is safe. */
  private _list(): Set<Transport> {
    const found = new Set<Transport>();
    for (const target of this._listener._reactorTargets()) if (target instanceof SelectorTransport && target._acceptedBy(this._listener)) found.add(target);
    return found;
  }
}

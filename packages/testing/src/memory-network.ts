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
import { openMemoryDatagram, type DatagramConditions, type DatagramFabric, type MemoryDatagramTransport } from "./memory-datagram.js";
import { MemoryTransport, systemError, type Endpoint, type MemoryFabric } from "./memory-network-transport.js";
import { mulberry32 } from "./shuffle.js";

/** The conditions of the link between two hosts. */
export interface LinkConditions {
  /** One-way delay in ms; 0 by default. */
  latency?: number;
  /** Bytes per ms (1 = about 1 MB/s); unlimited by default. */
  bandwidth?: number;
}

/** Options of `new MemoryNetwork()`: the default link conditions, and more. */
export interface MemoryNetworkOptions extends LinkConditions {
  /** The host that the network itself connects and listens from; "localhost" by default. */
  localHost?: string;
  /** Bytes a receiver holds unread before its sender must wait (a socket buffer); 64 KiB by default. */
  window?: number;
  /** Loss, duplication, reordering and extra delay of datagrams (UDP), drawn from a seed. */
  datagrams?: DatagramConditions;
}

const FIRST_EPHEMERAL_PORT = 49152;
const ANY_HOSTS = new Set(["", "0.0.0.0", "::"]);

/**
 * A network in memory, in the loop's time: named hosts and ports, with latency,
 * bandwidth, refused connections, resets and partitions that a test sets up. It is a
 * `NetDriver`: give it to a poller (`new VirtualPoller({ net })`) and `@loop/net`'s
 * streams run over it unchanged; with the virtual-time poller a 200 ms latency costs no
 * real time.
 *
 * Failures look like Node's: an unknown host fails with `ENOTFOUND`, a port nobody
 * listens on (or one `refuse`d) with `ECONNREFUSED`, a taken port with `EADDRINUSE`, a
 * reset with `ECONNRESET`, each with `code`, `address` and `port`. A connection attempt
 * across a partition waits until the partition heals, as a SYN would be retried (use a
 * connect timeout).
 * @example
 * const network = new MemoryNetwork({ latency: 5 });
 * network.addHost("db");
 * await runVirtual(function* () {
 *   const server = yield* startServer(handler, "db", 6379);
 *   const [reader, writer] = yield* openConnection("db", 6379); // 10 ms of virtual time
 * }, { net: network });
 */
export class MemoryNetwork implements NetDriver, MemoryFabric {
  /** Bytes a receiver holds unread before its sender must wait (`window` option). */
  readonly window: number;
  private readonly _defaultLink: { latency: number; bandwidth: number };
  private readonly _links = new Map<string, { latency: number; bandwidth: number }>();
  private readonly _hosts = new Set<string>(["localhost"]);
  private readonly _listeners = new Map<string, MemoryListener>();
  private readonly _nextPort = new Map<string, number>();
  private readonly _partitions = new Set<string>();
  private readonly _refused = new Set<string>();
  private readonly _transports = new Set<MemoryTransport>();
  private readonly _waitingConnects = new Set<PendingConnect>();
  private readonly _local: MemoryHost;
  // Datagrams: endpoints by "host:port" (UDP ports are their own space), the conditions,
  // and the one generator every fate is drawn from.
  private readonly _datagramEndpoints = new Map<string, MemoryDatagramTransport[]>();
  private readonly _nextDatagramPort = new Map<string, number>();
  private _datagramConditions: Required<DatagramConditions> = { loss: 0, duplicate: 0, reorder: 0, reorderWindow: 10, delay: 0, seed: 1 };
  private _random: () => number = mulberry32(1);
  private readonly _datagramFabric: DatagramFabric;
  /** Datagrams sent (not counting those refused at `sendto`) and delivered to a protocol, duplicates included. */
  readonly datagramStats = { sent: 0, delivered: 0 };

  constructor(opts: MemoryNetworkOptions = {}) {
    if (typeof opts !== "object" || opts === null) throw new TypeError("new MemoryNetwork(opts): opts must be an object like { latency, bandwidth }");
    this._defaultLink = checkLink("new MemoryNetwork", opts);
    const window = opts.window ?? 65_536;
    if (typeof window !== "number" || !(window >= 1)) throw new RangeError(`new MemoryNetwork({ window }): window must be at least 1 byte, got ${String(window)}`);
    this.window = window;
    const localHost = opts.localHost ?? "localhost";
    if (typeof localHost !== "string" || localHost === "") throw new TypeError("new MemoryNetwork({ localHost }): localHost must be a non-empty string");
    this._hosts.add(localHost);
    this._local = new MemoryHost(this, localHost);
    if (opts.datagrams !== undefined) this.setDatagramConditions(opts.datagrams);
    this._datagramFabric = {
      link: (from, to) => this.link(from, to),
      partitioned: (a, b) => this.partitioned(a, b),
      fate: () => this._fate(),
      endpointAt: (to) => {
        const list = this._datagramEndpoints.get(`${to.host}:${to.port}`);
        return list === undefined ? undefined : list[list.length - 1];
      },
      resolves: (host) => this._hosts.has(host),
      endpointClosed: (endpoint) => {
        const key = `${endpoint.local.host}:${endpoint.local.port}`;
        // Only a bound endpoint can close: one whose bind failed is never handed out.
        const list = (this._datagramEndpoints.get(key) as MemoryDatagramTransport[]).filter((e) => e !== endpoint);
        if (list.length === 0) this._datagramEndpoints.delete(key);
        else this._datagramEndpoints.set(key, list);
      },
      count: (what) => void this.datagramStats[what]++,
    };
  }

  /**
   * Sets what happens to datagrams from now on (see `DatagramConditions`); a `seed`
   * restarts the draws. Partitions drop datagrams outright (UDP does not retry).
   */
  setDatagramConditions(conditions: DatagramConditions): this {
    if (typeof conditions !== "object" || conditions === null) throw new TypeError("MemoryNetwork.setDatagramConditions(conditions): conditions must be an object like { loss, duplicate, reorder, seed }");
    const merged = { ...this._datagramConditions, ...conditions };
    for (const key of ["loss", "duplicate", "reorder"] as const) {
      const p = merged[key];
      if (typeof p !== "number" || !(p >= 0 && p <= 1)) throw new RangeError(`MemoryNetwork datagrams: ${key} must be a probability from 0 to 1, got ${String(p)}`);
    }
    for (const key of ["reorderWindow", "delay"] as const) {
      const ms = merged[key];
      if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError(`MemoryNetwork datagrams: ${key} must be 0 or more milliseconds, got ${String(ms)}`);
    }
    if (!Number.isFinite(merged.seed)) throw new RangeError(`MemoryNetwork datagrams: seed must be a finite number, got ${String(merged.seed)}`);
    if (conditions.seed !== undefined) this._random = mulberry32(merged.seed);
    this._datagramConditions = merged;
    return this;
  }

  /** How many datagram endpoints are open (a test's leak check: 0 after the test). */
  get openDatagramEndpoints(): number {
    let count = 0;
    for (const list of this._datagramEndpoints.values()) count += list.length;
    return count;
  }

  /** Declares a host name, so that it resolves (connecting to it is refused until something listens). */
  addHost(name: string): this {
    checkHostName("MemoryNetwork.addHost(name)", name);
    this._hosts.add(name);
    return this;
  }

  /** The network seen from host `name` (declared if new): a NetDriver whose connections come from there. */
  host(name: string): NetDriver {
    checkHostName("MemoryNetwork.host(name)", name);
    this._hosts.add(name);
    return name === this._local.name ? this._local : new MemoryHost(this, name);
  }

  /** Sets latency and bandwidth between hosts `a` and `b`, both ways. */
  setLink(a: string, b: string, conditions: LinkConditions): this {
    const merged = { ...this._defaultLink, ...conditions };
    const link = checkLink("MemoryNetwork.setLink(a, b, conditions)", merged);
    this._links.set(pairKey(a, b), link);
    return this;
  }

  /** Cuts traffic between `a` and `b`: bytes wait, new connections wait, until `heal`. */
  partition(a: string, b: string): this {
    this._partitions.add(pairKey(a, b));
    return this;
  }

  /** Ends the partition between `a` and `b` (every partition with no arguments); waiting traffic flows. */
  heal(a?: string, b?: string): this {
    if (a === undefined && b === undefined) this._partitions.clear();
    else if (typeof a !== "string" || typeof b !== "string") throw new TypeError("MemoryNetwork.heal(a, b): name both hosts, or neither to heal every partition");
    else this._partitions.delete(pairKey(a, b));
    for (const transport of this._transports) transport._pump();
    for (const attempt of [...this._waitingConnects]) {
      if (!this.partitioned(attempt.from, attempt.to.host)) {
        this._waitingConnects.delete(attempt);
        attempt.proceed();
      }
    }
    return this;
  }

  /**
   * Refuses new connections to `host` (on `port`, or every port) even where something
   * listens; `host` may also be a Unix socket path (ECONNREFUSED, as from a socket file
   * nobody accepts on).
   */
  refuse(host: string, port?: number): this {
    this._refused.add(port === undefined ? host : `${host}:${port}`);
    return this;
  }

  /** Undoes `refuse`. */
  allow(host: string, port?: number): this {
    this._refused.delete(port === undefined ? host : `${host}:${port}`);
    return this;
  }

  /** Resets every open connection with an end on `host` (and `port`): both ends get ECONNRESET. */
  reset(host: string, port?: number): number {
    let count = 0;
    for (const transport of [...this._transports]) {
      const { local } = transport;
      if (local.host === host && (port === undefined || local.port === port)) {
        transport.reset();
        // Stryker disable next-line OptionalChaining: both ends get their peer before either is registered
        transport.peer?.reset();
        count++;
      }
    }
    return count;
  }

  /** How many connection ends are open (a test's leak check: 0 after the test). */
  get openConnections(): number {
    return this._transports.size;
  }

  /** How many listeners are open. */
  get openListeners(): number {
    return this._listeners.size;
  }

  // --- NetDriver, from the local host ----------------------------------------------------

  /** Connects from the network's local host (`NetDriver.connect`). */
  connect(loop: EventLoop, protocolFactory: () => Protocol, options: ConnectOptions): Future<Transport> {
    return this._local.connect(loop, protocolFactory, options);
  }

  /** Listens on a host of the network (`NetDriver.listen`). */
  listen(loop: EventLoop, protocolFactory: () => Protocol, options: ListenOptions): Future<ServerHandle> {
    return this._local.listen(loop, protocolFactory, options);
  }

  /**
   * "Upgrades" a connection end to TLS: it reports itself as TLS from then on (so the
   * streams treat it as such: no half-close), but nothing is encrypted. Enough to test
   * the STARTTLS dance of a protocol; certificates are not checked.
   */
  startTls(loop: EventLoop, transport: Transport, _protocol: Protocol, _options: StartTlsOptions): Future<Transport> {
    const future = loop.createFuture<Transport>();
    if (transport instanceof MemoryTransport) {
      transport.markTls();
      future.setResult(transport);
    } else {
      future.setException(new TypeError("MemoryNetwork.startTls: the transport is not one of this network's"));
    }
    return future;
  }

  /** A UDP endpoint on the local host (see `DatagramConditions` for what befalls its datagrams). */
  datagram(loop: EventLoop, protocolFactory: () => DatagramProtocol, options: DatagramOptions): Future<DatagramTransport> {
    return this._local.datagram(loop, protocolFactory, options);
  }

  // --- MemoryFabric ----------------------------------------------------------------------

  /** The latency and bandwidth between two hosts (for the network's transports). */
  link(from: string, to: string): { latency: number; bandwidth: number } {
    return this._links.get(pairKey(from, to)) ?? this._defaultLink;
  }

  /** True while `partition(a, b)` cuts the two hosts apart (for the network's transports). */
  partitioned(a: string, b: string): boolean {
    // Stryker disable next-line ConditionalExpression,EqualityOperator: a fast path sparing a key string per segment while nothing is cut; skipping it (false) changes nothing, as has() on an empty set is false too (true or !== 0 fail every partition test)
    if (this._partitions.size === 0) return false;
    return this._partitions.has(pairKey(a, b));
  }

  /** Forgets a closed connection end (called by the network's transports). */
  transportClosed(transport: MemoryTransport): void {
    this._transports.delete(transport);
    for (const listener of this._listeners.values()) listener.transports.delete(transport);
  }

  // --- for MemoryHost ----------------------------------------------------------------------

  /** @internal */
  _connect(from: string, loop: EventLoop, protocolFactory: () => Protocol, options: ConnectOptions): Future<Transport> {
    const future = loop.createFuture<Transport>();
    const unixPath = options.path;
    const to: Endpoint = unixPath !== undefined ? { host: unixHost(unixPath), port: 0 } : { host: options.host ?? "localhost", port: options.port ?? 0 };
    const attempt = new PendingConnect(this, loop, future, protocolFactory, from, to, unixPath, options.tls !== undefined && options.tls !== false);
    if (!this._hosts.has(to.host) && unixPath === undefined) {
      loop.callSoon(() => {
        if (!future.done()) {
          future.setException(
            systemError("ENOTFOUND", 3008, "getaddrinfo", to.host, { hostname: to.host, address: to.host, port: to.port }),
          );
        }
      });
      return future;
    }
    if (this.partitioned(from, to.host)) {
      this._waitingConnects.add(attempt);
      future.addDoneCallback(() => this._waitingConnects.delete(attempt));
    } else {
      attempt.proceed();
    }
    return future;
  }

  /** @internal */
  _listen(from: string, loop: EventLoop, protocolFactory: () => Protocol, options: ListenOptions): Future<ServerHandle> {
    const future = loop.createFuture<ServerHandle>();
    let host: string;
    let port: number;
    if (options.path !== undefined) {
      host = unixHost(options.path);
      port = 0;
    } else {
      host = options.host === undefined || ANY_HOSTS.has(options.host) ? from : options.host;
      port = options.port ?? 0;
      if (port === 0) port = this._ephemeralPort(host);
    }
    const key = `${host}:${port}`;
    if (this._listeners.has(key)) {
      const address = options.path ?? host;
      future.setException(systemError("EADDRINUSE", 98, "listen", `${address}${options.path === undefined ? `:${port}` : ""}`, { address, port }));
      return future;
    }
    this._hosts.add(host);
    const listener = new MemoryListener(this, key, { host, port }, protocolFactory, options.path, options.tls !== undefined);
    this._listeners.set(key, listener);
    future.setResult(listener);
    return future;
  }

  /** @internal */
  _datagram(from: string, loop: EventLoop, protocolFactory: () => DatagramProtocol, options: DatagramOptions): Future<DatagramTransport> {
    const wanted = options.localAddr;
    const host = wanted === undefined || ANY_HOSTS.has(wanted[0]) ? from : wanted[0];
    this._hosts.add(host);
    let port = wanted?.[1] ?? 0;
    if (port === 0) {
      port = this._nextDatagramPort.get(host) ?? FIRST_EPHEMERAL_PORT;
      while (this._datagramEndpoints.has(`${host}:${port}`)) port++;
      this._nextDatagramPort.set(host, port + 1);
    }
    const key = `${host}:${port}`;
    return openMemoryDatagram(loop, this._datagramFabric, protocolFactory, options, { host, port }, (endpoint) => {
      const list = this._datagramEndpoints.get(key);
      if (list !== undefined && options.reusePort !== true) return systemError("EADDRINUSE", 98, "bind", key, { address: host, port });
      if (list === undefined) this._datagramEndpoints.set(key, [endpoint]);
      else list.push(endpoint);
      return null;
    });
  }

  /** The copies one datagram becomes: none if lost, two if duplicated; each number its extra delay. */
  private _fate(): number[] {
    const c = this._datagramConditions;
    const random = this._random;
    if (c.loss > 0 && random() < c.loss) return [];
    const copies = c.duplicate > 0 && random() < c.duplicate ? 2 : 1;
    const delays: number[] = [];
    for (let i = 0; i < copies; i++) delays.push(c.delay + (c.reorder > 0 && random() < c.reorder ? random() * c.reorderWindow : 0));
    return delays;
  }

  /** @internal */
  _refuses(to: Endpoint, unixPath: string | undefined): boolean {
    return this._refused.has(unixPath ?? to.host) || this._refused.has(`${to.host}:${to.port}`);
  }

  /** @internal */
  _listenerAt(to: Endpoint): MemoryListener | undefined {
    return this._listeners.get(`${to.host}:${to.port}`);
  }

  /** @internal */
  _removeListener(key: string): void {
    this._listeners.delete(key);
  }

  /** @internal */
  _register(transport: MemoryTransport): void {
    this._transports.add(transport);
  }

  /** @internal */
  _ephemeralPort(host: string): number {
    let port = this._nextPort.get(host) ?? FIRST_EPHEMERAL_PORT;
    while (this._listeners.has(`${host}:${port}`)) port++;
    this._nextPort.set(host, port + 1);
    return port;
  }
}

/** The network as seen from one host. */
class MemoryHost implements NetDriver {
  constructor(
    private readonly _network: MemoryNetwork,
    readonly name: string,
  ) {}

  connect(loop: EventLoop, protocolFactory: () => Protocol, options: ConnectOptions): Future<Transport> {
    return this._network._connect(this.name, loop, protocolFactory, options);
  }

  listen(loop: EventLoop, protocolFactory: () => Protocol, options: ListenOptions): Future<ServerHandle> {
    return this._network._listen(this.name, loop, protocolFactory, options);
  }

  startTls(loop: EventLoop, transport: Transport, protocol: Protocol, options: StartTlsOptions): Future<Transport> {
    return this._network.startTls(loop, transport, protocol, options);
  }

  datagram(loop: EventLoop, protocolFactory: () => DatagramProtocol, options: DatagramOptions): Future<DatagramTransport> {
    return this._network._datagram(this.name, loop, protocolFactory, options);
  }
}

/** A listening port. */
class MemoryListener implements ServerHandle {
  readonly transports = new Set<Transport>();
  private _closed = false;

  constructor(
    private readonly _network: MemoryNetwork,
    private readonly _key: string,
    readonly endpoint: Endpoint,
    readonly protocolFactory: () => Protocol,
    private readonly _path: string | undefined,
    readonly tls: boolean,
  ) {}

  address(): { address: string; family: string; port: number } | string | null {
    if (this._closed) return null;
    return this._path ?? { address: this.endpoint.host, family: "memory", port: this.endpoint.port };
  }

  close(): void {
    if (this._closed) return;
    this._closed = true;
    this._network._removeListener(this._key);
  }
}

/**
 * One connection attempt: SYN after `latency`, the server end made then, the client
 * end one more `latency` later (a round trip), or ECONNREFUSED after the round trip.
 */
class PendingConnect {
  constructor(
    private readonly _network: MemoryNetwork,
    private readonly _loop: EventLoop,
    private readonly _future: Future<Transport>,
    private readonly _protocolFactory: () => Protocol,
    readonly from: string,
    readonly to: Endpoint,
    private readonly _unixPath: string | undefined,
    private readonly _tls: boolean,
  ) {}

  proceed(): void {
    // Cancelled while a partition held it, in the turn of the heal: no SYN timer for nothing.
    if (this._future.done()) return;
    const latency = this._network.link(this.from, this.to.host).latency;
    this._loop.callLater(latency, () => this._synArrives(latency));
  }

  private _synArrives(latency: number): void {
    const network = this._network;
    const future = this._future;
    if (future.done()) return;
    const listener = network._listenerAt(this.to);
    if (listener === undefined || network._refuses(this.to, this._unixPath)) {
      const { host, port } = this.to;
      const error =
        this._unixPath !== undefined
          ? systemError(listener === undefined ? "ENOENT" : "ECONNREFUSED", listener === undefined ? 2 : 111, "connect", this._unixPath, { address: this._unixPath, path: this._unixPath })
          : systemError("ECONNREFUSED", 111, "connect", `${host}:${port}`, { address: host, port });
      this._loop.callLater(latency, () => {
        if (!future.done()) future.setException(error);
      });
      return;
    }
    const clientEnd: Endpoint = { host: this.from, port: network._ephemeralPort(this.from) };
    const tls = this._tls || listener.tls;
    const server = new MemoryTransport(this._loop, network, this.to, clientEnd, { unixPath: this._unixPath === undefined ? undefined : "", tls });
    const client = new MemoryTransport(this._loop, network, clientEnd, this.to, { unixPath: this._unixPath, tls });
    server.peer = client;
    client.peer = server;
    network._register(server);
    network._register(client);
    listener.transports.add(server);
    server.start(listener.protocolFactory());
    this._loop.callLater(latency, () => {
      if (future.done()) {
        // Cancelled meanwhile: the client goes away and the server sees the stream end.
        client.abort();
        return;
      }
      try {
        client.start(this._protocolFactory());
      } catch (error) {
        client.abort();
        future.setException(error);
        return;
      }
      future.setResult(client);
    });
  }
}

function unixHost(path: string): string {
  return `unix:${path}`;
}

function pairKey(a: string, b: string): string {
  // Stryker disable next-line EqualityOperator: with <= or >= each unordered pair still gets one key (a === b gives the same string either way)
  return a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`;
}

function checkHostName(where: string, name: unknown): void {
  if (typeof name !== "string" || name === "") throw new TypeError(`${where}: name must be a non-empty string`);
}

function checkLink(where: string, conditions: LinkConditions): { latency: number; bandwidth: number } {
  const latency = conditions.latency ?? 0;
  const bandwidth = conditions.bandwidth ?? Infinity;
  if (typeof latency !== "number" || !(latency >= 0)) throw new RangeError(`${where}: latency must be 0 or more milliseconds, got ${String(latency)}`);
  if (typeof bandwidth !== "number" || !(bandwidth > 0)) throw new RangeError(`${where}: bandwidth must be a positive number of bytes per ms, got ${String(bandwidth)}`);
  return { latency, bandwidth };
}

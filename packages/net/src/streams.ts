import { CancelledError, TimeoutError, getRunningLoop, type AbstractFuture, type Coroutine, type EventLoop, type Transport } from "@loop/core";
import { getNetDriver } from "./driver.js";
import { withAddress } from "./errors.js";
import { Server } from "./server.js";
import { StreamReader, checkLimit } from "./stream-reader.js";
import { StreamReaderProtocol, type ClientConnected } from "./stream-protocol.js";
import { StreamWriter } from "./stream-writer.js";

/** TLS options of a client: `true` for the defaults, or Node's `tls.connect` options (ca, cert, servername, …). */
export type TlsOptions = boolean | Record<string, unknown>;
/** TLS options of a server: Node's `tls.createServer` options (key, cert, …). */
export type TlsServerOptions = Record<string, unknown>;

/** Options of `openConnection`. */
export interface OpenConnectionOptions {
  /** The reader's limit (see `StreamReader`); 64 KiB by default. */
  limit?: number;
  /** Connect over TLS. */
  tls?: TlsOptions;
  /** Server name for SNI and the certificate check; defaults to `host` when it is a name. */
  serverHostname?: string;
  /** Abandons the attempt when aborted: the coroutine throws the signal's reason. */
  signal?: AbortSignal;
  /** Gives up connecting after this many ms with a `TimeoutError` whose `code` is ETIMEDOUT. */
  timeout?: number;
}

/** Options of `startServer`. */
export interface StartServerOptions {
  /** The limit of each connection's reader (see `StreamReader`); 64 KiB by default. */
  limit?: number;
  /** The length of the queue of connections not yet accepted. */
  backlog?: number;
  /** Serve TLS with these options. */
  tls?: TlsServerOptions;
  /**
   * SO_REUSEPORT: several listeners (one loop per worker thread) share the port. Needs a
   * driver that can set it (`@loop/selector`'s, or Node's on Node >= 22.12).
   */
  reusePort?: boolean;
}

/** Options of `openUnixConnection`: those of `openConnection` but the server name. */
export type UnixConnectionOptions = Omit<OpenConnectionOptions, "serverHostname">;
/** Options of `startUnixServer`. */
export type UnixServerOptions = StartServerOptions;

/**
 * Connects to `host:port` and returns a reader and a writer (asyncio.open_connection).
 * Fails with the driver's error — `ECONNREFUSED`, `ENOTFOUND`, … in `code`, with the
 * `address` and `port` — and leaves no socket behind when cancelled.
 * @example
 * const [reader, writer] = yield* openConnection("127.0.0.1", 6379);
 * writer.write("PING\r\n");
 * const reply = yield* reader.readline();
 * writer.close();
 * yield* writer.waitClosed();
 */
export function openConnection(host: string, port: number, opts?: OpenConnectionOptions): Coroutine<[StreamReader, StreamWriter]> {
  if (typeof host !== "string" || host === "") throw new TypeError(`openConnection(host, port): host must be a non-empty string, got ${describe(host)}`);
  checkPort("openConnection(host, port)", port, false);
  const options = checkConnectOptions("openConnection", opts);
  return connect({ host, port, tls: options.tls, serverHostname: options.serverHostname }, options, `${host}:${port}`);
}

/** `openConnection` for a Unix socket at `path` (asyncio.open_unix_connection). */
export function openUnixConnection(path: string, opts?: UnixConnectionOptions): Coroutine<[StreamReader, StreamWriter]> {
  if (typeof path !== "string" || path === "") throw new TypeError(`openUnixConnection(path): path must be a non-empty string, got ${describe(path)}`);
  const options = checkConnectOptions("openUnixConnection", opts);
  return connect({ path, tls: options.tls }, options, path);
}

/**
 * Listens on `host:port` (all interfaces when `host` is undefined; port 0 picks a free
 * one) and runs `onClient(reader, writer)` as a new task for each connection
 * (asyncio.start_server). A handler's error goes to the loop's exception handler and
 * the server goes on; the connection is closed when its handler returns.
 * @example
 * const server = yield* startServer(function* (reader, writer) {
 *   for (;;) {
 *     const line = yield* reader.readline();
 *     if (line.length === 0) break;
 *     writer.write(line);
 *     yield* writer.drain();
 *   }
 * }, "127.0.0.1", 0);
 * console.log(server.address());
 */
export function startServer(onClient: ClientConnected, host: string | undefined, port: number, opts?: StartServerOptions): Coroutine<Server> {
  checkHandler("startServer(onClient, host, port)", onClient);
  if (host !== undefined && typeof host !== "string") throw new TypeError(`startServer(onClient, host, port): host must be a string or undefined, got ${describe(host)}`);
  checkPort("startServer(onClient, host, port)", port, true);
  const options = checkServerOptions("startServer", opts);
  return listen(onClient, { host, port, backlog: options.backlog, tls: options.tls, reusePort: options.reusePort }, options.limit, `${host ?? "*"}:${port}`);
}

/** `startServer` on a Unix socket at `path` (asyncio.start_unix_server). */
export function startUnixServer(onClient: ClientConnected, path: string, opts?: UnixServerOptions): Coroutine<Server> {
  checkHandler("startUnixServer(onClient, path)", onClient);
  if (typeof path !== "string" || path === "") throw new TypeError(`startUnixServer(onClient, path): path must be a non-empty string, got ${describe(path)}`);
  const options = checkServerOptions("startUnixServer", opts);
  return listen(onClient, { path, backlog: options.backlog, tls: options.tls }, options.limit, path);
}

interface CheckedConnectOptions {
  limit: number;
  tls: TlsOptions | undefined;
  serverHostname: string | undefined;
  signal: AbortSignal | undefined;
  timeout: number | undefined;
}

function* connect(
  target: { host?: string; port?: number; path?: string; tls?: TlsOptions; serverHostname?: string },
  options: CheckedConnectOptions,
  name: string,
): Coroutine<[StreamReader, StreamWriter]> {
  const loop = getRunningLoop();
  const { signal, timeout } = options;
  if (signal?.aborted) throw signal.reason;
  const reader = new StreamReader({ limit: options.limit, loop });
  const protocol = new StreamReaderProtocol(reader, null, loop);
  const pending: AbstractFuture<Transport> = getNetDriver(loop).connect(loop, () => protocol, target);
  pending.label = `openConnection to ${name}`;
  let timedOut = false;
  const timer =
    timeout === undefined
      ? null
      : loop.callLater(timeout, () => {
          timedOut = true;
          pending.cancel();
        });
  const onAbort = (): void => {
    pending.cancel();
  };
  signal?.addEventListener("abort", onAbort);
  let transport: Transport;
  try {
    transport = yield* pending;
  } catch (error) {
    // Cancelled just after the connection was made: do not leave it behind.
    if (pending.done() && !pending.cancelled() && pending.exception() === null) pending.result().abort();
    if (error instanceof CancelledError && pending.cancelled()) {
      if (timedOut) {
        const timeoutError = new TimeoutError(`openConnection: connecting to ${name} timed out after ${timeout} ms`);
        throw withAddress(Object.assign(timeoutError, { code: "ETIMEDOUT" }), target.host, target.port, target.path);
      }
      if (signal?.aborted) throw signal.reason;
    }
    throw error;
  } finally {
    timer?.cancel();
    signal?.removeEventListener("abort", onAbort);
  }
  return [reader, new StreamWriter(transport, protocol, reader, loop)];
}

function* listen(
  onClient: ClientConnected,
  target: { host?: string; port?: number; path?: string; backlog?: number; tls?: TlsServerOptions; reusePort?: boolean },
  limit: number,
  name: string,
): Coroutine<Server> {
  const loop: EventLoop = getRunningLoop();
  const server = new Server(loop, name);
  const factory = (): StreamReaderProtocol => new StreamReaderProtocol(new StreamReader({ limit, loop }), onClient, loop, server);
  const pending = getNetDriver(loop).listen(loop, factory, target);
  pending.label = `startServer on ${name}`;
  try {
    server._setHandle(yield* pending);
  } catch (error) {
    // Cancelled just after the listener was made: do not leave it listening.
    if (pending.done() && !pending.cancelled() && pending.exception() === null) pending.result().close();
    throw error;
  }
  return server;
}

function checkPort(where: string, port: unknown, zeroAllowed: boolean): void {
  if (typeof port !== "number") throw new TypeError(`${where}: port must be a number, got ${describe(port)}`);
  if (!Number.isInteger(port) || port < (zeroAllowed ? 0 : 1) || port > 65535) {
    throw new RangeError(`${where}: port must be an integer from ${zeroAllowed ? 0 : 1} to 65535, got ${port}`);
  }
}

function checkHandler(where: string, onClient: unknown): void {
  if (typeof onClient !== "function") throw new TypeError(`${where}: onClient must be a generator function (reader, writer) => Coroutine, got ${describe(onClient)}`);
}

function checkConnectOptions(where: string, opts: OpenConnectionOptions | undefined): CheckedConnectOptions {
  if (opts !== undefined && (typeof opts !== "object" || opts === null)) throw new TypeError(`${where}(…, opts): opts must be an object like { limit, tls, signal, timeout }`);
  const limit = checkLimit(`${where}(…, { limit })`, opts?.limit);
  const tls = opts?.tls;
  if (tls !== undefined && typeof tls !== "boolean" && (typeof tls !== "object" || tls === null)) {
    throw new TypeError(`${where}(…, { tls }): tls must be true, false or an object of TLS options`);
  }
  const signal = opts?.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError(`${where}(…, { signal }): signal must be an AbortSignal`);
  const timeout = opts?.timeout;
  if (timeout !== undefined) {
    if (typeof timeout !== "number") throw new TypeError(`${where}(…, { timeout }): timeout must be a number of milliseconds`);
    if (!(timeout >= 0)) throw new RangeError(`${where}(…, { timeout }): timeout must be 0 or more milliseconds, got ${timeout}`);
  }
  const serverHostname = opts?.serverHostname;
  if (serverHostname !== undefined && typeof serverHostname !== "string") throw new TypeError(`${where}(…, { serverHostname }): serverHostname must be a string`);
  return { limit, tls, serverHostname, signal, timeout };
}

function checkServerOptions(where: string, opts: StartServerOptions | undefined): { limit: number; backlog?: number; tls?: TlsServerOptions; reusePort?: boolean } {
  if (opts !== undefined && (typeof opts !== "object" || opts === null)) throw new TypeError(`${where}(…, opts): opts must be an object like { limit, backlog, tls }`);
  const limit = checkLimit(`${where}(…, { limit })`, opts?.limit);
  const backlog = opts?.backlog;
  if (backlog !== undefined && (!Number.isInteger(backlog) || backlog < 0)) {
    throw new RangeError(`${where}(…, { backlog }): backlog must be an integer of 0 or more`);
  }
  const tls = opts?.tls;
  if (tls !== undefined && (typeof tls !== "object" || tls === null)) throw new TypeError(`${where}(…, { tls }): tls must be an object of TLS server options (key, cert, …)`);
  const reusePort = opts?.reusePort;
  if (reusePort !== undefined && typeof reusePort !== "boolean") throw new TypeError(`${where}(…, { reusePort }): reusePort must be a boolean`);
  return { limit, backlog, tls, reusePort };
}

function describe(value: unknown): string {
  return value === null ? "null" : typeof value === "string" ? JSON.stringify(value) : typeof value;
}

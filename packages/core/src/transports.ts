/**
 * asyncio's transports and protocols, as interfaces: the contract between the streams of
 * `@loop/net` and whatever carries the bytes (a poller's `NetDriver`: Node sockets, the
 * in-memory network of `@loop/testing`). Transports call protocol methods from loop
 * callbacks, never re-entrantly from inside a transport method.
 */

import type { Future } from "./future.js";
import type { EventLoop } from "./loop.js";

export interface BaseTransport {
  close(): void;
  isClosing(): boolean;
  /** Transport details: "peername", "sockname", "socket", "sslcontext", "peercert", … */
  getExtraInfo<T = unknown>(name: string, fallback?: T): T | undefined;
  setProtocol(protocol: BaseProtocol): void;
  getProtocol(): BaseProtocol;
}

export interface ReadTransport extends BaseTransport {
  isReading(): boolean;
  /** Stops calling `dataReceived` until `resumeReading` (flow control towards the peer). */
  pauseReading(): void;
  resumeReading(): void;
}

export interface WriteTransport extends BaseTransport {
  /** Buffers the bytes and sends them as soon as possible; never blocks. */
  write(data: Uint8Array): void;
  writelines(list: Iterable<Uint8Array>): void;
  writeEof(): void;
  canWriteEof(): boolean;
  /** Closes at once, dropping buffered data. */
  abort(): void;
  getWriteBufferSize(): number;
  getWriteBufferLimits(): { low: number; high: number };
  /** Past `high` buffered bytes the protocol's `pauseWriting` is called; below `low`, `resumeWriting`. */
  setWriteBufferLimits(high?: number, low?: number): void;
}

export interface Transport extends ReadTransport, WriteTransport {}

export interface BaseProtocol {
  connectionMade(transport: BaseTransport): void;
  /** `error` is null on a regular close (EOF or close()). */
  connectionLost(error: Error | null): void;
  pauseWriting(): void;
  resumeWriting(): void;
}

/**
 * A stream protocol. asyncio's `BufferedProtocol` is not part of this contract: Node
 * hands each read over as a fresh Buffer already, so a protocol-supplied buffer would add
 * a copy instead of saving one.
 */
export interface Protocol extends BaseProtocol {
  dataReceived(data: Uint8Array): void;
  /** Return true to keep the transport half-open for writing; otherwise it closes. */
  eofReceived(): boolean | void;
}

export interface ConnectOptions {
  host?: string;
  port?: number;
  /** A Unix socket path instead of host/port. */
  path?: string;
  /** TLS: true, or options for the driver's TLS layer (Node: `tls.connect` options). */
  tls?: boolean | Record<string, unknown>;
  /** Server name for TLS SNI and certificate checks. */
  serverHostname?: string;
}

/** Options of `NetDriver.startTls`: the driver's TLS options plus which side this is. */
export interface StartTlsOptions {
  /** True on the accepting side (the TLS server); false or absent on the connecting side. */
  server?: boolean;
  /** Server name for TLS SNI and certificate checks (connecting side). */
  serverHostname?: string;
  /** Driver-specific TLS settings (Node: `tls.connect` / `TLSSocket` options: ca, key, cert, …). */
  [option: string]: unknown;
}

export interface ListenOptions {
  host?: string;
  port?: number;
  path?: string;
  backlog?: number;
  tls?: Record<string, unknown>;
  /** SO_REUSEPORT: listeners on the same port share its connections; a driver that cannot set it rejects. */
  reusePort?: boolean;
}

/** A listening socket, as a driver sees it. */
export interface ServerHandle {
  /** Node's AddressInfo for TCP, the path for Unix sockets. */
  address(): { address: string; family: string; port: number } | string | null;
  /** Stops accepting; existing connections go on. */
  close(): void;
  /** The transports of the connections this listener accepted that are still open. */
  readonly transports: ReadonlySet<Transport>;
}

/**
 * A poller's network: it opens transports for the streams layer. All callbacks into the
 * protocol happen inside the loop (the driver uses `callSoonThreadsafe` or equivalent),
 * never re-entrantly from inside a transport method.
 *
 * Failures reject the returned futures with errors that carry Node's `code`
 * (`ECONNREFUSED`, `ENOTFOUND`, `EADDRINUSE`, …) and the `address`/`port` (or `path`)
 * concerned, whatever the driver. Cancelling a pending future abandons the operation and
 * releases everything it opened.
 */
export interface NetDriver {
  /** Connects; the future resolves with the transport once `connectionMade` was called. */
  connect(loop: EventLoop, protocolFactory: () => Protocol, options: ConnectOptions): Future<Transport>;
  /** Listens; each accepted connection gets a new protocol from the factory. */
  listen(loop: EventLoop, protocolFactory: () => Protocol, options: ListenOptions): Future<ServerHandle>;
  /**
   * Upgrades an open transport to TLS (asyncio's `loop.start_tls`): the old transport
   * stops delivering to `protocol` and is replaced by the returned one, which carries the
   * same connection encrypted and delivers to `protocol` from then on.
   */
  startTls?(loop: EventLoop, transport: Transport, protocol: Protocol, options: StartTlsOptions): Future<Transport>;
}

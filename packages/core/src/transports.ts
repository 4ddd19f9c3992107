/**
 * asyncio's transports and protocols, as interfaces: the contract between the streams of
 * `@loop/net` and whatever carries the bytes (a poller's `NetDriver`: Node sockets, the
 * in-memory network of `@loop/testing`). Transports call protocol methods from loop
 * callbacks, never re-entrantly from inside a transport method.
 */

import type { Future } from "./future.js";
import type { EventLoop } from "./loop.js";

/** What every transport does (asyncio's `BaseTransport`). */
export interface BaseTransport {
  /** Closes after the buffered data is sent; the protocol's `connectionLost(null)` follows. */
  close(): void;
  /** True once `close()` or `abort()` was called or the connection was lost. */
  isClosing(): boolean;
  /** Transport details: "peername", "sockname", "socket", "sslcontext", "peercert", … */
  getExtraInfo<T = unknown>(name: string, fallback?: T): T | undefined;
  /** Hands the connection to another protocol (as `startTls` does). */
  setProtocol(protocol: BaseProtocol): void;
  /** The protocol the transport calls. */
  getProtocol(): BaseProtocol;
}

/** The read side of a transport (asyncio's `ReadTransport`). */
export interface ReadTransport extends BaseTransport {
  /** False while reading is paused. */
  isReading(): boolean;
  /** Stops calling `dataReceived` until `resumeReading` (flow control towards the peer). */
  pauseReading(): void;
  /** Calls `dataReceived` again after `pauseReading`. */
  resumeReading(): void;
}

/** The write side of a transport (asyncio's `WriteTransport`). */
export interface WriteTransport extends BaseTransport {
  /** Buffers the bytes and sends them as soon as possible; never blocks. */
  write(data: Uint8Array): void;
  /** Writes each buffer in turn, as `write` does. */
  writelines(list: Iterable<Uint8Array>): void;
  /** Closes the write side after the buffered data (a TCP half-close); reading goes on. */
  writeEof(): void;
  /** False where a half-close is impossible (TLS). */
  canWriteEof(): boolean;
  /** Closes at once, dropping buffered data. */
  abort(): void;
  /** Bytes buffered and not yet handed to the operating system. */
  getWriteBufferSize(): number;
  /** The water marks `setWriteBufferLimits` set. */
  getWriteBufferLimits(): { low: number; high: number };
  /** Past `high` buffered bytes the protocol's `pauseWriting` is called; below `low`, `resumeWriting`. */
  setWriteBufferLimits(high?: number, low?: number): void;
}

/** A bidirectional stream transport (asyncio's `Transport`). */
export interface Transport extends ReadTransport, WriteTransport {}

/** What a transport calls (asyncio's `BaseProtocol`); always from a loop callback. */
export interface BaseProtocol {
  /** The connection is up; keep `transport` to write to it. */
  connectionMade(transport: BaseTransport): void;
  /** `error` is null on a regular close (EOF or close()). */
  connectionLost(error: Error | null): void;
  /** The transport's buffer went over its high-water mark: stop writing (what `drain()` waits on). */
  pauseWriting(): void;
  /** The buffer went under its low-water mark: writing may go on. */
  resumeWriting(): void;
}

/**
 * A stream protocol. asyncio's `BufferedProtocol` is not part of this contract: Node
 * hands each read over as a fresh Buffer already, so a protocol-supplied buffer would add
 * a copy instead of saving one.
 */
export interface Protocol extends BaseProtocol {
  /** Bytes arrived. The buffer is the protocol's to keep. */
  dataReceived(data: Uint8Array): void;
  /** Return true to keep the transport half-open for writing; otherwise it closes. */
  eofReceived(): boolean | void;
}

/** Where `NetDriver.connect` connects. */
export interface ConnectOptions {
  /** The host name or address to connect to. */
  host?: string;
  /** The TCP port. */
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

/** What `NetDriver.listen` listens on. */
export interface ListenOptions {
  /** The address to listen on; absent: every interface. */
  host?: string;
  /** The TCP port; 0 picks a free one. */
  port?: number;
  /** A Unix socket path instead of host/port. */
  path?: string;
  /** The length of the queue of pending connections. */
  backlog?: number;
  /** TLS server options for the driver's TLS layer (Node: `tls.createServer` options). */
  tls?: Record<string, unknown>;
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

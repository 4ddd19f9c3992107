/**
 * asyncio's datagram transports and protocols, as interfaces: the contract between
 * `@loop/net`'s `createDatagramEndpoint`/`openDatagramSocket` and whatever carries the
 * datagrams (a `NetDriver`'s `datagram`: Node's `dgram` sockets, the in-memory network of
 * `@loop/testing`). Transports call protocol methods from loop callbacks only.
 */

/** A host and a port, as asyncio's `(host, port)` tuple. */
export type DatagramAddress = [host: string, port: number];

/**
 * What a datagram endpoint hears (asyncio.DatagramProtocol). Only `datagramReceived` is
 * required.
 */
export interface DatagramProtocol {
  /** The endpoint is ready: keep `transport` to send with (asyncio's `connection_made`). */
  connectionMade?(transport: DatagramTransport): void;
  /** One datagram, whole, from `addr`. */
  datagramReceived(data: Uint8Array, addr: DatagramAddress): void;
  /**
   * A send or receive failed without closing the endpoint: a datagram too large
   * (`EMSGSIZE`), an unreachable port reported to a connected endpoint (`ECONNREFUSED`), …
   */
  errorReceived?(error: Error): void;
  /** The endpoint is closed; `error` is null after `close()`/`abort()`. */
  connectionLost?(error: Error | null): void;
  /** The write buffer went over its high-water mark (see `DatagramTransport.setWriteBufferLimits`). */
  pauseWriting?(): void;
  /** The write buffer went back under its low-water mark. */
  resumeWriting?(): void;
}

/**
 * A datagram endpoint (asyncio's `DatagramTransport`, as `_SelectorDatagramTransport`
 * behaves). Invariant: once `isClosing()` is true it stays true, `sendto` throws, and
 * `connectionLost` follows exactly once.
 */
export interface DatagramTransport {
  /**
   * Sends one datagram; never blocks. On a connected endpoint (`remoteAddr`) `addr` must be
   * omitted or the peer's address. A send that fails goes to the protocol's `errorReceived`.
   * @throws Error when the transport is closing or closed; TypeError for bad data or address.
   */
  sendto(data: Uint8Array, addr?: DatagramAddress): void;
  /** Closes once what is buffered is sent; `connectionLost(null)` follows. */
  close(): void;
  /** Closes at once, dropping what is buffered. */
  abort(): void;
  /** True once `close()` or `abort()` was called or the endpoint failed (asyncio's `is_closing`). */
  isClosing(): boolean;
  /** "sockname" and "peername" (`[host, port]`), "socket" (the driver's socket object). */
  getExtraInfo<T = unknown>(name: string, fallback?: T): T | undefined;
  /** Bytes handed to `sendto` and not yet given to the operating system. */
  getWriteBufferSize(): number;
  /** The write buffer's low- and high-water marks, in bytes (asyncio's `get_write_buffer_limits`). */
  getWriteBufferLimits(): { low: number; high: number };
  /** Past `high` buffered bytes the protocol's `pauseWriting` is called; below `low`, `resumeWriting`. */
  setWriteBufferLimits(high?: number, low?: number): void;
  /** The protocol the transport reports to (asyncio's `get_protocol`). */
  getProtocol(): DatagramProtocol;
  /** Reports to `protocol` from now on (asyncio's `set_protocol`). */
  setProtocol(protocol: DatagramProtocol): void;
}

/** Options of `NetDriver.datagram` (and `@loop/net`'s `createDatagramEndpoint`), checked by the caller. */
export interface DatagramOptions {
  /** Bind to this address; port 0 picks a free one. Default: any address, a free port. */
  localAddr?: DatagramAddress;
  /** Connect to this peer: `sendto` needs no address, and only its datagrams arrive. */
  remoteAddr?: DatagramAddress;
  /** IPv4 or IPv6; by default from the addresses given (4 when they say nothing). */
  family?: 4 | 6;
  /** SO_REUSEPORT: several endpoints may bind the same address (where the host allows it). */
  reusePort?: boolean;
  /** SO_BROADCAST: allow sending to broadcast addresses. */
  allowBroadcast?: boolean;
}

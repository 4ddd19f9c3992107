import { getRunningLoop, type AbstractFuture, type Coroutine, type DatagramAddress, type DatagramProtocol, type DatagramTransport, type EventLoop, type Future } from "@loop/core";
import { checkDatagramOptions, type DatagramEndpointOptions } from "./datagram.js";
import { getNetDriver } from "./driver.js";

/** Options of `openDatagramSocket`: those of `createDatagramEndpoint`, plus `limit`. */
export interface DatagramSocketOptions extends DatagramEndpointOptions {
  /**
   * How many bytes of received datagrams may wait for `recv()`; past it, arriving datagrams
   * are dropped (and counted in `dropped`), as a full socket buffer drops them. 256 KiB by
   * default; one datagram is always accepted into an empty queue.
   */
  limit?: number;
}

const DEFAULT_LIMIT = 256 * 1024;

/** Node's `AddressInfo`. */
export interface DatagramAddressInfo {
  /** The IP address, e.g. `"127.0.0.1"` or `"::1"`. */
  address: string;
  /** `"IPv4"` or `"IPv6"`. */
  family: string;
  /** The UDP port number. */
  port: number;
}

/**
 * Opens a UDP socket to use from coroutines, the level asyncio never gave its users:
 * `yield* socket.recv()` waits for the next datagram, `yield* socket.send(data, addr)`
 * sends one and waits while the write buffer is over its high-water mark. Same options
 * as `createDatagramEndpoint`, plus `limit`.
 * @example
 * const socket = yield* openDatagramSocket({ localAddr: ["127.0.0.1", 0] });
 * for (;;) {
 *   const [data, addr] = yield* socket.recv();
 *   yield* socket.send(data, addr); // echo
 * }
 */
export function openDatagramSocket(opts?: DatagramSocketOptions): Coroutine<DatagramSocket> {
  const options = checkDatagramOptions("openDatagramSocket", opts);
  const limit: unknown = opts?.limit ?? DEFAULT_LIMIT;
  if (typeof limit !== "number") throw new TypeError(`openDatagramSocket({ limit }): limit must be a number of bytes, got ${typeof limit}`);
  if (!(limit > 0) || !Number.isFinite(limit)) {
    throw new RangeError(`openDatagramSocket({ limit }): limit must be a positive number of bytes, got ${String(limit)}`);
  }
  return (function* (): Coroutine<DatagramSocket> {
    const loop = getRunningLoop();
    const driver = getNetDriver(loop);
    if (typeof driver.datagram !== "function") throw new Error("openDatagramSocket: the loop's network driver carries no datagrams (its NetDriver has no datagram method)");
    const socket = new DatagramSocket(loop, limit);
    const pending: AbstractFuture<DatagramTransport> = driver.datagram(loop, () => socket._protocol, options);
    pending.label = "openDatagramSocket";
    socket._transport = yield* pending;
    return socket;
  })();
}

/** What a waiting `recv()` or `send()` is woken with: nothing; it looks at the socket again. */
type Waiter = Future<void>;

/**
 * A UDP socket for coroutines (see `openDatagramSocket`).
 *
 * Invariants: `_items[_head..]` are the datagrams and errors not yet taken by `recv()`, in
 * arrival order, and `_queuedBytes` counts the datagrams' bytes. A recv waiter in
 * `_receivers` is woken once per arrival; one that is cancelled after being woken passes
 * the wake-up on, so no datagram waits while a receiver does.
 */
export class DatagramSocket {
  /** Datagrams dropped because the receive queue was full. */
  dropped = 0;
  /** @internal */ _transport: DatagramTransport | null = null;
  /** @internal */ readonly _protocol: DatagramProtocol;
  private readonly _items: ([Uint8Array, DatagramAddress] | Error)[] = [];
  private _head = 0;
  private _queuedBytes = 0;
  private readonly _receivers: Waiter[] = [];
  private readonly _drainers: Waiter[] = [];
  private _writingPaused = false;
  private _closed = false;

  /**
   * How many bytes of received datagrams may wait for `recv()` before arriving ones are
   * dropped (the `limit` option of `openDatagramSocket`).
   */
  readonly limit: number;

  /** @internal Use `openDatagramSocket`. */
  constructor(
    private readonly _loop: EventLoop,
    limit: number,
  ) {
    this.limit = limit;
    this._protocol = {
      datagramReceived: (data, addr) => this._arrived([data, addr], data.byteLength),
      errorReceived: (error) => this._arrived(error, 0),
      connectionLost: () => this._lost(),
      pauseWriting: () => void (this._writingPaused = true),
      resumeWriting: () => {
        this._writingPaused = false;
        for (const waiter of this._drainers.splice(0)) if (!waiter.done()) waiter.setResult();
      },
    };
  }

  /** Bytes of datagrams waiting for `recv()`. */
  get queuedBytes(): number {
    return this._queuedBytes;
  }

  /** The transport under this socket (for `getExtraInfo`, write-buffer limits). */
  get transport(): DatagramTransport {
    return this._transport as DatagramTransport;
  }

  /**
   * The next datagram and who sent it. An error the endpoint reported (`errorReceived`:
   * ICMP port unreachable on a connected socket, a datagram too large to send) is thrown
   * by the `recv()` that reaches it, in order with the datagrams.
   * @throws Error once the socket is closed.
   */
  *recv(): Coroutine<[Uint8Array, DatagramAddress]> {
    for (;;) {
      if (this._closed) throw closedError("recv");
      if (this._head < this._items.length) return this._take();
      const waiter = this._loop.createFuture<void>();
      waiter.label = "DatagramSocket.recv";
      this._receivers.push(waiter);
      try {
        yield* waiter;
      } catch (error) {
        const at = this._receivers.indexOf(waiter);
        if (at !== -1) this._receivers.splice(at, 1);
        // Woken, then cancelled before taking: the datagram is for the next receiver.
        else if (waiter.done() && !waiter.cancelled()) this._wakeReceiver();
        throw error;
      }
    }
  }

  /**
   * Sends one datagram (to `addr`, or to the peer of a socket opened with `remoteAddr`),
   * then waits while the transport's write buffer is over its high-water mark.
   * @throws Error once the socket is closed, and when close() ends the wait (the datagram
   *   was handed to the transport already); TypeError for bad data or address.
   */
  *send(data: Uint8Array | string, addr?: DatagramAddress): Coroutine<void> {
    if (this._closed) throw closedError("send");
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    this.transport.sendto(bytes, addr);
    while (this._writingPaused) {
      const waiter = this._loop.createFuture<void>();
      waiter.label = "DatagramSocket.send: waiting for the write buffer to drain";
      this._drainers.push(waiter);
      try {
        yield* waiter;
      } finally {
        const at = this._drainers.indexOf(waiter);
        if (at !== -1) this._drainers.splice(at, 1);
      }
      // Woken by close(): the datagram went to the transport, but this socket is gone.
      if (this._closed) throw closedError("send");
    }
  }

  /** The local address: Node's `{ address, family, port }`. */
  address(): DatagramAddressInfo {
    const name = this.transport.getExtraInfo<DatagramAddress>("sockname");
    if (name === undefined) throw new Error("DatagramSocket.address(): the socket is closed");
    return { address: name[0], family: name[0].includes(":") ? "IPv6" : "IPv4", port: name[1] };
  }

  /** Closes the socket: waiting and later `recv()`/`send()` calls throw. */
  close(): void {
    if (this._closed) return;
    this.transport.close();
    this._lost();
  }

  private _arrived(item: [Uint8Array, DatagramAddress] | Error, size: number): void {
    if (this._closed) return;
    // Always accept into an empty queue: a datagram larger than the limit could otherwise never be received.
    if (size > 0 && this._head < this._items.length && this._queuedBytes + size > this.limit) {
      this.dropped++;
      return;
    }
    this._items.push(item);
    this._queuedBytes += size;
    this._wakeReceiver();
  }

  private _take(): [Uint8Array, DatagramAddress] {
    const item = this._items[this._head] as [Uint8Array, DatagramAddress] | Error;
    this._items[this._head++] = undefined as never;
    if (this._head === this._items.length) {
      this._items.length = 0;
      this._head = 0;
    }
    if (item instanceof Error) throw item;
    this._queuedBytes -= item[0].byteLength;
    return item;
  }

  private _wakeReceiver(): void {
    // A receiver cancelled since it queued has a done future; it is skipped.
    for (let waiter = this._receivers.shift(); waiter !== undefined; waiter = this._receivers.shift()) {
      if (!waiter.done()) {
        waiter.setResult();
        return;
      }
    }
  }

  private _lost(): void {
    // Twice (close(), then the transport's connectionLost) finds both lists empty.
    this._closed = true;
    for (const waiter of this._receivers.splice(0)) if (!waiter.done()) waiter.setResult();
    for (const waiter of this._drainers.splice(0)) if (!waiter.done()) waiter.setResult();
  }
}

const encoder = new TextEncoder();

function closedError(what: string): Error {
  return new Error(`DatagramSocket.${what}(): the socket is closed`);
}

import type { Coroutine, EventLoop, Future, ServerHandle, Transport } from "@loop/core";
import type { ConnectionTracker } from "./stream-protocol.js";

type AddressInfo = { address: string; family: string; port: number };

/**
 * A listening server (asyncio.Server, 3.13): made by `startServer`/`startUnixServer`,
 * serving from the start. `close()` stops accepting and leaves the connections alone;
 * `closeClients()`/`abortClients()` end those; `waitClosed()` waits until the server is
 * closed, every connection is gone and every client handler has returned.
 */
export class Server implements ConnectionTracker {
  private readonly _loop: EventLoop;
  private _handle: ServerHandle | null = null;
  private _closed = false;
  /** Open connections plus running handlers; waitClosed ends when it reaches 0 after close. */
  private _active = 0;
  private readonly _clients = new Set<Transport>();
  private _waiters: Future<void>[] | null = [];
  private _servingForever: Future<void> | null = null;
  private readonly _name: string;

  /** @internal Made by startServer. */
  constructor(loop: EventLoop, name: string) {
    this._loop = loop;
    this._name = name;
  }

  /** @internal */
  _setHandle(handle: ServerHandle): void {
    this._handle = handle;
  }

  // A Server reaches user code only once startServer/createServer gave it its handle:
  // `_handle` is set wherever a caller can look.

  /** Node's AddressInfo for TCP (`{ address, family, port }`), the path for a Unix server; null once closed. */
  address(): AddressInfo | string | null {
    if (this._closed) return null;
    return (this._handle as ServerHandle).address();
  }

  /** True while the server accepts connections (asyncio's `is_serving`). */
  isServing(): boolean {
    return !this._closed;
  }

  /** Stops listening; open connections go on (asyncio 3.13). */
  close(): void {
    if (this._closed) return;
    this._closed = true;
    (this._handle as ServerHandle).close();
    const forever = this._servingForever;
    if (forever !== null && !forever.done()) forever.cancel();
    if (this._active === 0) this._wakeup();
  }

  /** Closes every open connection (after its buffered bytes are sent). */
  closeClients(): void {
    for (const transport of [...this._clients]) transport.close();
  }

  /** Closes every open connection at once, dropping buffered bytes. */
  abortClients(): void {
    for (const transport of [...this._clients]) transport.abort();
  }

  /** Waits until the server is closed, its connections are closed and its handlers have returned. */
  waitClosed(): Coroutine<void> {
    return this._waitClosed();
  }

  /**
   * Serves until cancelled; cancelling it closes the server and waits for it to be
   * closed before the cancellation goes on.
   */
  serveForever(): Coroutine<void> {
    if (this._servingForever !== null) throw new Error(`Server.serveForever: the server is already being awaited on serveForever()`);
    if (this._closed) throw new Error("Server.serveForever: the server is closed");
    return this._serveForever();
  }

  private *_serveForever(): Coroutine<void> {
    const forever = this._loop.createFuture<void>();
    forever.label = `Server.serveForever on ${this._name}`;
    this._servingForever = forever;
    try {
      yield* forever;
    } catch (error) {
      try {
        this.close();
        yield* this._waitClosed();
      } finally {
        // eslint-disable-next-line no-unsafe-finally
        throw error;
      }
    } finally {
      this._servingForever = null;
    }
  }

  private *_waitClosed(): Coroutine<void> {
    const waiters = this._waiters;
    if (waiters === null) return;
    const waiter = this._loop.createFuture<void>();
    waiter.label = `Server.waitClosed on ${this._name}`;
    waiters.push(waiter);
    yield* waiter;
  }

  /** @internal */
  connectionOpened(transport: Transport): void {
    this._active++;
    this._clients.add(transport);
  }

  /** @internal */
  connectionClosed(transport: Transport): void {
    this._clients.delete(transport);
    this._release();
  }

  /** @internal After startTls on a connection. */
  transportReplaced(old: Transport, replacement: Transport): void {
    if (this._clients.delete(old)) this._clients.add(replacement);
  }

  /** @internal */
  handlerStarted(): void {
    this._active++;
  }

  /** @internal */
  handlerFinished(): void {
    this._release();
  }

  private _release(): void {
    this._active--;
    if (this._active === 0 && this._closed) this._wakeup();
  }

  private _wakeup(): void {
    const waiters = this._waiters;
    this._waiters = null;
    if (waiters === null) return;
    for (const waiter of waiters) if (!waiter.done()) waiter.setResult(undefined);
  }
}

/**
 * A network driver and transport under the test's hand: each `connect`/`listen` hands back
 * a future the test settles when it likes (in the same turn as a cancel, an abort, a
 * failure), and each transport logs what the stream layer asks of it. For the states real
 * sockets reach only by a race.
 */
import type { AbstractEventLoop, AbstractFuture, BaseProtocol, ConnectOptions, Future, ListenOptions, NetDriver, Protocol, ServerHandle, StartTlsOptions, Transport } from "@loop/core";

/** A transport that records writes and calls; `close()` reports the loss to its protocol a turn later, as real ones do. */
export class FakeTransport implements Transport {
  readonly written: Uint8Array[] = [];
  readonly log: string[] = [];
  private _closing = false;
  private _reading = true;
  private _protocol: BaseProtocol | null = null;

  constructor(
    private readonly _extra: Record<string, unknown> = {},
    private readonly _loop: AbstractEventLoop | null = null,
  ) {}

  write(data: Uint8Array): void {
    this.written.push(data);
  }
  writelines(list: Iterable<Uint8Array>): void {
    for (const data of list) this.write(data);
  }
  writeEof(): void {
    this.log.push("writeEof");
  }
  canWriteEof(): boolean {
    return true;
  }
  close(): void {
    this.log.push("close");
    this._lose();
  }
  abort(): void {
    this.log.push("abort");
    this._lose();
  }
  private _lose(): void {
    if (this._closing) return;
    this._closing = true;
    const protocol = this._protocol;
    if (protocol !== null && this._loop !== null) this._loop.callSoon(() => protocol.connectionLost(null));
  }
  isClosing(): boolean {
    return this._closing;
  }
  getExtraInfo<T = unknown>(name: string, fallback?: T): T | undefined {
    return name in this._extra ? (this._extra[name] as T) : fallback;
  }
  setProtocol(protocol: BaseProtocol): void {
    this._protocol = protocol;
  }
  getProtocol(): BaseProtocol {
    if (this._protocol === null) throw new Error("no protocol");
    return this._protocol;
  }
  isReading(): boolean {
    return this._reading;
  }
  pauseReading(): void {
    this._reading = false;
    this.log.push("pause");
  }
  resumeReading(): void {
    this._reading = true;
    this.log.push("resume");
  }
  getWriteBufferSize(): number {
    return 0;
  }
  getWriteBufferLimits(): { low: number; high: number } {
    return { low: 0, high: 0 };
  }
  setWriteBufferLimits(): void {}
}

export interface PendingConnect {
  future: Future<Transport>;
  options: ConnectOptions;
  factory: () => Protocol;
}

export interface PendingListen {
  future: Future<ServerHandle>;
  options: ListenOptions;
  factory: () => Protocol;
}

/** A handle whose `close()` is logged. */
export function fakeServerHandle(log: string[]): ServerHandle {
  return {
    address: () => ({ address: "127.0.0.1", family: "IPv4", port: 9 }),
    close: () => log.push("server close"),
    transports: new Set(),
  };
}

/** A driver that leaves every connect, listen and startTls pending until the test settles it. */
export class FakeNetDriver implements NetDriver {
  readonly connects: PendingConnect[] = [];
  readonly listens: PendingListen[] = [];
  readonly upgrades: { future: Future<Transport>; options: StartTlsOptions }[] = [];
  startTls?: NetDriver["startTls"];

  constructor(opts: { tls?: boolean } = {}) {
    if (opts.tls !== false) {
      this.startTls = (loop, _transport, _protocol, options) => {
        const future = (loop as unknown as { createFuture<T>(): Future<T> }).createFuture<Transport>();
        this.upgrades.push({ future, options });
        return future;
      };
    }
  }

  connect(loop: AbstractEventLoop, factory: () => Protocol, options: ConnectOptions): AbstractFuture<Transport> {
    const future = (loop as unknown as { createFuture<T>(): Future<T> }).createFuture<Transport>();
    this.connects.push({ future, options, factory });
    return future;
  }

  listen(loop: AbstractEventLoop, factory: () => Protocol, options: ListenOptions): AbstractFuture<ServerHandle> {
    const future = (loop as unknown as { createFuture<T>(): Future<T> }).createFuture<ServerHandle>();
    this.listens.push({ future, options, factory });
    return future;
  }

  /** Makes connect number `i`'s connection (its protocol hears `connectionMade`) and settles its future with it. */
  establish(i: number, loop: AbstractEventLoop, extra: Record<string, unknown> = {}): FakeTransport {
    const pending = this.connects[i];
    if (pending === undefined) throw new Error(`no connect #${i}`);
    const transport = new FakeTransport(extra, loop);
    const protocol = pending.factory();
    transport.setProtocol(protocol);
    protocol.connectionMade(transport);
    pending.future.setResult(transport);
    return transport;
  }
}

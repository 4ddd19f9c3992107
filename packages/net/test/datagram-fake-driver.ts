/**
 * A network driver whose datagram endpoints a test drives by hand, as a driver would: the
 * test calls the protocol's callbacks (`datagramReceived`, `pauseWriting`, …) itself, at
 * exactly the point of a turn it wants. For what `DatagramSocket` and
 * `createDatagramEndpoint` do with what a driver reports, without a real network's timing.
 */
import type { AbstractEventLoop, AbstractFuture, DatagramAddress, DatagramOptions, DatagramProtocol, DatagramTransport, NetDriver } from "@loop/core";

/** One `datagram()` call of the driver: open it (or not) when the test says. */
export interface FakeOpen {
  readonly future: AbstractFuture<DatagramTransport>;
  readonly options: DatagramOptions;
  /** Makes the protocol, calls its `connectionMade` and resolves the open; returns the transport. */
  open(): FakeDatagramTransport;
}

export class FakeDatagramNet implements NetDriver {
  /** Every `datagram()` call, in order. */
  readonly opens: FakeOpen[] = [];
  /** The transports opened so far. */
  readonly transports: FakeDatagramTransport[] = [];
  /** With `hold`, opens wait for the test's `open()`; else each opens at once. */
  constructor(private readonly _hold = false) {}

  connect(): never {
    throw new Error("FakeDatagramNet carries datagrams only");
  }

  listen(): never {
    throw new Error("FakeDatagramNet carries datagrams only");
  }

  datagram(loop: AbstractEventLoop, protocolFactory: () => DatagramProtocol, options: DatagramOptions): AbstractFuture<DatagramTransport> {
    const future = loop.createFuture<DatagramTransport>();
    const entry: FakeOpen = {
      future,
      options,
      open: () => {
        const transport = new FakeDatagramTransport(loop, protocolFactory());
        this.transports.push(transport);
        transport.getProtocol().connectionMade?.(transport);
        future.setResult(transport);
        return transport;
      },
    };
    this.opens.push(entry);
    if (!this._hold) entry.open();
    return future;
  }
}

/** A transport that records what is sent and loses its connection a turn after close(), as a driver does. */
export class FakeDatagramTransport implements DatagramTransport {
  readonly sent: [string, DatagramAddress | undefined][] = [];
  /** How many times close() or abort() was called. */
  closeCalls = 0;
  sockname: DatagramAddress = ["10.0.0.1", 5000];
  private _closing = false;

  constructor(
    private readonly _loop: AbstractEventLoop,
    private _protocol: DatagramProtocol,
  ) {}

  /** The socket's protocol, to report what the network did. */
  get protocol(): DatagramProtocol {
    return this._protocol;
  }

  sendto(data: Uint8Array, addr?: DatagramAddress): void {
    if (this._closing) throw new Error("DatagramTransport.sendto: the transport is closed");
    this.sent.push([new TextDecoder().decode(data), addr]);
  }

  close(): void {
    this.closeCalls++;
    if (this._closing) return;
    this._closing = true;
    this._loop.callSoon(() => this._protocol.connectionLost?.(null));
  }

  abort(): void {
    this.close();
  }

  isClosing(): boolean {
    return this._closing;
  }

  getExtraInfo<T = unknown>(name: string, fallback?: T): T | undefined {
    if (name === "sockname" && !this._closing) return this.sockname as T;
    return fallback;
  }

  getWriteBufferSize(): number {
    return 0;
  }

  getWriteBufferLimits(): { low: number; high: number } {
    return { low: 0, high: 0 };
  }

  setWriteBufferLimits(): void {}

  getProtocol(): DatagramProtocol {
    return this._protocol;
  }

  setProtocol(protocol: DatagramProtocol): void {
    this._protocol = protocol;
  }
}

import { Buffer } from "node:buffer";
import type { Coroutine, EventLoop, Protocol, StartTlsOptions, Transport } from "@loop/core";
import { getNetDriver } from "./driver.js";
import { describePeer } from "./peer.js";
import type { StreamReader } from "./stream-reader.js";

/**
 * What a `StreamWriter` needs of the protocol under it: flow control, the close to wait
 * for, and the swap of transports after `startTls`. `StreamReaderProtocol` is the one
 * that has it; the writer names only this, so that the protocol module (which makes
 * writers) and this one do not import each other.
 */
export interface WriterProtocol extends Protocol {
  /** @internal True when `_drainHelper` would throw or wait. */
  _mustWaitForDrain(): boolean;
  /** @internal asyncio's `_drain_helper`, called only when `_mustWaitForDrain()`: throws once the connection is lost, else waits until writing resumes. */
  _drainHelper(label: string): Coroutine<void>;
  /** @internal Waits until the connection is closed. */
  _waitClosed(label: string): Coroutine<void>;
  /** @internal True on a server's side of a connection. */
  _isServerSide(): boolean;
  /** @internal After startTls: the protocol now hears from the TLS transport. */
  _replaceTransport(transport: Transport): void;
}

/**
 * The writing end of a stream (asyncio.StreamWriter): `write` buffers at once and never
 * blocks; `yield* writer.drain()` waits while the transport's write buffer is above its
 * high-water mark, which is how a writer respects the peer's pace.
 * @example
 * writer.write("PING\r\n");
 * yield* writer.drain();
 */
export class StreamWriter {
  private _transport: Transport;
  private readonly _protocol: WriterProtocol;
  private readonly _reader: StreamReader | null;
  private readonly _loop: EventLoop;

  constructor(transport: Transport, protocol: WriterProtocol, reader: StreamReader | null, loop: EventLoop) {
    this._transport = transport;
    this._protocol = protocol;
    this._reader = reader;
    this._loop = loop;
  }

  /**
   * "StreamWriter.drain to 127.0.0.1:6379" (or another method's name), made only when a
   * wait needs it: not kept, as every idle connection would pay for it.
   */
  private _label(method: string): string {
    const peer = describePeer(this._transport);
    return peer === "" ? `StreamWriter.${method}` : `StreamWriter.${method} to ${peer}`;
  }

  /** The transport underneath (replaced by `startTls`). */
  get transport(): Transport {
    return this._transport;
  }

  /** Buffers bytes (a string is sent as UTF-8) for sending. */
  write(data: Uint8Array | string): void {
    if (typeof data === "string") this._transport.write(Buffer.from(data));
    else if (data instanceof Uint8Array) this._transport.write(data);
    else throw new TypeError(`StreamWriter.write(data): data must be a Uint8Array or a string, got ${typeof data}`);
  }

  /** Writes each item of `list` in order. */
  writelines(list: Iterable<Uint8Array | string>): void {
    if (list === null || typeof list !== "object" || typeof (list as Iterable<unknown>)[Symbol.iterator] !== "function") {
      throw new TypeError("StreamWriter.writelines(list): list must be an iterable of Uint8Array or string");
    }
    for (const item of list) this.write(item);
  }

  /** Closes the writing half after the buffered bytes are sent (TCP FIN). */
  writeEof(): void {
    this._transport.writeEof();
  }

  /** False where the transport cannot half-close (TLS). */
  canWriteEof(): boolean {
    return this._transport.canWriteEof();
  }

  /** Closes the stream after the buffered bytes are sent. */
  close(): void {
    this._transport.close();
  }

  /** True once the stream is closing or closed. */
  isClosing(): boolean {
    return this._transport.isClosing();
  }

  /**
   * Waits until the connection is closed; throws the connection's error if it was lost
   * to one (a reset).
   */
  waitClosed(): Coroutine<void> {
    return this._protocol._waitClosed(this._label("waitClosed"));
  }

  /** Transport details: "peername", "sockname", "socket", "sslcontext", "peercert", "cipher". */
  getExtraInfo<T = unknown>(name: string, fallback?: T): T | undefined {
    return this._transport.getExtraInfo<T>(name, fallback);
  }

  /**
   * Waits until it is fine to write again: at once unless the write buffer is above its
   * high-water mark. Throws the connection's error (a reset, a broken pipe) once the
   * connection is lost, so a loop of write + drain learns of it.
   */
  drain(): Coroutine<void> {
    return this._drain();
  }

  /**
   * Upgrades the connection to TLS (asyncio's `StreamWriter.start_tls`): the client side
   * by default, the server side on a server's connection. Options go to the driver
   * (Node: `tls.connect` / `TLSSocket` options such as `ca`, `key`, `cert`).
   */
  startTls(options: StartTlsOptions = {}): Coroutine<void> {
    if (options === null || typeof options !== "object") throw new TypeError("StreamWriter.startTls(options): options must be an object of TLS options");
    return this._startTls(options);
  }

  private *_drain(): Coroutine<void> {
    const reader = this._reader;
    if (reader !== null) {
      const error = reader.exception();
      if (error !== null) throw error;
    }
    // asyncio yields once here so that connection_lost, if the close is under way, runs
    // and the drain below reports it.
    if (this._transport.isClosing()) yield;
    const protocol = this._protocol;
    // The common case, not paused, costs no second generator.
    if (protocol._mustWaitForDrain()) yield* protocol._drainHelper(this._label("drain"));
  }

  private *_startTls(options: StartTlsOptions): Coroutine<void> {
    const driver = getNetDriver(this._loop);
    if (driver.startTls === undefined) throw new Error("StreamWriter.startTls: this poller's network driver cannot start TLS");
    const server = options.server ?? this._protocol._isServerSide();
    yield* this._drain();
    const upgrade = driver.startTls(this._loop, this._transport, this._protocol, { ...options, server });
    upgrade.label = "StreamWriter.startTls";
    const transport = yield* upgrade;
    this._transport = transport;
    this._protocol._replaceTransport(transport);
  }
}

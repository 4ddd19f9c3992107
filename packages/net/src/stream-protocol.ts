import type { BaseTransport, Coroutine, EventLoop, Future, Protocol, Transport } from "@loop/core";
import { ConnectionResetError } from "./errors.js";
import { describePeer } from "./peer.js";
import type { StreamReader } from "./stream-reader.js";
import { StreamWriter, type WriterProtocol } from "./stream-writer.js";

/**
 * What a server's protocols report to their `Server` (asyncio's `Server._attach` and
 * `_detach`, plus the handler tasks, which `Server.waitClosed` also waits for).
 */
export interface ConnectionTracker {
  // Internal: `Server` implements them with internal members, so the published types keep
  // an empty interface.
  /** @internal */
  connectionOpened(transport: Transport): void;
  /** @internal */
  connectionClosed(transport: Transport): void;
  /** @internal */
  handlerStarted(): void;
  /** @internal */
  handlerFinished(): void;
  /** @internal */
  transportReplaced(old: Transport, replacement: Transport): void;
}

// The bits of StreamReaderProtocol._flags.
const OVER_TLS = 1;
const CONNECTION_LOST = 2;
const PAUSED = 4;

/** What few connections of a StreamReaderProtocol need, kept apart: every field is paid by each idle one. */
interface ProtocolRare {
  lostError: Error | null;
  drainWaiters: Future<void>[] | null;
  closeWaiters: Future<void>[] | null;
}

/** The per-connection coroutine of `startServer`: it gets the connection's reader and writer. */
export type ClientConnected = (reader: StreamReader, writer: StreamWriter) => Coroutine<void>;


/**
 * The protocol between a transport and a `StreamReader`/`StreamWriter` pair: asyncio's
 * `StreamReaderProtocol` with its `FlowControlMixin`. On a server it also starts the
 * client handler task for each connection and reports the handler's failures.
 */
export class StreamReaderProtocol implements Protocol, WriterProtocol {
  /** @internal */ _transport: Transport | null = null;
  /** @internal */ _writer: StreamWriter | null = null;
  /** @internal */ readonly _clientConnected: ClientConnected | null;
  private _reader: StreamReader | null;
  private readonly _loop: EventLoop;
  private readonly _tracker: ConnectionTracker | null;
  // OVER_TLS, CONNECTION_LOST and PAUSED (FlowControlMixin: set while the transport's
  // write buffer is above its high-water mark; drain() waiters queue until it falls
  // below the low one), in one field: every field is paid by each idle connection.
  private _flags = 0;
  /** The error the connection was lost to and the waiters of drain() and waitClosed(): made on first use. */
  private _rare: ProtocolRare | null = null;

  /**
   * `reader` is null for a stream that is only written to (a child process's stdin), as
   * asyncio's subprocess protocol gives its stdin writer no reader.
   */
  constructor(reader: StreamReader | null, clientConnected: ClientConnected | null, loop: EventLoop, tracker: ConnectionTracker | null = null) {
    this._reader = reader;
    this._clientConnected = clientConnected;
    this._loop = loop;
    this._tracker = tracker;
  }

  /** @internal */
  private get _overTls(): boolean {
    return (this._flags & OVER_TLS) !== 0;
  }
  /** @internal */
  private set _overTls(on: boolean) {
    this._flags = on ? this._flags | OVER_TLS : this._flags & ~OVER_TLS;
  }
  /** @internal */
  private get _connectionLost(): boolean {
    return (this._flags & CONNECTION_LOST) !== 0;
  }
  /** @internal */
  private get _paused(): boolean {
    return (this._flags & PAUSED) !== 0;
  }
  /** @internal */
  private set _paused(on: boolean) {
    this._flags = on ? this._flags | PAUSED : this._flags & ~PAUSED;
  }

  /** @internal */
  private get _lostError(): Error | null {
    return this._rare === null ? null : this._rare.lostError;
  }
  /** @internal */
  private get _drainWaiters(): Future<void>[] | null {
    return this._rare === null ? null : this._rare.drainWaiters;
  }
  /** @internal */
  private get _closeWaiters(): Future<void>[] | null {
    return this._rare === null ? null : this._rare.closeWaiters;
  }
  private _ensureRare(): ProtocolRare {
    return (this._rare ??= { lostError: null, drainWaiters: null, closeWaiters: null });
  }

  /** The transport is connected: the stream pair can read and write. */
  connectionMade(transport: BaseTransport): void {
    const stream = transport as Transport;
    this._transport = stream;
    const reader = this._reader;
    if (reader !== null) {
      reader.setTransport(stream);
      reader.source = describePeer(stream);
    }
    this._overTls = stream.getExtraInfo("sslcontext") !== undefined;
    const onClient = this._clientConnected;
    if (onClient === null || reader === null) return;
    const tracker = this._tracker;
    tracker?.connectionOpened(stream);
    tracker?.handlerStarted();
    const writer = new StreamWriter(stream, this, reader, this._loop);
    this._writer = writer;
    const coro = onClient(reader, writer);
    const task = this._loop.createTask(coro, { name: `client ${reader.source || "connection"}` });
    // A bound method rather than a closure over this call's variables: it is held for the
    // whole life of the connection, and a bound function is the smaller of the two.
    task.addDoneCallback(this._handlerDone.bind(this));
  }

  /**
   * asyncio's _on_client_connected callback: a failing handler is reported and its
   * connection closed; the server goes on serving the others.
   */
  private _handlerDone(done: Future<void>): void {
    const writer = this._writer as StreamWriter;
    if (!done.cancelled()) {
      const error = done.exception();
      if (error !== null) {
        this._loop.callExceptionHandler({ message: "Unhandled exception in client_connected_cb", exception: error, transport: writer.transport });
      }
    }
    // No garbage-collected StreamWriter.__del__ here to close a forgotten connection:
    // the handler returning is the end of the connection.
    writer.close();
    this._tracker?.handlerFinished();
  }

  /** The connection is gone: the reader sees end of stream (or `error`), waiting writers wake. */
  connectionLost(error: Error | null): void {
    // Once only (the protocol contract): the flag and the error are never cleared.
    this._flags |= CONNECTION_LOST;
    if (error !== null) this._ensureRare().lostError = error;
    const reader = this._reader;
    if (reader !== null) {
      if (error === null) reader.feedEof();
      else reader.setException(error);
    }
    // Woken once: no waitClosed() waits after the loss, so the list is left as it is.
    const closeWaiters = this._closeWaiters;
    if (closeWaiters !== null) {
      for (const waiter of closeWaiters) {
        if (waiter.done()) continue;
        if (error === null) waiter.setResult(undefined);
        else waiter.setException(error);
      }
    }
    this._wakeDrainWaiters(error);
    if (this._tracker !== null && this._transport !== null) this._tracker.connectionClosed(this._transport);
    this._reader = null;
  }

  /** Feeds the bytes to the reader. */
  dataReceived(data: Uint8Array): void {
    this._reader?.feedData(data);
  }

  /** The peer closed its side: the reader sees end of stream. */
  eofReceived(): boolean {
    this._reader?.feedEof();
    // TLS cannot stay half-open (asyncio returns False over SSL), plain sockets can.
    return !this._overTls;
  }

  /** The transport buffer is full: `drain()` waits from now on. */
  pauseWriting(): void {
    this._paused = true;
  }

  /** The transport buffer drained: waiting `drain()`s return. */
  resumeWriting(): void {
    this._paused = false;
    this._wakeDrainWaiters(null);
  }

  /** @internal True on a server's side of a connection (a handler was given). */
  _isServerSide(): boolean {
    return this._clientConnected !== null;
  }

  /** @internal After startTls: the protocol now hears from the TLS transport. */
  _replaceTransport(transport: Transport): void {
    // A writer exists only once the connection was made, so there is a transport to replace.
    this._tracker?.transportReplaced(this._transport as Transport, transport);
    this._transport = transport;
    this._overTls = transport.getExtraInfo("sslcontext") !== undefined;
    this._reader?.setTransport(transport);
  }

  /** @internal True when `_drainHelper` would throw or wait. */
  _mustWaitForDrain(): boolean {
    return this._paused || this._connectionLost;
  }

  /** @internal asyncio's `_drain_helper`, called only when `_mustWaitForDrain()`: throws once the connection is lost, else waits. */
  *_drainHelper(label: string): Coroutine<void> {
    if (this._connectionLost) throw this._lostError ?? new ConnectionResetError("Connection lost");
    const waiter = this._loop.createFuture<void>();
    waiter.label = label;
    (this._ensureRare().drainWaiters ??= []).push(waiter);
    try {
      yield* waiter;
    } finally {
      // A drain given up (cancelled) leaves the list; a woken one finds it gone.
      const waiters = this._drainWaiters;
      if (waiters !== null) {
        const at = waiters.indexOf(waiter);
        if (at !== -1) waiters.splice(at, 1);
      }
    }
  }

  /** @internal What `StreamWriter.waitClosed` waits on. */
  *_waitClosed(label: string): Coroutine<void> {
    if (this._connectionLost) {
      if (this._lostError !== null) throw this._lostError;
      return;
    }
    const waiter = this._loop.createFuture<void>();
    waiter.label = label;
    (this._ensureRare().closeWaiters ??= []).push(waiter);
    yield* waiter;
  }

  private _wakeDrainWaiters(error: Error | null): void {
    const rare = this._rare;
    const waiters = rare === null ? null : rare.drainWaiters;
    if (waiters === null) return;
    (rare as ProtocolRare).drainWaiters = null;
    for (const waiter of waiters) {
      if (waiter.done()) continue;
      if (error === null) waiter.setResult(undefined);
      else waiter.setException(error);
    }
  }
}

import type { Buffer } from "node:buffer";
import type { BaseProtocol, EventLoop, Protocol, ReadTransport, WriteTransport } from "@loop/core";
import { systemError } from "./errors.js";
import { BACKLOG, CTL_FLUSHES, DATA, DRAINED, EOF, ERROR } from "./native.js";
import type { Reactor } from "./reactor.js";
import type { SelectorPoller } from "./selector-poller.js";
import { writeBufferLimits } from "./transport.js";

/** asyncio's default write-buffer limits (64 KiB high, a quarter low), as @loop/process's Node pipes. */
const DEFAULT_HIGH_WATER = 64 * 1024;

/** What `getExtraInfo("pipe")` gives: the parent's end of the pipe (asyncio gives the pipe's file object). */
export interface SelectorPipe {
  /** The descriptor; -1 once closed. */
  fileno(): number;
}

/**
 * The parent's end of a child's stdout or stderr on the selector (asyncio's
 * `_UnixReadPipeTransport`): a non-blocking pipe read by the addon into its slab, like a
 * socket. At the end of the pipe the protocol hears `eofReceived`, then `connectionLost`
 * once the descriptor is closed, as with `@loop/process`'s Node pipes.
 *
 * Invariants: `_fd >= 0` exactly while the descriptor is open and this transport owns it in
 * the reactor's table; the transport holds one `refExternal` on its loop from creation until
 * `connectionLost`, since the pipe may bring more bytes until then.
 */
export class SelectorReadPipe implements ReadTransport {
  /** The poller whose selector watches this pipe. */
  readonly owner: SelectorPoller;
  private _fd: number;
  private readonly _reactor: Reactor;
  private readonly _loop: EventLoop;
  private _protocol: Protocol;
  private _paused = false;
  private _closing = false;
  private _held: Buffer[] | null = null;
  private _heldEof = false;
  private _pipe: SelectorPipe | null = null;

  constructor(poller: SelectorPoller, reactor: Reactor, loop: EventLoop, fd: number, protocol: Protocol) {
    this.owner = poller;
    this._reactor = reactor;
    this._loop = loop;
    this._fd = fd;
    this._protocol = protocol;
    reactor.targets[fd] = this;
    loop.refExternal();
    // Before spawn's future resolves: the code that awaited the spawn finds its streams ready.
    protocol.connectionMade(this);
    if (!this._paused && !this._closing) reactor.native.reading(fd, true);
  }

  /** @internal One record of this pipe, in a loop callback. */
  handleEvent(kind: number, a: number, b: number, data: Buffer | null): void {
    // Closing closes the descriptor at once: nothing reaches the protocol after close().
    // Stryker disable next-line EqualityOperator: Node keeps descriptors 0-2 open, so a pipe end of ours is never 0
    if (this._fd < 0) return;
    try {
      switch (kind) {
        case DATA:
          if (this._paused) (this._held ??= []).push(data as Buffer);
          else this._protocol.dataReceived(data as Buffer);
          break;
        case EOF:
          // The addon stopped reading at the end; the pipe closes once the protocol hears it.
          if (this._paused) this._heldEof = true;
          else this._end();
          break;
        case ERROR:
          this._closeWith(systemError(a, "read"));
          break;
      }
    } catch (error) {
      this._fatalError(error);
    }
  }

  /** @internal The poller closes: the descriptor goes without a word to the protocol. */
  discard(): void {
    this._closeFd();
  }

  close(): void {
    this._closeWith(null);
  }

  isClosing(): boolean {
    return this._closing;
  }

  getExtraInfo<T = unknown>(name: string, fallback?: T): T | undefined {
    if (name !== "pipe") return fallback;
    // Stryker disable next-line EqualityOperator: Node keeps descriptors 0-2 open, so a pipe end of ours is never 0
    if (this._fd < 0) return fallback;
    this._pipe ??= { fileno: () => this._fd };
    return this._pipe as T;
  }

  setProtocol(protocol: BaseProtocol): void {
    this._protocol = protocol as Protocol;
  }

  getProtocol(): BaseProtocol {
    return this._protocol;
  }

  isReading(): boolean {
    return !this._paused && !this._closing;
  }

  pauseReading(): void {
    // Stryker disable next-line ConditionalExpression,LogicalOperator: pausing again changes nothing (isReading() is false already, the addon's reading is off or its descriptor gone)
    if (this._closing || this._paused) return;
    this._paused = true;
    // Stryker disable next-line EqualityOperator: Node keeps descriptors 0-2 open, so a pipe end of ours is never 0
    if (this._fd >= 0) this._reactor.native.reading(this._fd, false);
  }

  resumeReading(): void {
    // Stryker disable next-line ConditionalExpression,LogicalOperator: a reading pipe reads already, and a closed one has nothing held and no descriptor
    if (this._closing || !this._paused) return;
    this._paused = false;
    // What arrived between the pause and the addon hearing of it goes first, from a loop
    // callback as always (never from inside resumeReading).
    if (this._held !== null || this._heldEof) this._loop.callSoon(() => this._deliverHeld());
    else if (this._fd >= 0) this._reactor.native.reading(this._fd, true);
  }

  private _deliverHeld(): void {
    // Closed meanwhile: the held data went with the descriptor, and the check below returns.
    const held = this._held;
    this._held = null;
    try {
      if (held !== null) {
        for (let i = 0; i < held.length; i++) {
          if (this._paused || this._closing) {
            (this._held ??= []).push(...held.slice(i));
            return;
          }
          this._protocol.dataReceived(held[i] as Buffer);
        }
      }
      if (this._paused || this._closing) return;
      if (this._heldEof) {
        // Stryker disable next-line BooleanLiteral: _end() closes the pipe right after, and a closing pipe delivers nothing more
        this._heldEof = false;
        this._end();
      } else if (this._fd >= 0) {
        this._reactor.native.reading(this._fd, true);
      }
    } catch (error) {
      this._fatalError(error);
    }
  }

  /** A pipe has no half-open state: its end closes it (asyncio's `_UnixReadPipeTransport._read_ready`). */
  private _end(): void {
    this._protocol.eofReceived();
    this.close();
  }

  private _fatalError(error: unknown): void {
    this._loop.callExceptionHandler({ message: "Fatal error: protocol.dataReceived() call failed.", exception: error, transport: this, protocol: this._protocol });
    this._closeWith(error instanceof Error ? error : new Error(String(error)));
  }

  /** The descriptor goes now, `connectionLost` in a loop callback. */
  private _closeWith(error: Error | null): void {
    this._closing = true;
    // Stryker disable next-line EqualityOperator: Node keeps descriptors 0-2 open, so a pipe end of ours is never 0
    if (this._fd < 0) return;
    this._closeFd();
    this._loop.callSoon(() => this._lose(error));
  }

  private _closeFd(): void {
    const fd = this._fd;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: only discard() after a close gets here with -1, which the addon's close ignores; Node keeps descriptors 0-2 open, so a pipe end of ours is never 0
    if (fd < 0) return;
    this._fd = -1;
    this._held = null;
    if (this._reactor.targets[fd] === this) this._reactor.targets[fd] = undefined;
    // Stryker disable next-line BooleanLiteral: reset (SO_LINGER 0) means something only to a socket, not to a pipe
    this._reactor.native.close(fd, false);
  }

  /** Once: only the `_closeWith` that closed the descriptor schedules it. */
  private _lose(error: Error | null): void {
    this._loop.unrefExternal();
    this._protocol.connectionLost(error);
  }
}

/**
 * The parent's end of a child's stdin on the selector (asyncio's `_UnixWritePipeTransport`).
 * `write` never blocks: the bytes are staged for the addon, which writes them after the
 * loop's batch and keeps what a full pipe refuses. Past the high-water mark the protocol's
 * `pauseWriting` is called, and `resumeWriting` once the buffer is down to the low one.
 * `close` (and `writeEof`: a pipe has no half-close) closes the descriptor once the buffer
 * is written; a child that closed its end makes the next write fail with EPIPE, given to
 * `connectionLost`.
 *
 * Invariants: as `SelectorReadPipe`'s.
 */
export class SelectorWritePipe implements WriteTransport {
  /** The poller whose selector writes this pipe. */
  readonly owner: SelectorPoller;
  private _fd: number;
  private readonly _reactor: Reactor;
  private readonly _loop: EventLoop;
  private _protocol: BaseProtocol;
  private _closing = false;
  private _closeWhenDrained = false;
  private _high = DEFAULT_HIGH_WATER;
  private _low = DEFAULT_HIGH_WATER / 4;
  private _protocolPaused = false;
  /** Bytes written since the addon's last flush (`_flushes` names it), not yet sent. */
  private _staged = 0;
  // Stryker disable next-line UnaryOperator: any count the addon has not reached does; and before a first write nothing is staged to forget
  private _flushes = -1;
  /** What a full pipe left buffered at the last flush (the addon's EV_BACKLOG). */
  private _backlog = 0;
  private _pipe: SelectorPipe | null = null;

  constructor(poller: SelectorPoller, reactor: Reactor, loop: EventLoop, fd: number, protocol: BaseProtocol) {
    this.owner = poller;
    this._reactor = reactor;
    this._loop = loop;
    this._fd = fd;
    this._protocol = protocol;
    reactor.targets[fd] = this;
    loop.refExternal();
    protocol.connectionMade(this);
  }

  /** @internal One record of this pipe, in a loop callback. */
  handleEvent(kind: number, a: number): void {
    // Stryker disable next-line EqualityOperator: Node keeps descriptors 0-2 open, so a pipe end of ours is never 0
    if (this._fd < 0) return;
    switch (kind) {
      case ERROR:
        this._closeWith(systemError(a, "write"));
        break;
      case DRAINED:
        if (this._closeWhenDrained) this._closeWith(null);
        else this._maybeResume(a);
        break;
      case BACKLOG:
        this._backlog = a;
        break;
    }
  }

  /** @internal The poller closes: the descriptor goes without a word to the protocol. */
  discard(): void {
    this._closeFd();
  }

  write(data: Uint8Array): void {
    const length = data.byteLength;
    if (this._closing || length === 0) return;
    // After the poller's discard(): no descriptor, and no protocol to pause either.
    // Stryker disable next-line EqualityOperator: Node keeps descriptors 0-2 open, so a pipe end of ours is never 0
    if (this._fd < 0) return;
    const reactor = this._reactor;
    let buffered: number;
    if (reactor.stage(this._fd, data)) {
      // The staged count restarts with every flush; the backlog is as of the last one.
      const flushes = reactor.ctl[CTL_FLUSHES] as number;
      if (flushes !== this._flushes) {
        this._flushes = flushes;
        this._staged = 0;
      }
      this._staged += length;
      buffered = this._staged + this._backlog;
    } else {
      buffered = reactor.native.write(this._fd, data);
    }
    if (!this._protocolPaused && buffered > this._high) this._pause();
  }

  writelines(list: Iterable<Uint8Array>): void {
    for (const data of list) this.write(data);
  }

  /** A pipe has no half-close: the end of the input closes it, once the buffer is written. */
  writeEof(): void {
    this.close();
  }

  canWriteEof(): boolean {
    return true;
  }

  abort(): void {
    this._closeWith(null);
  }

  close(): void {
    // Stryker disable next-line ConditionalExpression: a second close() repeats the first's notify(fd, 0), or finds the descriptor gone
    if (this._closing) return;
    this._closing = true;
    // Closed already (aborted, or the poller closed): nothing buffered, and _closeWith does nothing.
    if (this.getWriteBufferSize() === 0) this._closeWith(null);
    else {
      this._closeWhenDrained = true;
      this._reactor.native.notify(this._fd, 0);
    }
  }

  isClosing(): boolean {
    return this._closing;
  }

  getWriteBufferSize(): number {
    // Stryker disable next-line ConditionalExpression,EqualityOperator: the addon answers 0 for -1, a descriptor it does not know; Node keeps descriptors 0-2 open, so a pipe end of ours is never 0
    return this._fd < 0 ? 0 : this._reactor.native.buffered(this._fd);
  }

  getWriteBufferLimits(): { low: number; high: number } {
    return { low: this._low, high: this._high };
  }

  setWriteBufferLimits(high?: number, low?: number): void {
    const [h, l] = writeBufferLimits(high, low);
    this._high = h;
    this._low = l;
    const size = this.getWriteBufferSize();
    if (!this._protocolPaused && size > h) this._pause();
    else this._maybeResume(size);
  }

  getExtraInfo<T = unknown>(name: string, fallback?: T): T | undefined {
    if (name !== "pipe") return fallback;
    // Stryker disable next-line EqualityOperator: Node keeps descriptors 0-2 open, so a pipe end of ours is never 0
    if (this._fd < 0) return fallback;
    this._pipe ??= { fileno: () => this._fd };
    return this._pipe as T;
  }

  setProtocol(protocol: BaseProtocol): void {
    this._protocol = protocol;
  }

  getProtocol(): BaseProtocol {
    return this._protocol;
  }

  private _pause(): void {
    this._protocolPaused = true;
    try {
      this._protocol.pauseWriting();
    } catch (error) {
      this._loop.callExceptionHandler({ message: "protocol.pauseWriting() failed", exception: error, transport: this });
    }
    // Stryker disable next-line ConditionalExpression,EqualityOperator: only a pauseWriting() that closed the pipe leaves -1 here, which the addon's notify ignores; Node keeps descriptors 0-2 open, so a pipe end of ours is never 0
    if (this._fd >= 0) this._reactor.native.notify(this._fd, this._low);
  }

  private _maybeResume(size: number): void {
    if (!this._protocolPaused) return;
    if (size > this._low) {
      if (this._fd >= 0) this._reactor.native.notify(this._fd, this._low);
      return;
    }
    this._protocolPaused = false;
    try {
      this._protocol.resumeWriting();
    } catch (error) {
      this._loop.callExceptionHandler({ message: "protocol.resumeWriting() failed", exception: error, transport: this });
    }
  }

  private _closeWith(error: Error | null): void {
    this._closing = true;
    // Stryker disable next-line EqualityOperator: Node keeps descriptors 0-2 open, so a pipe end of ours is never 0
    if (this._fd < 0) return;
    this._closeFd();
    this._loop.callSoon(() => this._lose(error));
  }

  private _closeFd(): void {
    const fd = this._fd;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: only discard() after a close gets here with -1, which the addon's close ignores; Node keeps descriptors 0-2 open, so a pipe end of ours is never 0
    if (fd < 0) return;
    this._fd = -1;
    if (this._reactor.targets[fd] === this) this._reactor.targets[fd] = undefined;
    // Stryker disable next-line BooleanLiteral: reset (SO_LINGER 0) means something only to a socket, not to a pipe
    this._reactor.native.close(fd, false);
  }

  /** Once: only the `_closeWith` that closed the descriptor schedules it. */
  private _lose(error: Error | null): void {
    this._loop.unrefExternal();
    this._protocol.connectionLost(error);
  }
}

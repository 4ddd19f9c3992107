import type { Buffer } from "node:buffer";
import { DefaultPoller, type AbstractEventLoop, type LoopDriver, type NetDriver, type Poller, type ProcessDriver } from "@loop/core";
import { checkFd } from "./check.js";
import { systemError } from "./errors.js";
import { ACCEPT, READABLE, nativeLoadError, type SelectorBackend } from "./native.js";
import { getReactor, type FdTarget, type Reactor } from "./reactor.js";
import { SelectorNetDriver } from "./net-driver.js";
import { SelectorProcessDriver, spawnUnsupportedReason } from "./processes.js";

/** The fd-watching capability of a poller (asyncio's add_reader family). */
export interface FdWatching {
  /** asyncio's `loop.add_reader`: calls `callback(...args)` whenever `fd` is readable. */
  addReader<A extends unknown[]>(fd: number, callback: (...args: A) => unknown, ...args: A): void;
  /** asyncio's `loop.remove_reader`: true if a reader was registered. */
  removeReader(fd: number): boolean;
  /** asyncio's `loop.add_writer`: calls `callback(...args)` whenever `fd` is writable. */
  addWriter<A extends unknown[]>(fd: number, callback: (...args: A) => unknown, ...args: A): void;
  /** asyncio's `loop.remove_writer`: true if a writer was registered. */
  removeWriter(fd: number): boolean;
}

let warned = false;

/** The system call that refuses a descriptor on each backend, for the error's `syscall`. */
const WATCH_CALL: Record<SelectorBackend, string> = { epoll: "epoll_ctl", kqueue: "kevent", uv_poll: "uv_poll_init" };

/**
 * asyncio's selector event loop for Node: a `Poller` whose waits, wake-ups and I/O go
 * through a native readiness set nested in Node's own libuv loop (epoll on Linux; see the
 * README for kqueue and the per-descriptor `uv_poll` backend). Node's
 * timers, `fetch`, worker messages and other I/O keep running beside it. Its `net` driver
 * carries `@loop/net`'s TCP and Unix streams on raw non-blocking sockets (TLS stays on
 * Node's driver), and `addReader`/`addWriter` watch any file descriptor.
 *
 * Where the addon could not be built or loaded, the poller says so once (a process
 * warning naming the reason) and behaves as `DefaultPoller` with Node's socket driver.
 *
 * The environment variable `LOOP_SELECTOR_BACKEND` (`epoll`, `kqueue` or `uv_poll`) picks
 * the readiness backend when the first `SelectorPoller` of a thread is made; the
 * constructor throws a `RangeError` when it names none this platform has.
 *
 * Invariants: `_deadline` is the end of the current timed wait (Infinity for none);
 * `_wakeRequested` means a batch must resume the loop whatever the time; both are reset
 * when the loop is resumed. The loop is only resumed from a native batch, never from
 * inside `wait()` or `wakeup()`.
 * @example
 * import { run } from "@loop/core";
 * import { SelectorPoller } from "@loop/selector";
 * await run(main, { poller: new SelectorPoller() });
 */
// Not `implements ReactorClient`: its members are @internal, trimmed from the published
// dist/selector.d.ts, where the clause would no longer type-check; `reactor.add(this)` checks it.
export class SelectorPoller implements Poller {
  /** `"selector"`, or `"selector(fallback: default)"` when the addon is not available. */
  readonly name: string;
  /** Null when the addon is available; else the poller everything is forwarded to. */
  private readonly _fallback: DefaultPoller | null;
  /** @internal The thread's native selector; null where the addon is not available. */
  readonly _reactor: Reactor | null;
  private readonly _net: SelectorNetDriver | null;
  private _driver: LoopDriver | null = null;
  private _closed = false;
  /** @internal The end of the current timed wait (read by the reactor). */
  _deadline = Infinity;
  /** @internal A batch must resume the loop whatever the time (read by the reactor). */
  _wakeRequested = false;
  /** Records queued for the loop: parallel arrays, swapped with spares while delivering. */
  /**
   * The records queued for the next dispatch, `_queued` of them: `[target, data]` pairs in
   * `_objects`, `[kind, a, b]` triples in `_numbers`. The arrays keep their length from
   * batch to batch (emptied slots are nulled): truncating them would make every batch grow
   * them again. Two sets, swapped at each dispatch.
   */
  // Stryker disable next-line ArrayDeclaration: _queue writes a slot before _dispatch or close reads it
  private _objects: (FdTarget | Buffer | null)[] = [];
  // Stryker disable next-line ArrayDeclaration: _queue writes a slot before _dispatch or close reads it
  private _numbers: number[] = [];
  private _queued = 0;
  // Stryker disable next-line ArrayDeclaration: _queue writes a slot before _dispatch or close reads it
  private _spareObjects: (FdTarget | Buffer | null)[] = [];
  // Stryker disable next-line ArrayDeclaration: _queue writes a slot before _dispatch or close reads it
  private _spareNumbers: number[] = [];
  private _dispatchQueued = false;
  private readonly _watchers = new Map<number, Watcher>();
  /** Made on first use; null where the system cannot spawn natively. */
  private _processes: SelectorProcessDriver | null | undefined;

  constructor() {
    const reactor = getReactor();
    if (reactor === null) {
      if (!warned) {
        warned = true;
        // Stryker disable next-line OptionalChaining,StringLiteral: native.ts sets nativeLoadError whenever the addon is null, the only way here
        const reason = nativeLoadError?.message ?? "unknown reason";
        process.emitWarning(`the native selector is not available (${reason}); SelectorPoller uses Node's timers and socket driver instead`, {
          code: "LOOP_SELECTOR_FALLBACK",
        });
      }
      this._fallback = new DefaultPoller();
      this._reactor = null;
      this._net = null;
      this.name = "selector(fallback: default)";
      return;
    }
    this._fallback = null;
    this._reactor = reactor;
    this._net = new SelectorNetDriver(this, reactor);
    this.name = "selector";
  }

  /** True when the native selector runs this poller; false when it fell back to DefaultPoller. */
  get native(): boolean {
    return this._fallback === null;
  }

  /**
   * How the native selector learns readiness in this thread: `"epoll"` (Linux's default),
   * `"kqueue"` (macOS and BSD's) or `"uv_poll"` (a libuv `uv_poll_t` per descriptor, chosen
   * with `LOOP_SELECTOR_BACKEND=uv_poll`); null on the fallback.
   */
  get backend(): SelectorBackend | null {
    return this._reactor?.backend ?? null;
  }

  /**
   * The network driver `@loop/net` picks up by itself: `SelectorNetDriver`, or undefined
   * on the fallback (then `@loop/net` uses Node's driver).
   */
  get net(): NetDriver | undefined {
    return this._net ?? undefined;
  }

  /**
   * The child-process driver `@loop/process` picks up by itself: `posix_spawn` from the
   * addon, pipes and exits watched by this selector (see the README). Undefined where the
   * system lacks what it needs (not Linux 5.4+, a C library without
   * `posix_spawn_file_actions_addchdir_np`) and on the fallback: `@loop/process` then uses
   * `node:child_process`.
   */
  get processes(): ProcessDriver | undefined {
    if (this._processes === undefined) {
      const reactor = this._reactor;
      this._processes = reactor !== null && spawnUnsupportedReason(reactor.native) === null ? new SelectorProcessDriver(this, reactor) : null;
    }
    return this._processes ?? undefined;
  }

  /**
   * asyncio's fd callbacks as a poller capability, for an `EventLoop.addReader` that
   * delegates to `poller.fds` (absent on the fallback, which cannot watch descriptors).
   */
  get fds(): FdWatching | undefined {
    return this._fallback === null ? this : undefined;
  }

  /** Called by the loop that this poller serves, once; registers it with the thread's selector. */
  attach(driver: LoopDriver): void {
    if (this._fallback !== null) {
      this._fallback.attach(driver);
      return;
    }
    this._driver = driver;
    (this._reactor as Reactor).add(this);
  }

  /** The loop's clock: `performance.now()`, in milliseconds (asyncio's `loop.time()`). */
  time(): number {
    return performance.now();
  }

  /** Resume the loop after at most `timeoutMs` (0: after Node runs its callbacks once; null: on I/O or wakeup() only). */
  wait(timeoutMs: number | null): void {
    if (this._fallback !== null) {
      this._fallback.wait(timeoutMs);
      return;
    }
    if (this._closed) return;
    // A new wait replaces the previous one, a pending wake-up included.
    this._wakeRequested = false;
    if (timeoutMs === null) {
      this._deadline = Infinity;
    } else if (timeoutMs <= 0) {
      this._deadline = Infinity;
      this._wakeRequested = true;
      (this._reactor as Reactor).requestWake();
    } else {
      // Infinity stays Infinity: no timer is armed for it.
      this._deadline = performance.now() + timeoutMs;
    }
    (this._reactor as Reactor).rearm();
  }

  /** Ends the pending wait soon: the loop is resumed in this libuv iteration (asyncio's self-pipe write). */
  wakeup(): void {
    if (this._fallback !== null) {
      this._fallback.wakeup();
      return;
    }
    if (this._closed || this._driver === null) return;
    this._wakeRequested = true;
    (this._reactor as Reactor).requestWake();
  }

  /**
   * Called when the loop closes: leaves the thread's selector and closes every descriptor
   * this poller still owns (transports, listeners, watched fds are forgotten).
   */
  close(): void {
    if (this._fallback !== null) {
      this._fallback.close();
      return;
    }
    // Stryker disable next-line ConditionalExpression: a second close finds nothing left to release (no client, no queued record, no target of its own)
    if (this._closed) return;
    this._closed = true;
    // No longer the reactor's client: nothing reads this poller's deadline or wake-up flag again.
    (this._reactor as Reactor).remove(this);
    // Accepted descriptors no transport took yet are ours to close.
    const numbers = this._numbers;
    for (let i = 0; i < this._queued; i++) if (numbers[3 * i] === ACCEPT) (this._reactor as Reactor).native.close(numbers[3 * i + 1] as number, false);
    this._queued = 0;
    this._objects.fill(null);
    // Every descriptor this poller's loop has open is in the reactor's table under this
    // poller (no set of them is kept: each entry would be paid by every connection).
    const table = (this._reactor as Reactor).targets;
    // Stryker disable next-line EqualityOperator: the slot past the end is undefined, as every empty slot
    for (let fd = 0; fd < table.length; fd++) {
      const target = table[fd];
      if (target !== undefined && target.owner === this) target.discard();
    }
    this._watchers.clear();
  }

  // --- asyncio's add_reader / add_writer ------------------------------------------------

  /**
   * Calls `callback(...args)` in a loop callback whenever `fd` is readable (asyncio's
   * `loop.add_reader`; level-triggered, so read until EAGAIN or expect another call). A
   * new reader for the same fd replaces the old one. Remove it before closing the fd.
   * @example
   * const selector = new SelectorPoller();
   * selector.addReader(fd, () => console.log("readable"));
   */
  addReader<A extends unknown[]>(fd: number, callback: (...args: A) => unknown, ...args: A): void {
    this._addWatch("addReader", fd, 1, callback as (...args: unknown[]) => unknown, args);
  }

  /** Stops watching `fd` for reading; true if a reader was registered (asyncio's `remove_reader`). */
  removeReader(fd: number): boolean {
    return this._removeWatch("removeReader", fd, 1);
  }

  /** Calls `callback(...args)` whenever `fd` is writable (asyncio's `loop.add_writer`). */
  addWriter<A extends unknown[]>(fd: number, callback: (...args: A) => unknown, ...args: A): void {
    this._addWatch("addWriter", fd, 2, callback as (...args: unknown[]) => unknown, args);
  }

  /** Stops watching `fd` for writing; true if a writer was registered (asyncio's `remove_writer`). */
  removeWriter(fd: number): boolean {
    return this._removeWatch("removeWriter", fd, 2);
  }

  private _addWatch(where: string, fd: number, bit: number, callback: (...args: unknown[]) => unknown, args: unknown[]): void {
    checkFd(where, fd);
    if (typeof callback !== "function") throw new TypeError(`${where}(fd, callback): callback must be a function, got ${typeof callback}`);
    const reactor = this._requireNative(where);
    if (this._closed) throw new Error(`${where}: the poller is closed`);
    let watcher = this._watchers.get(fd);
    if (watcher === undefined) {
      const taken = reactor.targets[fd];
      // asyncio raises RuntimeError here: the transport would lose its readiness records.
      if (taken !== undefined) throw new Error(`${where}(${fd}): file descriptor ${fd} is used by a transport or another loop; close that first`);
      watcher = new Watcher(this, fd);
    }
    const before = watcher.mask;
    if (bit === 1) watcher.reader = [callback, args];
    else watcher.writer = [callback, args];
    if (watcher.mask !== before) {
      const rc = reactor.native.watch(fd, watcher.mask);
      if (rc < 0) {
        if (bit === 1) watcher.reader = null;
        else watcher.writer = null;
        throw systemError(-rc, WATCH_CALL[reactor.backend]);
      }
    }
    this._watchers.set(fd, watcher);
    reactor.targets[fd] = watcher;
  }

  private _removeWatch(where: string, fd: number, bit: number): boolean {
    checkFd(where, fd);
    // Nothing is ever watched on the fallback (addReader throws there): false, as for an unwatched fd.
    const watcher = this._watchers.get(fd);
    if (watcher === undefined) return false;
    const had = bit === 1 ? watcher.reader !== null : watcher.writer !== null;
    if (bit === 1) watcher.reader = null;
    else watcher.writer = null;
    const mask = watcher.mask;
    if (mask === 0) watcher.discard();
    else (this._reactor as Reactor).native.watch(fd, mask);
    return had;
  }

  /** @internal */
  _forget(watcher: Watcher): void {
    // Stryker disable next-line ConditionalExpression: only the current watcher of an fd is discarded (by _removeWatch or close), once; this guards a second discard
    if (this._watchers.get(watcher.fd) !== watcher) return;
    (this._reactor as Reactor).native.watch(watcher.fd, 0);
    this._watchers.delete(watcher.fd);
    const reactor = (this._reactor as Reactor);
    if (reactor.targets[watcher.fd] === watcher) reactor.targets[watcher.fd] = undefined;
  }

  private _requireNative(where: string): Reactor {
    // Stryker disable next-line OptionalChaining: native.ts sets nativeLoadError whenever the addon is null
    if (this._reactor === null) throw new Error(`${where}: the native selector is not available (${nativeLoadError?.message}); rebuild @loop/selector (node-gyp) to watch file descriptors`);
    return this._reactor;
  }

  // --- the reactor's side -----------------------------------------------------------------

  /** @internal The loop this poller serves: records are dispatched only once it is attached. */
  get _loop(): AbstractEventLoop {
    return (this._driver as LoopDriver).loop;
  }

  /** @internal */
  _queue(target: FdTarget, kind: number, a: number, b: number, data: Buffer | null): void {
    const n = this._queued++;
    const objects = this._objects;
    const numbers = this._numbers;
    objects[2 * n] = target;
    objects[2 * n + 1] = data;
    numbers[3 * n] = kind;
    numbers[3 * n + 1] = a;
    numbers[3 * n + 2] = b;
    if (!this._dispatchQueued && this._driver !== null) {
      this._dispatchQueued = true;
      // From outside a turn this also wakes the poller: the batch resumes the loop.
      this._driver.loop.callSoon(this._dispatch);
    }
  }

  /** @internal */
  _maybeResume(now: number): void {
    // Called for the reactor's clients only: attached, and not closed (close() leaves).
    if (!this._wakeRequested && this._deadline > now) return;
    this._wakeRequested = false;
    this._deadline = Infinity;
    (this._driver as LoopDriver).resume();
  }

  /** Delivers the queued records, in order, inside one loop callback. */
  private readonly _dispatch = (): void => {
    this._dispatchQueued = false;
    const n = this._queued;
    const objects = this._objects;
    const numbers = this._numbers;
    this._objects = this._spareObjects;
    this._numbers = this._spareNumbers;
    this._spareObjects = objects;
    this._spareNumbers = numbers;
    this._queued = 0;
    try {
      for (let i = 0; i < n; i++) {
        (objects[2 * i] as FdTarget).handleEvent(numbers[3 * i] as number, numbers[3 * i + 1] as number, numbers[3 * i + 2] as number, objects[2 * i + 1] as Buffer | null);
      }
    } finally {
      // Neither a transport nor a slab is kept alive by a delivered record.
      // Stryker disable next-line EqualityOperator: one more slot is past every record and null already
      for (let i = 0; i < 2 * n; i++) objects[i] = null;
    }
  };
}

/** One watched descriptor of addReader/addWriter: its callbacks, run from loop callbacks. */
// Not `implements FdTarget` for the same reason; `reactor.targets[fd] = watcher` checks it.
class Watcher {
  reader: [(...args: unknown[]) => unknown, unknown[]] | null = null;
  writer: [(...args: unknown[]) => unknown, unknown[]] | null = null;

  constructor(
    readonly owner: SelectorPoller,
    readonly fd: number,
  ) {}

  get mask(): number {
    return (this.reader !== null ? 1 : 0) | (this.writer !== null ? 2 : 0);
  }

  handleEvent(kind: number): void {
    // A watched descriptor gets READABLE and WRITABLE records only.
    const entry = kind === READABLE ? this.reader : this.writer;
    if (entry === null) return;
    try {
      entry[0](...entry[1]);
    } catch (error) {
      this.owner._loop.callExceptionHandler({ message: `Exception in ${kind === READABLE ? "reader" : "writer"} callback of fd ${this.fd}`, exception: error });
    }
  }

  discard(): void {
    this.reader = null;
    this.writer = null;
    this.owner._forget(this);
  }
}

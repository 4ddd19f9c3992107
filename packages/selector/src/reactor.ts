import { Buffer } from "node:buffer";
import { markAsUntransferable } from "node:worker_threads";
import { ACCEPT, CTL_QUEUED, CTL_SLAB, CTL_STAGED, CTL_TIMER, DATA, chooseBackend, native, type NativeSelector, type SelectorBackend } from "./native.js";

/** Whatever a descriptor's records go to: a transport, a listener, a connect attempt, a watcher. */
export interface FdTarget {
  /** The poller whose loop handles this descriptor's records. */
  readonly owner: ReactorClient;
  /** Runs inside a loop callback. `data` is the bytes of a DATA record, the target's to keep. */
  handleEvent(kind: number, a: number, b: number, data: Buffer | null): void;
  /** The loop closed: release the descriptor without calling into a protocol. */
  discard(): void;
}

/** What the reactor needs of a poller. */
export interface ReactorClient {
  /** @internal Queues a record for the poller's loop (one loop callback per batch delivers them). */
  _queue(target: FdTarget, kind: number, a: number, b: number, data: Buffer | null): void;
  /** @internal Resumes the loop if its wait is over (a wake-up, I/O, or the deadline passed). */
  _maybeResume(now: number): void;
  /** @internal The end of the poller's current wait on `performance.now()`'s clock; Infinity when none. */
  readonly _deadline: number;
  /** @internal A wake-up was asked for since the last resume. */
  readonly _wakeRequested: boolean;
}

const EVENT_RECORDS = 1 << 16; // 16 bytes each: 1 MiB
/**
 * Reads land in a slab at increasing offsets and reach their targets as views, so a slab
 * is never reused: a new one replaces it once less than a full read's room is left, and the
 * garbage collector frees the old one with its last view. The size bounds what a kept view
 * can hold alive (as Node's 8 KiB pool does for `Buffer.allocUnsafe`), and sets how often
 * a slab is made (once per ~200 reads of 1 KiB).
 */
const SLAB_BYTES = 256 * 1024;
/** The addon reads up to 64 KiB at a time (READ_CHUNK in native/selector.c). */
const SLAB_RESERVE = 64 * 1024;
const STAGING_BYTES = 1 << 20;
const QUEUE_RECORDS = 1 << 14; // [fd, offset, length]
/** Bigger writes go to the addon directly: copying them twice would cost more than the call. */
const MAX_STAGED_WRITE = 64 * 1024;

/**
 * The one native selector of this thread, shared by every `SelectorPoller` in it. It owns
 * the descriptor table (which target each fd's records go to), turns each native batch
 * into queued loop callbacks, and resumes the pollers whose waits are over.
 *
 * Invariant: `targets[fd]` is set exactly while the addon has `fd` in its table, except
 * for an accepted descriptor between its ACCEPT record and its transport's creation (its
 * listener owns it then). Descriptors are closed only by their target, which clears the
 * slot in the same call, so a number the kernel reuses never reaches an old target.
 */
export class Reactor {
  readonly native: NativeSelector;
  /** How readiness is learnt in this thread (fixed when the reactor is made). */
  readonly backend: SelectorBackend;
  /** @internal Native batches delivered so far (tests check that ready descriptors share one). */
  batches = 0;
  readonly targets: (FdTarget | undefined)[] = [];
  private readonly _clients: ReactorClient[] = [];
  private readonly _events: Int32Array;
  /** The slab C reads into now; DATA records are offsets in it. */
  private _slab: ArrayBuffer;
  /** Shared with C: [writes queued, bytes staged, flushes so far, loop timer armed, slab bytes used]. */
  readonly ctl: Int32Array;
  private readonly _staging: Uint8Array;
  private readonly _queue: Int32Array;
  private _inBatch = false;
  private _wakeQueued = false;
  private _armedDeadline = Infinity;

  constructor(addon: NativeSelector, backend: SelectorBackend) {
    this.native = addon;
    this.backend = backend;
    const events = new ArrayBuffer(EVENT_RECORDS * 16);
    const slab = newSlab();
    const staging = new ArrayBuffer(STAGING_BYTES);
    const queue = new ArrayBuffer(QUEUE_RECORDS * 12);
    const ctl = new ArrayBuffer(32);
    this._events = new Int32Array(events);
    this._slab = slab;
    this._staging = new Uint8Array(staging);
    this._queue = new Int32Array(queue);
    this.ctl = new Int32Array(ctl);
    addon.init(this._onBatch, this, events, slab, staging, queue, ctl, backend);
  }

  /**
   * Queues a write of `data` to `fd` without calling into C: the bytes are copied into the
   * shared staging area and `[fd, offset, length]` appended to the shared queue, which C
   * takes (in order, before any other operation on a descriptor) and sends after the batch.
   * False when it does not fit: then the caller writes through the addon.
   */
  stage(fd: number, data: Uint8Array): boolean {
    const ctl = this.ctl;
    const n = ctl[CTL_QUEUED] as number;
    const used = ctl[CTL_STAGED] as number;
    const length = data.byteLength;
    if (n >= QUEUE_RECORDS || length > MAX_STAGED_WRITE || used + length > STAGING_BYTES) return false;
    this._staging.set(data, used);
    const queue = this._queue;
    const p = n * 3;
    queue[p] = fd;
    queue[p + 1] = used;
    queue[p + 2] = length;
    ctl[CTL_STAGED] = used + length;
    ctl[CTL_QUEUED] = n + 1;
    // Outside a batch nothing would send it before libuv blocks in poll.
    if (n === 0 && !this._inBatch) this.native.flushSoon();
    return true;
  }

  add(client: ReactorClient): void {
    this._clients.push(client);
  }

  remove(client: ReactorClient): void {
    const i = this._clients.indexOf(client);
    if (i >= 0) this._clients.splice(i, 1);
    this.rearm();
  }

  /** A client wants a batch soon (a wake-up, `wait(0)`): one native wake per batch at most. */
  requestWake(): void {
    if (this._inBatch || this._wakeQueued) return;
    this._wakeQueued = true;
    this.native.wake();
  }

  /** Arms the native timer for the earliest deadline of any client (after a batch, or a new wait). */
  rearm(): void {
    if (this._inBatch) return;
    let earliest = Infinity;
    const clients = this._clients;
    for (let i = 0; i < clients.length; i++) {
      const client = clients[i] as ReactorClient;
      // Stryker disable next-line EqualityOperator: an equal deadline sets earliest to the same value
      if (client._deadline < earliest) earliest = client._deadline;
    }
    // The addon says whether its timer is still armed (it disarms itself when it fires):
    // re-arming for the same deadline would be a call into C per batch for nothing.
    const armed = this.ctl[CTL_TIMER] === 1;
    if (earliest === Infinity) {
      if (armed) this.native.arm(-1);
      this._armedDeadline = Infinity;
      return;
    }
    if (armed && earliest === this._armedDeadline) return;
    this._armedDeadline = earliest;
    // libuv's timers count whole milliseconds from a clock cached per iteration: round up,
    // and a timer that still fires a little early just re-arms for the rest.
    this.native.arm(Math.max(0, Math.ceil(earliest - performance.now())));
  }

  private _replaceSlab(): void {
    const slab = newSlab();
    this.native.slab(slab);
    this._slab = slab;
  }

  /** The one call from C per batch: `count` records wait in the shared array. */
  private readonly _onBatch = (count: number): void => {
    this._inBatch = true;
    this._wakeQueued = false;
    this.batches++;
    let wake = false;
    try {
      const events = this._events;
      const targets = this.targets;
      for (let i = 0, p = 0; i < count; i++, p += 4) {
        const fd = events[p] as number;
        const kind = events[p + 1] as number;
        const a = events[p + 2] as number;
        const b = events[p + 3] as number;
        const target = targets[fd];
        if (target === undefined) {
          // Only a listener closed within this batch leaves records behind; an accepted
          // descriptor nobody will own is closed here.
          if (kind === ACCEPT) this.native.close(a, false);
          continue;
        }
        // A view, no copy: this region of the slab is never written again.
        const data = kind === DATA ? Buffer.from(this._slab, a, b) : null;
        target.owner._queue(target, kind, a, b, data);
      }
      const now = performance.now();
      const clients = this._clients;
      for (let i = 0; i < clients.length; i++) (clients[i] as ReactorClient)._maybeResume(now);
    } finally {
      // Before the next harvest, which reads into the slab; also when JS code detached it
      // (the addon then reports it full).
      // Stryker disable next-line EqualityOperator: with exactly a full read's room left, the old slab and a new one take the same read
      if ((this.ctl[CTL_SLAB] as number) > SLAB_BYTES - SLAB_RESERVE) this._replaceSlab();
      this._inBatch = false;
      for (let i = 0; i < this._clients.length; i++) if ((this._clients[i] as ReactorClient)._wakeRequested) wake = true;
      if (wake) this.requestWake();
      this.rearm();
    }
  };
}

/** A fresh slab: not zeroed (every byte handed out was read into first), and never transferable to a worker, as Node's own Buffer pool. */
function newSlab(): ArrayBuffer {
  const slab = Buffer.allocUnsafeSlow(SLAB_BYTES).buffer as ArrayBuffer;
  markAsUntransferable(slab);
  return slab;
}

let reactor: Reactor | null = null;

/**
 * This thread's reactor, made on first use; null when the addon is not available. Its
 * backend is `LOOP_SELECTOR_BACKEND`'s, read then, once per thread (a RangeError names the
 * choices when the variable names none of them).
 */
export function getReactor(): Reactor | null {
  if (reactor === null && native !== null) reactor = new Reactor(native, chooseBackend(native.backends, process.env.LOOP_SELECTOR_BACKEND));
  return reactor;
}

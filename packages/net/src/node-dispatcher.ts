import type { EventLoop } from "@loop/core";

/** What a dispatcher delivers events to: a Node transport or a connection attempt. */
export interface DispatchTarget {
  /** Runs inside a loop callback; `kind` and `payload` are what `push` was given. */
  handleEvent(kind: number, payload: unknown): void;
  /** The loop closed before the event could be delivered: release the socket. */
  discard(): void;
}

/** What a withdrawn event's slot delivers to: nothing. */
const WITHDRAWN: DispatchTarget = { handleEvent() {}, discard() {} };

/**
 * The share of a socket that is the only busy one: with nobody to be unfair to but a
 * newcomer, it may hand the loop this much per host iteration (fewer iterations for a bulk
 * transfer, a newcomer waits for one such share at most).
 */
export const MAX_READ_SHARE = 1024 * 1024;
/** The least: a share never shrinks below this, however many sockets are busy. */
export const MIN_READ_SHARE = 4 * 1024;
/** The bytes several busy sockets together may hand the loop per host iteration, shared out evenly. */
export const ITERATION_READ_BUDGET = 256 * 1024;

/** A target that holds events past its share of a host iteration (see `releaseLater`). */
export interface ThrottledTarget {
  /** Queues the next share of what it holds (with `push`); true while more is left. */
  release(): boolean;
}

/**
 * Carries Node socket events into the loop. Node calls its socket listeners between loop
 * turns; each event is queued here, and one `callSoonThreadsafe` per batch (not per
 * event) runs them all in arrival order inside a loop callback. With many busy sockets
 * the events of a whole Node I/O phase cost one loop callback.
 *
 * The queue is three parallel arrays rather than an array of event objects, so that an
 * event costs no allocation.
 */
export class Dispatcher {
  /**
   * Everything this loop has open through the driver (sockets, listeners, attempts). When
   * the loop closes they are released: a socket left open by user code would otherwise
   * keep the Node process alive after `run()` returned.
   */
  readonly open = new Set<DispatchTarget>();
  private _targets: DispatchTarget[] = [];
  private _kinds: number[] = [];
  private _payloads: unknown[] = [];
  private _spareTargets: DispatchTarget[] = [];
  private _spareKinds: number[] = [];
  private _sparePayloads: unknown[] = [];
  /** During a flush the spare arrays hold the events being delivered; this is the next one's index. */
  private _next = 0;
  private _scheduled = false;
  private readonly _loop: EventLoop;
  private readonly _flush: () => void;
  /** Targets holding events for a later host iteration; released by one `setImmediate` per iteration. */
  private _held: ThrottledTarget[] = [];
  private _spareHeld: ThrottledTarget[] = [];
  private _releaseQueued = false;
  private readonly _release: () => void;
  /**
   * What one socket may hand the loop per host iteration: MAX_READ_SHARE while one socket
   * at most is busy; otherwise the iteration's budget shared by the busy sockets,
   * MIN_READ_SHARE at least. Busy: it sent data in this round of deliveries or lately
   * (`_recentBusy`), or it has more than its share waiting. A loop turn thus holds about
   * ITERATION_READ_BUDGET bytes of requests however many peers pipeline, and Node polls
   * (accepts, reads the quiet sockets) between turns.
   */
  share = MAX_READ_SHARE;
  /** Counts the flushes: a socket's first data in a round counts it as active in that round. */
  round = 0;
  private _active = 0;
  /**
   * How many sockets have been busy lately: the most of any recent round, decaying by a
   * sixteenth a round, so that the share does not jump to MAX_READ_SHARE in the lull
   * between two waves of pipelined requests and let the next wave fill one turn.
   */
  private _recentBusy = 0;

  constructor(loop: EventLoop) {
    this._loop = loop;
    this._flush = () => this.flush();
    this._release = () => this._releaseHeld();
    loop.addCloseCallback(() => this._releaseAll());
  }

  /**
   * `target` holds events past its share: have it release them on the host's next
   * iterations, a share each. `setImmediate` runs in Node's check phase, after the poll
   * phase, so the accepts and reads of every other socket get in before each share.
   */
  releaseLater(target: ThrottledTarget): void {
    this._held.push(target);
    this._updateShare();
    if (!this._releaseQueued) {
      this._releaseQueued = true;
      setImmediate(this._release);
    }
  }

  /** A socket's first data of this round (see `share`). */
  noteActive(): void {
    this._active++;
    this._updateShare();
  }

  private _updateShare(): void {
    const busy = Math.max(this._held.length, this._active, this._recentBusy);
    this.share = busy <= 1 ? MAX_READ_SHARE : Math.max(MIN_READ_SHARE, Math.floor(ITERATION_READ_BUDGET / busy));
  }

  private _releaseHeld(): void {
    this._releaseQueued = false;
    const held = this._held;
    this._held = this._spareHeld;
    for (let i = 0; i < held.length; i++) {
      const target = held[i] as ThrottledTarget;
      if (target.release()) this._held.push(target);
    }
    held.length = 0;
    this._spareHeld = held;
    this._updateShare();
    if (this._held.length > 0 && !this._loop.isClosed()) {
      this._releaseQueued = true;
      setImmediate(this._release);
    }
  }

  private _releaseAll(): void {
    const left = [...this.open];
    this.open.clear();
    if (left.length > 0 && this._loop.getDebug()) {
      this._loop.callExceptionHandler({ message: `@loop/net: ${left.length} socket(s) or listener(s) left open when the loop closed; closing them` });
    }
    for (const target of left) target.discard();
  }

  push(target: DispatchTarget, kind: number, payload: unknown): void {
    const loop = this._loop;
    if (loop.isClosed()) {
      target.discard();
      return;
    }
    this._targets.push(target);
    this._kinds.push(kind);
    this._payloads.push(payload);
    if (!this._scheduled) {
      this._scheduled = true;
      loop.callSoonThreadsafe(this._flush);
    }
  }

  /**
   * Takes back every event of `target` not yet delivered (those later in a flush under way,
   * then those queued for the next), appending kinds and payloads interleaved to `into`,
   * in arrival order. Their slots stay and deliver nothing: the other targets' events keep
   * their order, and the queue its arrays. For startTls, which hands the socket over with
   * everything Node already read from it.
   */
  withdraw(target: DispatchTarget, into: unknown[]): void {
    this._withdrawFrom(this._spareTargets, this._spareKinds, this._sparePayloads, this._next, target, into);
    this._withdrawFrom(this._targets, this._kinds, this._payloads, 0, target, into);
  }

  private _withdrawFrom(targets: DispatchTarget[], kinds: number[], payloads: unknown[], from: number, target: DispatchTarget, into: unknown[]): void {
    for (let i = from; i < targets.length; i++) {
      if (targets[i] !== target) continue;
      into.push(kinds[i], payloads[i]);
      targets[i] = WITHDRAWN;
      payloads[i] = null;
    }
  }

  /** Delivers every queued event, in order. */
  flush(): void {
    this._scheduled = false;
    // A round is a flush that carried socket data: a flush of released backlogs alone
    // (from the same host iteration) must not make the sockets look idle.
    if (this._active > 0) {
      this.round++;
      const busy = Math.max(this._active, this._held.length);
      this._recentBusy = Math.max(busy, this._recentBusy - (this._recentBusy >> 4));
      this._active = 0;
      this._updateShare();
    }
    const targets = this._targets;
    const kinds = this._kinds;
    const payloads = this._payloads;
    // Events that arrive while these run (none from Node, which waits for the turn to
    // end, but a target may push) go to the spare arrays and the next flush. The arrays
    // being delivered are the spares meanwhile, so that `withdraw` finds the rest of them.
    this._targets = this._spareTargets;
    this._kinds = this._spareKinds;
    this._payloads = this._sparePayloads;
    this._spareTargets = targets;
    this._spareKinds = kinds;
    this._sparePayloads = payloads;
    try {
      for (let i = 0; i < targets.length; i++) {
        this._next = i + 1;
        (targets[i] as DispatchTarget).handleEvent(kinds[i] as number, payloads[i]);
      }
    } finally {
      this._next = 0;
      targets.length = 0;
      kinds.length = 0;
      payloads.length = 0;
    }
  }
}

const dispatchers = new WeakMap<EventLoop, Dispatcher>();

/** The dispatcher of `loop`, made on first use. */
export function dispatcherFor(loop: EventLoop): Dispatcher {
  let dispatcher = dispatchers.get(loop);
  if (dispatcher === undefined) {
    dispatcher = new Dispatcher(loop);
    dispatchers.set(loop, dispatcher);
  }
  return dispatcher;
}

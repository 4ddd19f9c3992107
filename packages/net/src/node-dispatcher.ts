import type { EventLoop } from "@loop/core";

/** What a dispatcher delivers events to: a Node transport or a connection attempt. */
export interface DispatchTarget {
  /** Runs inside a loop callback; `kind` and `payload` are what `push` was given. */
  handleEvent(kind: number, payload: unknown): void;
  /** The loop closed before the event could be delivered: release the socket. */
  discard(): void;
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
  private _scheduled = false;
  private readonly _loop: EventLoop;
  private readonly _flush: () => void;

  constructor(loop: EventLoop) {
    this._loop = loop;
    this._flush = () => this.flush();
    loop.addCloseCallback(() => this._releaseAll());
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

  /** Delivers every queued event, in order. */
  flush(): void {
    this._scheduled = false;
    const targets = this._targets;
    const kinds = this._kinds;
    const payloads = this._payloads;
    // Events that arrive while these run (none from Node, which waits for the turn to
    // end, but a target may push) go to the spare arrays and the next flush.
    this._targets = this._spareTargets;
    this._kinds = this._spareKinds;
    this._payloads = this._sparePayloads;
    for (let i = 0; i < targets.length; i++) (targets[i] as DispatchTarget).handleEvent(kinds[i] as number, payloads[i]);
    targets.length = 0;
    kinds.length = 0;
    payloads.length = 0;
    this._spareTargets = targets;
    this._spareKinds = kinds;
    this._sparePayloads = payloads;
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

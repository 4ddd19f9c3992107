import type { Coroutine } from "./types.js";
import type { Future } from "./future.js";
import type { EventLoop } from "./loop.js";
import { current } from "./state.js";
import { RingQueue } from "./ring-queue.js";
import { DONE, type Stream, type Subscription } from "./stream.js";

/** What `fromEvent` listens on: a DOM-style `EventTarget` or a Node-style `EventEmitter`. */
export type EventSource =
  | { addEventListener(type: string, listener: (event: unknown) => void): void; removeEventListener(type: string, listener: (event: unknown) => void): void }
  | { on(type: string | symbol, listener: (...args: unknown[]) => void): unknown; off(type: string | symbol, listener: (...args: unknown[]) => void): unknown };

/** What happens to an event that arrives while the buffer holds `limit` events already. */
export type OverflowPolicy = "error" | "drop-oldest" | "drop-newest";

/** Options of `fromEvent`. */
export interface FromEventOptions {
  /** How many events wait for the consumer at most (default 1024). */
  limit?: number;
  /**
   * On an event past `limit` (default `"error"`): fail the stream with a `RangeError` at the
   * next pull, drop the oldest waiting event, or drop the new one.
   */
  overflow?: OverflowPolicy;
}

/**
 * A stream of the events `type` of an `EventTarget` or `EventEmitter`. The listener is
 * added at subscription and removed on release. Events cannot be slowed down, so those the
 * consumer has not pulled yet wait in a buffer of at most `limit` (default 1024); what
 * happens past it is `overflow` (default: the stream fails with a `RangeError`, so that a
 * consumer falling behind is noticed, not silently lossy). The stream never ends by
 * itself: stop with `take`, `break`, or cancellation. An EventEmitter's event gives its
 * first argument.
 * @example
 * for (const message of yield* each(fromEvent<MessageEvent>(socket, "message"))) {
 *   console.log(message.data);
 *   yield* each.next();
 * }
 */
export function fromEvent<T = unknown>(target: EventSource, type: string, opts?: FromEventOptions): Stream<T> {
  const isTarget = typeof target === "object" && target !== null && typeof (target as { addEventListener?: unknown }).addEventListener === "function";
  const isEmitter = typeof target === "object" && target !== null && typeof (target as { on?: unknown }).on === "function" && typeof (target as { off?: unknown }).off === "function";
  if (!isTarget && !isEmitter) {
    throw new TypeError("fromEvent(target, type): target must be an EventTarget (addEventListener) or an EventEmitter (on/off)");
  }
  if (typeof type !== "string") throw new TypeError("fromEvent(target, type): type must be the event's name, a string");
  const limit = opts?.limit ?? 1024;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`fromEvent(target, type, { limit }): limit must be an integer >= 1, got ${String(limit)}`);
  }
  const overflow = opts?.overflow ?? "error";
  if (overflow !== "error" && overflow !== "drop-oldest" && overflow !== "drop-newest") {
    throw new RangeError(`fromEvent(target, type, { overflow }): overflow must be "error", "drop-oldest" or "drop-newest", got ${String(overflow)}`);
  }
  return { subscribe: () => new EventSubscription<T>(target, isTarget, type, limit, overflow) };
}

/**
 * Invariant: while not released, `listener` is attached to the target; `events` holds at
 * most `limit` events not yet pulled; `waiter` is the future a consumer
 * waiting for an event sleeps on; `overflowed` is set when an event came past `limit`
 * under the "error" policy.
 */
class EventSubscription<T> implements Subscription<T> {
  readonly _loop: EventLoop;
  readonly _target: EventSource;
  readonly _isTarget: boolean;
  readonly _type: string;
  readonly _limit: number;
  readonly _overflow: OverflowPolicy;
  // Small segments: most streams hold a few events at a time, and `limit` bounds the rest.
  readonly _events = new RingQueue<T>(16);
  _waiter: Future<void> | null = null;
  _overflowed = false;
  _released = false;
  readonly _listener = (event: T): void => this._push(event);

  constructor(target: EventSource, isTarget: boolean, type: string, limit: number, overflow: OverflowPolicy) {
    const loop = current.loop as EventLoop | null;
    if (loop === null) throw new Error("a fromEvent() stream must be subscribed inside a coroutine running on a loop");
    this._loop = loop;
    this._target = target;
    this._isTarget = isTarget;
    this._type = type;
    this._limit = limit;
    this._overflow = overflow;
    if (isTarget) (target as { addEventListener(type: string, l: (e: T) => void): void }).addEventListener(type, this._listener);
    else (target as { on(type: string, l: (e: T) => void): void }).on(type, this._listener);
  }

  _push(event: T): void {
    // Node's emit() calls the listeners it started with, a removed one too: keep nothing then.
    if (this._released) return;
    if (this._events.length < this._limit) {
      this._events.push(event);
    } else if (this._overflow === "drop-oldest") {
      this._events.shift();
      this._events.push(event);
    } else if (this._overflow === "error") {
      this._overflowed = true;
    } // else "drop-newest": the new event is dropped.
    const waiter = this._waiter;
    // Events may arrive from outside the loop's turn: setResult wakes the loop then.
    if (waiter !== null && !waiter.done()) waiter.setResult(undefined);
  }

  *next(): Coroutine<IteratorResult<T, undefined>> {
    for (;;) {
      if (this._released) return DONE;
      if (this._overflowed) {
        this._release();
        throw new RangeError(`fromEvent(target, ${JSON.stringify(this._type)}): more than ${this._limit} events arrived before the consumer took them; raise { limit } or choose an { overflow } policy that drops events`);
      }
      if (this._events.length > 0) return { done: false, value: this._events.shift() };
      const waiter = (this._waiter = this._loop.createFuture<void>());
      try {
        yield* waiter;
        // Stryker disable next-line BlockStatement: the future is done once yield* ends (set or cancelled), and _push skips a done one; clearing only drops the reference
      } finally {
        this._waiter = null;
      }
    }
  }

  return(): void {
    this._release();
  }

  _release(): void {
    if (this._released) return;
    this._released = true;
    this._events.clear();
    // A consumer waiting in next() (a release from another task) sees the end, not a wait
    // for events that can no longer come.
    const waiter = this._waiter;
    if (waiter !== null && !waiter.done()) waiter.setResult(undefined);
    if (this._isTarget) (this._target as { removeEventListener(type: string, l: (e: T) => void): void }).removeEventListener(this._type, this._listener);
    else (this._target as { off(type: string, l: (e: T) => void): void }).off(this._type, this._listener);
  }
}

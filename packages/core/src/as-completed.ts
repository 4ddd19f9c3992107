import { ensureFuture } from "./ensure-future.js";
import { TimeoutError } from "./errors.js";
import { Future, FutureState } from "./future.js";
import type { TimerHandle } from "./handle.js";
import { getRunningLoop, type EventLoop } from "./loop.js";
import { checkTimeout } from "./wait.js";
import type { AwaitableLike, AwaitedOf } from "./types.js";

/**
 * Yields one future per input; the i-th future taken resolves like the i-th input to
 * finish, whichever that is (asyncio.as_completed, 3.13). After `timeout` ms, every
 * future not yet resolved fails with `TimeoutError`. The inputs are not cancelled.
 * @example
 * for (const next of asCompleted([fetchA(), fetchB()], { timeout: 1000 })) {
 *   const first = yield* next; // whichever finished first
 * }
 */
export function asCompleted<A extends AwaitableLike<unknown>>(
  aws: Iterable<A>,
  opts?: { timeout?: number | null },
): IterableIterator<Future<AwaitedOf<A>>> {
  if (aws === null || typeof aws !== "object" || typeof (aws as Iterable<unknown>)[Symbol.iterator] !== "function") {
    throw new TypeError("asCompleted(aws): aws must be an iterable of awaitables");
  }
  const timeout = checkTimeout("asCompleted(aws, { timeout })", opts?.timeout);
  const loop = getRunningLoop();
  const inputs = Array.from(new Set(aws), (aw) => ensureFuture(aw, loop));
  return new CompletionOrder(loop, inputs, timeout) as unknown as IterableIterator<Future<AwaitedOf<A>>>;
}

const TIMED_OUT = null;

class CompletionOrder implements IterableIterator<Future<unknown>> {
  private readonly _loop: EventLoop;
  private readonly _todo: Set<Future<unknown>>;
  private readonly _total: number;
  private _taken = 0;
  /** Finished inputs (or TIMED_OUT markers) that no slot has taken yet, oldest first. */
  private readonly _finished: (Future<unknown> | typeof TIMED_OUT)[] = [];
  /** Slots handed out before their input finished, oldest first. */
  private readonly _waiting: Future<unknown>[] = [];
  private _timer: TimerHandle | null = null;
  private readonly _onDone = (f: Future<unknown>): void => {
    if (!this._todo.delete(f)) return;
    this._deliver(f);
    if (this._todo.size === 0) this._timer?.cancel();
  };

  constructor(loop: EventLoop, inputs: Future<unknown>[], timeout: number | null) {
    this._loop = loop;
    this._todo = new Set(inputs);
    this._total = inputs.length;
    for (const f of inputs) f.addDoneCallback(this._onDone);
    if (timeout !== null && inputs.length > 0) this._timer = loop.callLater(timeout, () => this._timeOut());
  }

  next(): IteratorResult<Future<unknown>> {
    if (this._taken >= this._total) return { done: true, value: undefined };
    this._taken++;
    const slot = this._loop.createFuture<unknown>();
    const ready = this._finished.shift();
    if (ready !== undefined) settleFrom(slot, ready);
    else this._waiting.push(slot);
    return { done: false, value: slot };
  }

  [Symbol.iterator](): IterableIterator<Future<unknown>> {
    return this;
  }

  private _deliver(f: Future<unknown> | typeof TIMED_OUT): void {
    const slot = this._waiting.shift();
    if (slot !== undefined) settleFrom(slot, f);
    else this._finished.push(f);
  }

  private _timeOut(): void {
    for (const f of this._todo) {
      f.removeDoneCallback(this._onDone);
      this._deliver(TIMED_OUT);
    }
    this._todo.clear();
  }
}

function settleFrom(slot: Future<unknown>, source: Future<unknown> | typeof TIMED_OUT): void {
  if (slot.done()) return;
  if (source === TIMED_OUT) slot.setException(new TimeoutError("asCompleted() timed out before this result was ready"));
  else if (source.cancelled()) slot.cancel(source._cancelMessage);
  else if (source._state === FutureState.FAILED) slot.setException(source.exception());
  else slot.setResult(source.result());
}

import type { AwaitableLike, AwaitedOf } from "./coroutine.js";
import { ensureFuture } from "./ensure-future.js";
import { Future, FutureState } from "./future.js";
import type { EventLoop } from "./loop.js";
import { current } from "./state.js";

export interface GatherOptions {
  /** Deliver errors (and cancellations) as results instead of failing on the first one. */
  returnExceptions?: boolean;
}

type Results<A extends readonly unknown[]> = { -readonly [K in keyof A]: AwaitedOf<A[K]> };
type Outcomes<A extends readonly unknown[]> = { -readonly [K in keyof A]: AwaitedOf<A[K]> | Error };

/**
 * The future returned by `gather`: cancelling it cancels every child still running.
 * @internal exported for `instanceof` checks by debug tools.
 */
export class GatheringFuture<T> extends Future<T> {
  /** @internal */ readonly _children: Future<unknown>[];
  /** @internal */ _cancelRequested = false;

  constructor(loop: EventLoop, children: Future<unknown>[]) {
    super(loop);
    this._children = children;
  }

  /** The futures being gathered, in argument order. */
  children(): readonly Future<unknown>[] {
    return this._children;
  }

  override cancel(msg?: string): boolean {
    if (this.done()) return false;
    let any = false;
    for (const child of this._children) if (child.cancel(msg)) any = true;
    // The outcome will be a CancelledError whatever returnExceptions says (asyncio bpo-32684).
    if (any) this._cancelRequested = true;
    return any;
  }
}

/**
 * Runs the awaitables concurrently and gives their results in argument order
 * (asyncio.gather). The first error fails the gather at once (the others keep running)
 * unless `returnExceptions` is set. Cancelling the gather cancels the children.
 * @example
 * const [user, posts] = yield* gather([fetchUser(id), fetchPosts(id)]);
 */
export function gather<const A extends readonly AwaitableLike<unknown>[]>(aws: A, opts?: { returnExceptions?: false }): Future<Results<A>>;
export function gather<const A extends readonly AwaitableLike<unknown>[]>(aws: A, opts: { returnExceptions: true }): Future<Outcomes<A>>;
export function gather<const A extends readonly AwaitableLike<unknown>[]>(aws: A, opts?: GatherOptions): Future<Results<A> | Outcomes<A>>;
export function gather(aws: readonly AwaitableLike<unknown>[], opts?: GatherOptions): Future<unknown[]> {
  if (aws === null || typeof aws !== "object" || typeof (aws as Iterable<unknown>)[Symbol.iterator] !== "function") {
    throw new TypeError("gather(aws): aws must be an array of awaitables (coroutines, futures, tasks or promises)");
  }
  const returnExceptions = opts?.returnExceptions === true;
  const list = Array.from(aws as Iterable<AwaitableLike<unknown>>);
  if (list.length === 0) {
    const loop = current.loop;
    if (loop === null) throw new Error("no running event loop: gather([]) has no loop to make its future on");
    const empty = loop.createFuture<unknown[]>();
    empty.setResult([]);
    return empty;
  }

  // Figure out the loop first, so that coroutines become tasks of the loop the futures use.
  let loop: EventLoop | null = current.loop;
  for (const aw of list) if (aw instanceof Future) loop ??= aw._loop;
  if (loop === null) throw new Error("no running event loop: gather() of coroutines must be called inside the loop");

  // The same awaitable passed twice is awaited once and its result reported twice.
  const seen = new Map<unknown, Future<unknown>>();
  const children: Future<unknown>[] = [];
  for (const aw of list) {
    let future = seen.get(aw);
    if (future === undefined) {
      future = ensureFuture(aw, loop);
      if (future._loop !== loop) throw new RangeError("gather(aws): every future must belong to the same loop");
      seen.set(aw, future);
    }
    children.push(future);
  }

  const outer = new GatheringFuture<unknown[]>(loop, children);
  const unique = new Set(children);
  let finished = 0;
  const onChildDone = (child: Future<unknown>): void => {
    finished++;
    if (outer.done()) {
      // Retrieve the error so that it is not reported as never retrieved.
      if (!child.cancelled()) child.exception();
      return;
    }
    if (!returnExceptions) {
      if (child.cancelled()) {
        outer.setException(child._makeCancelledError());
        return;
      }
      const error = child.exception();
      if (error !== null) {
        outer.setException(error);
        return;
      }
    }
    if (finished < unique.size) return;
    const results: unknown[] = new Array(children.length);
    for (let i = 0; i < children.length; i++) {
      const c = children[i] as Future<unknown>;
      if (c.cancelled()) results[i] = c._makeCancelledError();
      else if (c._state === FutureState.FAILED) results[i] = c.exception();
      else results[i] = c.result();
    }
    if (outer._cancelRequested) {
      const cancelled = children.find((c) => c.cancelled()) ?? child;
      outer.setException(cancelled._makeCancelledError());
    } else {
      outer.setResult(results);
    }
  };
  for (const child of unique) child.addDoneCallback(onChildDone);
  return outer;
}

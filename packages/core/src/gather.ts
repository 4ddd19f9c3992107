import { ensureFuture } from "./ensure-future.js";
import { Future, FutureState } from "./future.js";
import { current } from "./state.js";
import type { AbstractEventLoop, AwaitableLike, AwaitedOf, DoneWaiter } from "./types.js";

/** Options of `gather()`. */
export interface GatherOptions {
  /** Deliver errors (and cancellations) as results instead of failing on the first one. */
  returnExceptions?: boolean;
}

type Results<A extends readonly unknown[]> = { -readonly [K in keyof A]: AwaitedOf<A[K]> };
type Outcomes<A extends readonly unknown[]> = { -readonly [K in keyof A]: AwaitedOf<A[K]> | Error };

/**
 * The future returned by `gather`: cancelling it cancels every child still running.
 * Debug tools recognise it with `instanceof` and read its `children()`.
 */
export class GatheringFuture<T> extends Future<T> implements DoneWaiter {
  /** @internal */ readonly _children: Future<unknown>[];
  /** @internal */ _cancelRequested = false;
  /** @internal How many distinct children there are, and how many have finished. */ private readonly _unique: number;
  private _finished = 0;
  private readonly _returnExceptions: boolean;

  /** @internal */
  constructor(loop: AbstractEventLoop, children: Future<unknown>[], unique: number, returnExceptions: boolean) {
    super(loop);
    this._children = children;
    this._unique = unique;
    this._returnExceptions = returnExceptions;
  }

  /** The futures being gathered, in argument order. */
  children(): readonly Future<unknown>[] {
    return this._children;
  }

  /**
   * Cancels every child still running (asyncio's `_GatheringFuture.cancel`); the gather then
   * ends cancelled. False if it is done or no child could be cancelled.
   */
  override cancel(msg?: string): boolean {
    if (this.done()) return false;
    let any = false;
    for (const child of this._children) if (child.cancel(msg)) any = true;
    if (any) this._cancelRequested = true;
    return any;
  }

  /**
   * @internal A child finished (asyncio's `_done_callback` in `gather`). The gather is one
   * waiter registered on every child, woken synchronously at each child's completion: no
   * closure per gather and no scheduled callback per child. It only completes `this`,
   * which queues this future's own callbacks, so no user code runs synchronously here.
   */
  _wake(child: Future<unknown>): void {
    this._finished++;
    if (this.done()) {
      // Retrieve the error so that it is not reported as never retrieved.
      if (!child.cancelled()) child.exception();
      return;
    }
    if (!this._returnExceptions) {
      if (child.cancelled()) {
        this.setException(child._makeCancelledError());
        return;
      }
      if (child._state === FutureState.FAILED) {
        this.setException(child.exception());
        return;
      }
    }
    if (this._finished < this._unique) return;
    const children = this._children;
    // Stryker disable next-line ArrayDeclaration: every index is written below; the length only presizes the array
    const results: unknown[] = new Array(children.length);
    for (let i = 0; i < children.length; i++) {
      const c = children[i] as Future<unknown>;
      if (c.cancelled()) results[i] = c._makeCancelledError();
      else if (c._state === FutureState.FAILED) results[i] = c.exception();
      else results[i] = c.result();
    }
    if (this._cancelRequested) {
      // The outcome is a CancelledError whatever returnExceptions says (asyncio bpo-32684).
      const cancelled = children.find((c) => c.cancelled()) ?? child;
      this.setException(cancelled._makeCancelledError());
    } else {
      this.setResult(results as T);
    }
  }
}

/**
 * Runs the awaitables concurrently and gives their results in argument order
 * (asyncio.gather). The first error fails the gather at once (the others keep running)
 * unless `returnExceptions` is set. Cancelling the gather cancels the children.
 * @example
 * const [user, posts] = yield* gather([fetchUser(id), fetchPosts(id)]);
 */
export function gather<const A extends readonly AwaitableLike<unknown>[]>(aws: A, opts?: { returnExceptions?: false }): GatheringFuture<Results<A>>;
/**
 * With `returnExceptions: true`: an error or a cancellation becomes that awaitable's
 * result, in its place, and the gather never fails because of a child.
 */
export function gather<const A extends readonly AwaitableLike<unknown>[]>(aws: A, opts: { returnExceptions: true }): GatheringFuture<Outcomes<A>>;
/** With options known only at run time: results, or errors in their places. */
export function gather<const A extends readonly AwaitableLike<unknown>[]>(aws: A, opts?: GatherOptions): GatheringFuture<Results<A> | Outcomes<A>>;
export function gather(aws: readonly AwaitableLike<unknown>[], opts?: GatherOptions): GatheringFuture<unknown[]> {
  if (aws === null || typeof aws !== "object" || typeof (aws as Iterable<unknown>)[Symbol.iterator] !== "function") {
    throw new TypeError("gather(aws): aws must be an array of awaitables (coroutines, futures, tasks or promises)");
  }
  const returnExceptions = opts?.returnExceptions === true;
  const list = Array.from(aws as Iterable<AwaitableLike<unknown>>);
  if (list.length === 0) {
    const loop = current.loop;
    if (loop === null) throw new Error("no running event loop: gather([]) has no loop to make its future on");
    const empty = new GatheringFuture<unknown[]>(loop, [], 0, returnExceptions);
    empty.setResult([]);
    return empty;
  }

  // Figure out the loop first, so that coroutines become tasks of the loop the futures use.
  let loop: AbstractEventLoop | null = current.loop;
  for (const aw of list) if (aw instanceof Future) loop ??= aw._loop;
  if (loop === null) throw new Error("no running event loop: gather() of coroutines must be called inside the loop");

  // The same awaitable passed twice is awaited once and its result reported twice.
  const seen = new Map<unknown, Future<unknown>>();
  const children: Future<unknown>[] = [];
  for (const aw of list) {
    let future = seen.get(aw);
    if (future === undefined) {
      future = ensureFuture(aw, loop);
      // Stryker disable next-line ConditionalExpression,StringLiteral: unreachable, ensureFuture(aw, loop) has already refused a future of another loop (the "refuses futures of different loops" test)
      if (future._loop !== loop) throw new RangeError("gather(aws): every future must belong to the same loop");
      seen.set(aw, future);
    }
    children.push(future);
  }

  const outer = new GatheringFuture<unknown[]>(loop, children, seen.size, returnExceptions);
  for (const child of seen.values()) child._addWaiter(outer);
  return outer;
}

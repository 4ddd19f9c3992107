import { ensureFuture } from "./ensure-future.js";
import { Future, FutureState } from "./future.js";
import type { AwaitableLike, AwaitedOf } from "./types.js";

/**
 * Protects an awaitable from cancellation (asyncio.shield): cancelling the returned
 * future — or the task waiting on it — leaves the inner work running. The inner task is
 * held by the loop like any task, so it finishes even if nobody waits on it any more.
 * @example
 * const saved = yield* shield(saveToDisk(data)); // a cancel here does not interrupt the save
 */
export function shield<A extends AwaitableLike<unknown>>(aw: A): Future<AwaitedOf<A>> {
  const inner = ensureFuture(aw) as Future<AwaitedOf<A>>;
  if (inner.done()) return inner;
  const outer = inner._loop.createFuture<AwaitedOf<A>>() as Future<AwaitedOf<A>>;
  const onInnerDone = (f: Future<AwaitedOf<A>>): void => {
    if (outer.cancelled()) {
      if (!f.cancelled()) f.exception(); // retrieved: the error has nobody else to go to
      return;
    }
    if (f.cancelled()) outer.cancel();
    else if (f._state === FutureState.FAILED) outer.setException(f.exception());
    else outer.setResult(f.result());
  };
  // The outer is done, so the inner's outcome has nowhere to go: stop listening, which leaves
  // an error the inner ends with later unretrieved, for the loop to report. (A done inner
  // has already handed its callbacks to the loop; removing from it does nothing.)
  const onOuterDone = (): void => {
    inner.removeDoneCallback(onInnerDone);
  };
  inner.addDoneCallback(onInnerDone);
  outer.addDoneCallback(onOuterDone);
  return outer;
}

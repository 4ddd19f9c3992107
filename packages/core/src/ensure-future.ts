import { isCoroutine, isPromiseLike } from "./coroutine.js";
import { Future } from "./future.js";
import { current } from "./state.js";
import type { Task } from "./task.js";
import type { AbstractEventLoop, Awaitable, Coroutine } from "./types.js";

/**
 * Turns anything awaitable into a Future of `loop` (default: the running loop): a Future
 * is returned as it is, a coroutine becomes a Task, a Promise (any thenable) is adopted —
 * which is how a coroutine waits on Promise-based code.
 * @example
 * function* readConfig(): Coroutine<string> {
 *   return yield* ensureFuture(fs.promises.readFile("config.json", "utf8"));
 * }
 */
export function ensureFuture<T>(value: Coroutine<T> | Awaitable<T> | PromiseLike<T>, loop?: AbstractEventLoop): Future<T> {
  if (value instanceof Future) {
    if (loop !== undefined && value._loop !== loop) {
      throw new RangeError("ensureFuture(future, loop): the future belongs to a different loop");
    }
    return value as Future<T>;
  }
  // The type is checked first, so that a wrong type is a TypeError even outside a loop
  // (asyncio's ensure_future raises TypeError before it looks for a loop).
  const coroutine = isCoroutine(value);
  const promise = !coroutine && isPromiseLike(value);
  if (!coroutine && !promise && (value === null || typeof value !== "object" || typeof (value as Awaitable<T>)[Symbol.iterator] !== "function")) {
    throw new TypeError(
      "ensureFuture(value): value must be a Future, a coroutine (the generator object a function* returns), an awaitable or a Promise",
    );
  }
  const target = loop ?? current.loop;
  if (target === null) {
    throw new Error("no running event loop: ensureFuture() outside a coroutine needs the loop as its second argument");
  }
  if (coroutine) return target.createTask(value as Coroutine<T>) as Task<T>;
  if (promise) return adoptPromise(value as PromiseLike<T>, target);
  return target.createTask(awaitIterable(value as Awaitable<T>)) as Task<T>;
}

function* awaitIterable<T>(awaitable: Awaitable<T>): Coroutine<T> {
  return yield* awaitable as unknown as Coroutine<T>;
}

/**
 * A Future that takes the outcome of a Promise, and the loop counts the Promise as outside
 * work until it settles. The outcome is set on the Future in the Promise's reaction:
 * JavaScript has one thread, so this is as safe as asyncio's `call_soon_threadsafe` hop
 * and a turn cheaper; an idle loop then runs its next batch from that same reaction
 * (`EventLoop._promiseResumes`), within the budget of the batch the host last started.
 * Cancelling the Future does not cancel the Promise (Promises cannot be); its outcome is
 * then dropped, and a rejection is marked handled.
 * @internal
 */
export function adoptPromise<T>(promise: PromiseLike<T>, loop: AbstractEventLoop): Future<T> {
  const future = new Future<T>(loop);
  loop.refExternal();
  // A native Promise calls back once, never from inside `then`: its reaction can be one
  // from the pool. Another thenable gets one of its own, which ignores a second call.
  // Stryker disable next-line ConditionalExpression: as false it only stops pooling (a new Reaction per Promise delivers the same outcome at the same moment); a foreign thenable taken for native is caught by the Promise-subclass test
  const native = promise instanceof NativePromise && promise.then === nativeThen;
  // Stryker disable next-line ConditionalExpression: as false it takes a new Reaction instead of a pooled one, which changes nothing but an allocation (as true it pops from an empty pool and every adoption test fails)
  const reaction = native && free.length > 0 ? (free.pop() as Reaction) : new Reaction(native);
  reaction._future = future as Future<unknown>;
  try {
    promise.then(reaction._onFulfilled, reaction._onRejected);
  } catch (error) {
    reaction._settle(false, error);
  }
  reaction._inThen = false;
  return future;
}

const NativePromise = Promise;
const nativeThen = Promise.prototype.then;

/** Reactions of settled native Promises, ready for the next adoption: no closures per Promise. */
const free: Reaction[] = [];
const FREE_MAX = 64;

/**
 * The two callbacks given to a Promise's `then`, made once per Reaction: a pooled one
 * serves one Promise after another (see `adoptPromise`).
 */
class Reaction {
  /** The future to settle (its loop is `_future._loop`); null once settled. */
  _future: Future<unknown> | null = null;
  /** True while `then` runs: a thenable that calls back at once is not a reaction. */
  _inThen = true;
  readonly _onFulfilled = (value: unknown): void => this._settle(true, value);
  readonly _onRejected = (error: unknown): void => this._settle(false, error);

  constructor(readonly _pooled: boolean) {}

  _settle(ok: boolean, value: unknown): void {
    const future = this._future;
    if (future === null) return;
    this._future = null;
    const loop = future._loop;
    const inReaction = !this._inThen;
    // Stryker disable next-line ConditionalExpression,BlockStatement: a Reaction not handed back to the pool is garbage; the next Promise gets a new one that behaves the same
    if (this._pooled) {
      this._inThen = true;
      // Stryker disable next-line ConditionalExpression,EqualityOperator: the bound only caps the memory idle Reactions hold (they hold no future); which Reaction serves a Promise is not observable
      if (free.length < FREE_MAX) free.push(this);
    }
    const wanted = !loop.isClosed() && !future.done();
    const resume = wanted && loop._promiseResumes(inReaction);
    if (wanted) {
      if (ok) future.setResult(value);
      else future.setException(value);
    }
    loop._promiseSettled(resume);
  }
}

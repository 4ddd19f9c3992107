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
 * and a turn cheaper; the Future's done callbacks still run in the loop, and an idle loop
 * is resumed from a microtask (`EventLoop._wakeFromPromise`). Cancelling the Future does
 * not cancel the Promise (Promises cannot be); its outcome is then dropped, and a
 * rejection is marked handled.
 */
function adoptPromise<T>(promise: PromiseLike<T>, loop: AbstractEventLoop): Future<T> {
  const future = new Future<T>(loop);
  loop.refExternal();
  let settled = false;
  const settle = (ok: boolean, value: unknown): void => {
    if (settled) return;
    settled = true;
    const wanted = !loop.isClosed() && !future.done();
    // First the microtask resume, so that the wake-ups below need no host round trip.
    if (wanted) loop._wakeFromPromise();
    loop.unrefExternal();
    if (wanted) deliver(future, ok, value);
  };
  try {
    promise.then(
      (value) => settle(true, value),
      (error: unknown) => settle(false, error),
    );
  } catch (error) {
    settle(false, error);
  }
  return future;
}

function deliver<T>(future: Future<T>, ok: boolean, value: unknown): void {
  if (future.done()) return;
  if (ok) future.setResult(value as T);
  else future.setException(value);
}

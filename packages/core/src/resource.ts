import type { AbstractEventLoop, Coroutine } from "./types.js";
import { CancelledError, ExceptionGroup } from "./errors.js";
import type { Future } from "./future.js";
import type { EventLoop } from "./loop.js";
import { current } from "./state.js";
import type { Task } from "./task.js";

/** A cleanup coroutine, run when the scope it was registered in ends. */
export type Cleanup = () => Coroutine<void>;

/**
 * The cleanups registered in one scope (asyncio's `AsyncExitStack`): an `exitStack` body
 * or a task group. They run when the scope ends, however it ends — return, throw or
 * cancellation — last registered first, each even if an earlier one failed.
 */
export class ExitStack {
  /** @internal */ readonly _cleanups: Cleanup[] = [];
  /** @internal The scope this one is nested in, in the same task. */ _outer: ExitStack | null = null;
  /** @internal */ _closed = false;

  /**
   * Registers `cleanup` to run when this scope ends (asyncio's `push_async_callback`).
   * @example
   * const conn = yield* connect();
   * stack.defer(function* () { yield* conn.close(); });
   */
  defer(cleanup: Cleanup): void {
    if (typeof cleanup !== "function") throw new TypeError("defer(cleanup): cleanup must be a function* () => Coroutine that releases something");
    if (this._closed) throw new Error("defer(cleanup): this scope has already ended; register cleanups while it is open");
    this._cleanups.push(cleanup);
  }

  /**
   * Acquires `resource` and keeps it until this scope ends (asyncio's `enter_async_context`):
   * its body runs in a task of its own up to `provide(value)`, this returns the value, and
   * the rest of the body (its `finally`) runs when the scope ends.
   */
  use<T>(resource: Resource<T>): Coroutine<T> {
    checkResource("use(resource)", resource);
    return useIn(this, resource);
  }

  /** @internal Runs the cleanups, newest first; returns what they threw, in order. */
  *_close(): Coroutine<unknown[]> {
    this._closed = true;
    const errors: unknown[] = [];
    const cleanups = this._cleanups;
    while (cleanups.length > 0) {
      const cleanup = cleanups.pop() as Cleanup;
      try {
        yield* cleanup();
      } catch (error) {
        errors.push(error);
      }
    }
    return errors;
  }
}

/** The innermost open scope of each task (or of code outside any task). */
const scopesByTask = new WeakMap<object, ExitStack>();
const OUTSIDE_TASKS = {};

/** @internal Opens `stack` as the innermost scope of the running task. */
export function enterScope(stack: ExitStack): void {
  const key = current.task ?? OUTSIDE_TASKS;
  stack._outer = scopesByTask.get(key) ?? null;
  scopesByTask.set(key, stack);
}

/** @internal Closes `stack` (the innermost scope) and runs its cleanups; returns their errors. */
export function* leaveScope(stack: ExitStack): Coroutine<unknown[]> {
  const key = current.task ?? OUTSIDE_TASKS;
  const innermost = scopesByTask.get(key);
  if (innermost === stack) {
    if (stack._outer === null) scopesByTask.delete(key);
    else scopesByTask.set(key, stack._outer);
  } else if (innermost !== undefined) {
    // Left out of order (scope coroutines driven by hand, interleaved): unlink it, so that
    // the scopes still open inside it lead to the one outside it, never to an ended scope.
    let inner = innermost;
    while (inner._outer !== null && inner._outer !== stack) inner = inner._outer;
    if (inner._outer === stack) inner._outer = stack._outer;
  }
  return yield* stack._close();
}

/**
 * @internal How a scope ends: the body's error (if it threw) and the cleanups' errors
 * together. A cancellation is never lost to a failing cleanup: the cleanup errors are
 * reported to the loop's exception handler and the `CancelledError` goes on.
 */
export function settleScope(loop: AbstractEventLoop | null, threw: boolean, bodyError: unknown, cleanupErrors: unknown[]): void {
  if (cleanupErrors.length === 0) {
    if (threw) throw bodyError;
    return;
  }
  if (threw && bodyError instanceof CancelledError) {
    for (const error of cleanupErrors) loop?.callExceptionHandler({ message: "a cleanup failed while its scope was being cancelled", exception: error });
    throw bodyError;
  }
  const all = threw ? [bodyError, ...cleanupErrors] : cleanupErrors;
  if (all.length === 1) throw all[0];
  throw new ExceptionGroup("errors while leaving a scope", all);
}

/**
 * Runs `body` with an exit stack (asyncio's `AsyncExitStack`, Effection's scope): cleanups
 * registered with `stack.defer(...)`, `yield* defer(...)` or `yield* use(resource)` inside
 * it run when the body ends — on return, on a throw and on cancellation — newest first.
 * A cleanup that throws does not stop the others; one error is thrown as it is, several
 * together as an `ExceptionGroup` (with the body's error first).
 * @example
 * yield* exitStack(function* (stack) {
 *   const file = yield* call(() => fs.promises.open(path));
 *   stack.defer(function* () { yield* call(() => file.close()); });
 *   yield* call(() => file.write("hello"));
 * }); // the file is closed here, even if the task was cancelled
 */
export function exitStack<T>(body: (stack: ExitStack) => Coroutine<T>): Coroutine<T> {
  if (typeof body !== "function") throw new TypeError("exitStack(body): body must be a function* (stack) => Coroutine");
  return runExitStack(body);
}

function* runExitStack<T>(body: (stack: ExitStack) => Coroutine<T>): Coroutine<T> {
  const stack = new ExitStack();
  enterScope(stack);
  let result: T | undefined;
  let threw = false;
  let bodyError: unknown;
  try {
    result = yield* body(stack);
  } catch (error) {
    threw = true;
    bodyError = error;
  }
  const errors = yield* leaveScope(stack);
  settleScope(current.loop, threw, bodyError, errors);
  return result as T;
}

function innermostScope(where: string): ExitStack {
  const stack = scopesByTask.get(current.task ?? OUTSIDE_TASKS);
  if (stack === undefined) throw new Error(`${where} must run inside exitStack(function* (stack) { … }) or a taskGroup body: that is the scope whose end runs the cleanup`);
  return stack;
}

/**
 * Registers `cleanup` in the innermost `exitStack` or `taskGroup` of the running task: it
 * runs when that scope ends, however it ends, after the group's children have finished.
 * @example
 * yield* taskGroup(function* (tg) {
 *   const server = yield* startServer(handle, "127.0.0.1", 0);
 *   yield* defer(function* () { server.close(); yield* server.waitClosed(); });
 *   tg.createTask(server.serveForever());
 * });
 */
export function defer(cleanup: Cleanup): Coroutine<void> {
  if (typeof cleanup !== "function") throw new TypeError("defer(cleanup): cleanup must be a function* () => Coroutine that releases something");
  return deferNow(cleanup);
}

// A coroutine, though registering never waits, so that it reads as a step of the task's flow.
function* deferNow(cleanup: Cleanup): Coroutine<void> {
  innermostScope("defer(cleanup)").defer(cleanup);
}

/**
 * Something acquired for the length of a scope (Effection's `resource`): a coroutine that
 * sets it up, hands it over with `yield* provide(value)`, and tears it down in its
 * `finally` once `provide` returns, which is when the scope that used it ends.
 */
export interface Resource<T> {
  /** @internal */ readonly _body: (provide: (value: T) => Coroutine<void>) => Coroutine<void>;
}

/**
 * Describes a resource: `body` acquires, `yield* provide(value)` lends the value out until
 * the scope that `use`d it ends, and `body`'s `finally` releases. Setup and teardown sit
 * together in one function, and teardown runs on every exit, cancellation included.
 * @example
 * const connection = (host: string, port: number) => resource<[StreamReader, StreamWriter]>(function* (provide) {
 *   const [reader, writer] = yield* openConnection(host, port);
 *   try {
 *     yield* provide([reader, writer]);
 *   } finally {
 *     writer.close();
 *     yield* writer.waitClosed();
 *   }
 * });
 * yield* exitStack(function* () {
 *   const [reader, writer] = yield* use(connection("127.0.0.1", 6379));
 *   // …
 * }); // closed here
 */
export function resource<T>(body: (provide: (value: T) => Coroutine<void>) => Coroutine<void>): Resource<T> {
  if (typeof body !== "function") throw new TypeError("resource(body): body must be a function* (provide) => Coroutine that calls yield* provide(value)");
  return { _body: body };
}

/** Acquires `resource` in the innermost `exitStack` or `taskGroup` of the running task (see `ExitStack.use`). */
export function use<T>(res: Resource<T>): Coroutine<T> {
  checkResource("use(resource)", res);
  return useInInnermost(res);
}

function* useInInnermost<T>(res: Resource<T>): Coroutine<T> {
  return yield* useIn(innermostScope("use(resource)"), res);
}

function checkResource(where: string, res: unknown): void {
  if (typeof res !== "object" || res === null || typeof (res as Resource<unknown>)._body !== "function") {
    throw new TypeError(`${where}: resource must be made by resource(function* (provide) { … })`);
  }
}

/**
 * Invariant: `provided` settles when the body calls provide (or ends or fails before);
 * `release` settles when the scope ends, which lets `provide` return and the body finish.
 */
function* useIn<T>(stack: ExitStack, res: Resource<T>): Coroutine<T> {
  const loop = current.loop as EventLoop | null;
  if (loop === null) throw new Error("use(resource) must run inside a coroutine on a loop");
  const provided: Future<T> = loop.createFuture<T>();
  const release: Future<void> = loop.createFuture<void>();
  provided.label = "resource provide";
  release.label = "resource release";
  let providing = false;
  function* provide(value: T): Coroutine<void> {
    if (providing) throw new Error("resource(body): provide(value) may be called once");
    providing = true;
    // The user may have been cancelled while waiting for the value: then nobody takes it.
    if (!provided.done()) provided.setResult(value);
    yield* release;
  }
  function* lifetime(): Coroutine<void> {
    try {
      yield* res._body(provide);
    } catch (error) {
      if (!provided.done()) {
        provided.setException(error);
        return;
      }
      throw error;
    }
    if (!provided.done()) provided.setException(new Error("resource(body): the body ended without calling provide(value)"));
  }
  const task: Task<void> = loop.createTask(lifetime(), { name: "resource" });
  stack.defer(function* () {
    if (!release.done()) release.setResult(undefined);
    yield* task;
  });
  return yield* provided;
}

/**
 * Test-local helpers for @loop/core. Core cannot use @loop/testing or @loop/timers (they
 * depend on core), so the few tools its tests need live here: a virtual-time poller, a
 * `sleep` built from `callLater`, a turn counter and a poller wrapper that records what
 * the loop asks of its poller.
 */
import {
  EventLoop,
  createTask,
  getRunningLoop,
  run,
  subscribe,
  type Awaitable,
  type Stream,
  type Subscription,
  type Coroutine,
  type Future,
  type Poller,
  type LoopDriver,
} from "../src/index.js";

/**
 * A poller whose clock only moves when the loop has nothing ready: it then jumps straight
 * to the next timer, so timer tests run instantly and deterministically. Each turn is
 * started from a macrotask (setImmediate), so Promise reactions run between turns, as
 * with the default poller. While outside work is counted (`loop.refExternal()`), the
 * clock does not jump: the poller waits for the outside work to wake the loop.
 */
export class VirtualPoller implements Poller {
  readonly name = "virtual-test";
  /** The virtual clock, in ms. */
  now = 0;
  private _driver: LoopDriver | null = null;
  /** The pending wait: a timeout, null (until woken), or undefined (none). */
  private _timeout: number | null | undefined = undefined;
  private _woken = false;
  private _queued = false;
  private _closed = false;

  /** How many turns the loop has run. */
  get turns(): number {
    return this._driver === null ? 0 : this._driver.loop.turnCount;
  }

  attach(driver: LoopDriver): void {
    this._driver = driver;
  }

  time(): number {
    return this.now;
  }

  wait(timeoutMs: number | null): void {
    this._timeout = timeoutMs;
    if (timeoutMs !== null) this._queue();
  }

  wakeup(): void {
    this._woken = true;
    this._queue();
  }

  close(): void {
    this._closed = true;
  }

  private _queue(): void {
    if (this._queued || this._closed) return;
    this._queued = true;
    setImmediate(this._drive);
  }

  private readonly _drive = (): void => {
    this._queued = false;
    const driver = this._driver;
    if (this._closed || driver === null) return;
    if (!this._woken) {
      const timeout = this._timeout;
      // Idle (or only an infinitely far timer): only a wakeup ends the wait.
      if (timeout === null || timeout === undefined || timeout === Infinity) return;
      if (timeout > 0) {
        if (driver.externalPending() > 0) {
          // Real outside work may still wake the loop: let real time pass, then look again.
          this._queued = true;
          setTimeout(this._drive, 1);
          return;
        }
        this.now += timeout;
      }
    }
    this._woken = false;
    this._timeout = undefined;
    driver.resume();
  };
}

/** Wraps a poller and records every wait the loop asks for. */
export class RecordingPoller implements Poller {
  readonly name = "recording";
  readonly requests: (number | null)[] = [];
  wakeups = 0;
  constructor(readonly inner: Poller) {}
  attach(driver: LoopDriver): void {
    this.inner.attach(driver);
  }
  time(): number {
    return this.inner.time();
  }
  wait(timeoutMs: number | null): boolean | void {
    this.requests.push(timeoutMs);
    return this.inner.wait(timeoutMs);
  }
  wakeup(): void {
    this.wakeups++;
    this.inner.wakeup();
  }
  close(): void {
    this.inner.close();
  }
}

/** A loop on a fresh virtual-time poller. */
export function virtualLoop(): { loop: EventLoop; poller: VirtualPoller } {
  const poller = new VirtualPoller();
  return { loop: new EventLoop({ poller }), poller };
}

/** `run` on a fresh virtual-time poller. */
export function runVirtual<T>(main: () => Coroutine<T>): Promise<T> {
  return run(main, { poller: new VirtualPoller() });
}

function resolveTimer(future: Future<void>): void {
  if (!future.done()) future.setResult(undefined);
}

/** Suspends the current task for `ms` ms of loop time (callLater + a future). */
export function* sleep(ms: number): Coroutine<void> {
  const loop = getRunningLoop();
  const future = loop.createFuture<void>();
  const timer = loop.callLater(ms, resolveTimer, future);
  try {
    yield* future;
  } finally {
    timer.cancel();
  }
}

/** The number of turns the running loop's virtual poller has started so far. */
export function turn(): number {
  const poller = getRunningLoop().poller;
  if (!(poller instanceof VirtualPoller)) throw new Error("turn() needs a loop on a VirtualPoller");
  return poller.turns;
}

/** Lets the loop turn `n` times (bare yields). */
export function* turns(n: number): Coroutine<void> {
  for (let i = 0; i < n; i++) yield;
}

/** Resolves after the host has run its pending macrotasks once (no timing involved). */
export function macrotask(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A task body that never finishes on its own. */
export function* forever(): Coroutine<never> {
  const loop = getRunningLoop();
  yield* loop.createFuture<never>();
  throw new Error("unreachable");
}

/** The error a coroutine throws, or a failure if it does not throw. */
export function* catching(body: Awaitable<unknown>): Coroutine<unknown> {
  try {
    yield* body;
  } catch (error) {
    return error;
  }
  throw new Error("expected the coroutine to throw");
}

/**
 * Subscribes to `stream`, lets a consumer task wait in `next()` for `settle` turns, then
 * releases the subscription from this task: what the consumer's `next()` gave, in order
 * with the release (`["released", "consumer got done=true"]` when the release ends it).
 */
export function* releasedWhileWaiting<T>(stream: Stream<T>, settle = 2): Coroutine<string[]> {
  const log: string[] = [];
  const sub = yield* subscribe(stream);
  const consumer = createTask(
    (function* (): Coroutine<void> {
      const r = yield* sub.next();
      log.push(`consumer got done=${String(r.done)}`);
    })(),
  );
  yield* turns(settle);
  sub.return();
  log.push("released");
  yield* consumer;
  return log;
}

/**
 * A source whose values are ready at once (a buffered source: it has `_poll`, the fast path
 * `each` and the combinators take). It logs every `_poll()`, `next()` and `return()` call,
 * so a test sees which path a pull took and that a released source is never asked again.
 * Like every source, it releases once however often `return()` is called: "return" is logged once.
 */
export function ready(values: number[], log: string[]): Stream<number> {
  return {
    subscribe(): Subscription<number> {
      let i = 0;
      let released = false;
      const pull = (): IteratorResult<number, undefined> =>
        i < values.length ? { done: false, value: values[i++] as number } : { done: true, value: undefined };
      return {
        _poll() {
          log.push("poll");
          return pull();
        },
        *next() {
          log.push("next");
          return pull();
        },
        return() {
          if (!released) log.push("return");
          released = true;
        },
      } as Subscription<number>;
    },
  };
}

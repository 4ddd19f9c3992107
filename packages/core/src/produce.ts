import type { Coroutine } from "./types.js";
import type { Future } from "./future.js";
import type { EventLoop } from "./loop.js";
import { RingQueue } from "./ring-queue.js";
import { current } from "./state.js";
import { DONE, type Stream, type Subscription } from "./stream.js";
import type { Task } from "./task.js";

/** Options of `produce`. */
export interface ProduceOptions {
  /**
   * How many values the producer may send ahead of the consumer (default 0: `send` returns
   * once the consumer has taken the value, trio's `open_memory_channel(0)`).
   */
  buffer?: number;
}

/**
 * A stream whose values a coroutine sends: each subscription runs `body` as a task of its
 * own, and `yield* send(value)` waits until the consumer has room for the value (pull-based:
 * the producer runs at most `buffer` values ahead). The stream ends when `body` returns,
 * fails with what `body` throws, and when the consumer releases it the producing task is
 * cancelled (its `finally` blocks run). A generator-backed producer: Effection's `stream`
 * of a channel, trio's memory channel with one sender — a `send()` while another one waits
 * (from a second task) throws an `Error`.
 * @example
 * const ticks = produce<number>(function* (send) {
 *   for (let i = 0; ; i++) {
 *     yield* sleep(1000);
 *     yield* send(i);
 *   }
 * });
 * for (const n of yield* each(take(ticks, 3))) { console.log(n); yield* each.next(); }
 */
export function produce<T>(body: (send: (value: T) => Coroutine<void>) => Coroutine<void>, opts?: ProduceOptions): Stream<T> {
  if (typeof body !== "function") throw new TypeError("produce(body): body must be a function* (send) => Coroutine that calls yield* send(value)");
  const buffer = opts?.buffer ?? 0;
  if (!Number.isInteger(buffer) || buffer < 0) {
    throw new RangeError(`produce(body, { buffer }): buffer must be an integer >= 0, got ${String(buffer)}`);
  }
  return { subscribe: () => new Production(body, buffer) };
}

/**
 * One subscription of a `produce` stream. Invariant: `values` holds what was sent and not
 * yet taken, at most `buffer`; a producer that finds it full leaves its value in `pending`
 * (`hasPending`) and sleeps on `producer` until the consumer takes a value: the consumer
 * takes `values` first, then the pending value itself, and a producer that wakes with its
 * value still pending moves it into `values`. So a producer cancelled while it waits
 * withdraws a value nobody took (as asyncio's `Queue.put` does not put). `consumer` is the
 * future a consumer waiting for a value sleeps on; `ended` is set when the body returned
 * or threw (then `error` holds what it threw).
 */
class Production<T> implements Subscription<T> {
  readonly _loop: EventLoop;
  readonly _buffer: number;
  // Small segments: `buffer` is usually small, and the queue grows only as far as it is.
  readonly _values = new RingQueue<T>(16);
  _hasPending = false;
  _pending: T | undefined = undefined;
  _consumer: Future<void> | null = null;
  _producer: Future<void> | null = null;
  _ended = false;
  _failed = false;
  _error: unknown = undefined;
  _released = false;
  _task: Task<void>;

  constructor(body: (send: (value: T) => Coroutine<void>) => Coroutine<void>, buffer: number) {
    const loop = current.loop as EventLoop | null;
    if (loop === null) throw new Error("a produce() stream must be subscribed inside a coroutine running on a loop");
    this._loop = loop;
    this._buffer = buffer;
    const send = (value: T): Coroutine<void> => this._send(value);
    this._task = loop.createTask(this._run(body, send), { name: "produce" });
  }

  *_run(body: (send: (value: T) => Coroutine<void>) => Coroutine<void>, send: (value: T) => Coroutine<void>): Coroutine<void> {
    try {
      yield* body(send);
    } catch (error) {
      // The consumer's next() throws it. After a release (whose cancellation this may be)
      // next() answers done before it looks here.
      this._failed = true;
      this._error = error;
    } finally {
      this._ended = true;
      this._wakeConsumer();
    }
  }

  *_send(value: T): Coroutine<void> {
    if (this._ended) throw new Error("produce(): send() was called after the producer's body ended");
    // One value may wait at a time (one sender, as trio's channel with one sender): a second
    // concurrent send() would have nowhere to wait, so it fails loudly instead.
    if (this._producer !== null) throw new Error("produce(): send() was called while another send() was waiting; send from one task at a time");
    if (this._values.length < this._buffer) {
      this._values.push(value);
      this._wakeConsumer();
      return;
    }
    this._hasPending = true;
    this._pending = value;
    this._wakeConsumer();
    try {
      yield* (this._producer = this._loop.createFuture<void>());
    } catch (error) {
      // Cancelled with the value not taken: withdraw it, so that it is not consumed after
      // the producer was told it failed to send. (Taken already: this changes nothing.)
      this._hasPending = false;
      this._pending = undefined;
      throw error;
    } finally {
      this._producer = null;
    }
    // The consumer made room: the value joins the buffer, unless it was taken meanwhile.
    if (this._hasPending) {
      this._hasPending = false;
      this._values.push(this._pending as T);
      this._pending = undefined;
    }
  }

  /** The fast path of `each`: a value already sent. */
  _poll(): IteratorResult<T, undefined> | undefined {
    if (this._released) return DONE;
    let value: T;
    if (this._values.length > 0) {
      value = this._values.shift();
    } else if (this._hasPending) {
      value = this._pending as T;
      this._hasPending = false;
      this._pending = undefined;
    } else {
      return undefined;
    }
    const producer = this._producer;
    if (producer !== null && !producer.done()) producer.setResult(undefined);
    return { done: false, value };
  }

  *next(): Coroutine<IteratorResult<T, undefined>> {
    for (;;) {
      const ready = this._poll();
      if (ready !== undefined) return ready;
      if (this._ended) {
        this._release();
        if (this._failed) {
          // Released above: later pulls answer done, so only the reference is dropped.
          const error = this._error;
          this._error = undefined;
          throw error;
        }
        return DONE;
      }
      const waiter = (this._consumer = this._loop.createFuture<void>());
      try {
        yield* waiter;
        // Stryker disable next-line BlockStatement: the future is done once yield* ends (set or cancelled), and _wakeConsumer skips a done one; clearing only drops the reference
      } finally {
        this._consumer = null;
      }
    }
  }

  return(): void {
    this._release();
  }

  _release(): void {
    if (this._released) return;
    this._released = true;
    // Values sent and not taken are dropped; a pending one is withdrawn by the producer's
    // cancellation (a producer waits in send() only while its task runs).
    this._values.clear();
    // Stryker disable next-line ConditionalExpression: cancel() on a done task returns false and changes nothing; the check only skips the call
    if (!this._task.done()) this._task.cancel("the consumer released the stream");
  }

  _wakeConsumer(): void {
    const consumer = this._consumer;
    if (consumer !== null && !consumer.done()) consumer.setResult(undefined);
  }
}

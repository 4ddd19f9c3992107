/**
 * The exceptions of @loop/sync, asyncio's names. Each sets `name` so that stack traces
 * and the loop's exception handler print the class.
 */

/** `getNowait()` on a queue with nothing to take (asyncio.QueueEmpty). */
export class QueueEmpty extends Error {
  constructor(message = "the queue is empty") {
    super(message);
    this.name = "QueueEmpty";
  }
}

/** `putNowait()` on a queue with no room (asyncio.QueueFull). */
export class QueueFull extends Error {
  constructor(message = "the queue is full") {
    super(message);
    this.name = "QueueFull";
  }
}

/** A put on a queue that was shut down, or a get on one that was shut down and drained (asyncio.QueueShutDown, 3.13). */
export class QueueShutDown extends Error {
  constructor(message = "the queue was shut down") {
    super(message);
    this.name = "QueueShutDown";
  }
}

/** `Barrier.wait()` on a barrier that was aborted, or reset while the task waited (asyncio.BrokenBarrierError). */
export class BrokenBarrierError extends Error {
  constructor(message = "the barrier is broken") {
    super(message);
    this.name = "BrokenBarrierError";
  }
}

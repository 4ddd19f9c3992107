import { once } from "node:events";
import type { Worker } from "node:worker_threads";
import { DefaultPoller, ensureFuture, type Coroutine, type LoopDriver } from "@loop/core";

/** The module of worker-side test functions (plain JavaScript: workers load it with Node itself). */
export const jobs = new URL("./fixtures/jobs.mjs", import.meta.url);

/** The default poller, keeping the driver it is attached to so tests can read `externalPending()`. */
export class RecordingPoller extends DefaultPoller {
  host: LoopDriver | null = null;

  override attach(host: LoopDriver): void {
    this.host = host;
    super.attach(host);
  }

  /** Operations outside the loop it counts now (promises, worker jobs). */
  externalPending(): number {
    return this.host?.externalPending() ?? 0;
  }
}

/**
 * Shared state between a test and its worker jobs: `block`/`spin` set slot 0 when they
 * start, `block` returns once slot 1 is set, `mark` sets the slot it is given.
 */
export class Gate {
  readonly shared = new SharedArrayBuffer(16);
  readonly state = new Int32Array(this.shared);

  /** Waits, without blocking the loop, until the job has started. */
  *started(): Coroutine<void> {
    const wait = (Atomics as unknown as AtomicsWithWaitAsync).waitAsync(this.state, 0, 0);
    if (wait.async) yield* ensureFuture(wait.value);
  }

  /** Lets a `block` job return. */
  release(): void {
    Atomics.store(this.state, 1, 1);
    Atomics.notify(this.state, 1);
  }

  marked(index: number): boolean {
    return Atomics.load(this.state, index) === 1;
  }
}

interface AtomicsWithWaitAsync {
  waitAsync(array: Int32Array, index: number, value: number): { async: false; value: string } | { async: true; value: Promise<string> };
}

/** Resolves when every given worker thread has exited (at once for those already gone). */
export async function allExited(workers: readonly Worker[]): Promise<void> {
  await Promise.all(workers.map((w) => (w.threadId === -1 ? undefined : once(w, "exit"))));
}

import type { AbstractTask, TaskOrder } from "@loop/core";

/**
 * A task-order hook (see `EventLoop.setTaskOrder`) that shuffles the task steps of each
 * turn with a Fisher–Yates shuffle driven by a small seeded generator (mulberry32): the
 * same seed gives the same sequence of orders, so a failing order can be replayed.
 * @example
 * loop.setTaskOrder(seededShuffle(42));
 */
export function seededShuffle(seed: number): TaskOrder {
  if (typeof seed !== "number" || !Number.isFinite(seed)) {
    throw new RangeError(`seededShuffle(seed): seed must be a finite number, got ${String(seed)}`);
  }
  const random = mulberry32(seed);
  return (tasks: AbstractTask<unknown>[]): void => {
    for (let i = tasks.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      const t = tasks[i] as AbstractTask<unknown>;
      tasks[i] = tasks[j] as AbstractTask<unknown>;
      tasks[j] = t;
    }
  };
}

/** @internal mulberry32: a tiny, fast 32-bit generator, plenty for picking orders (and the in-memory network's datagram fates). */
export function mulberry32(seed: number): () => number {
  let a = Math.trunc(seed) >>> 0 || 0x9e3779b9;
  return (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

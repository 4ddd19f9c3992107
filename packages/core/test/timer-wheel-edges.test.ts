import { describe, expect, test } from "vitest";
import { TimerHandle } from "../src/index.js";
import { RingQueue } from "../src/ring-queue.js";
import { TimerWheel, type TimerItem } from "../src/timer-wheel.js";
import type { Callback } from "../src/types.js";

// Timer order inside one millisecond when the deadlines crowd into a sliver of it: the
// wheel's counting pass puts them all in one sub-range, which it then sorts by merging
// runs (more than 16 timers) — the path a spread of deadlines never reaches.

interface Probe {
  readonly handle: TimerHandle;
  readonly when: number;
  readonly sequence: number;
}

function newWheel(): { wheel: TimerWheel; ready: RingQueue<TimerItem | null> } {
  const ready = new RingQueue<TimerItem | null>();
  return { wheel: new TimerWheel(ready), ready };
}

/** A deterministic shuffle (a linear congruential generator), so a failure reproduces. */
function shuffled(n: number, seed: number): number[] {
  const out = Array.from({ length: n }, (_, i) => i);
  let state = seed >>> 0;
  for (let i = n - 1; i > 0; i--) {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Schedules one timer per deadline, in the order given, and returns them as the model sees them. */
function schedule(wheel: TimerWheel, deadlines: number[], owners: Map<Callback, Probe>): Probe[] {
  return deadlines.map((when, sequence) => {
    const callback = (): void => {};
    const handle = new TimerHandle(callback);
    wheel.push(callback, when, handle);
    const probe = { handle, when, sequence };
    owners.set(callback, probe);
    return probe;
  });
}

/** By deadline, equal deadlines in scheduling order: the order the loop must run them in. */
const expected = (probes: Probe[]): number[] =>
  probes
    .filter((p) => !p.handle.cancelled())
    .sort((a, b) => a.when - b.when || a.sequence - b.sequence)
    .map((p) => p.sequence);

function fire(wheel: TimerWheel, ready: RingQueue<TimerItem | null>, now: number, owners: Map<Callback, Probe>): number[] {
  const count = wheel.popDue(now);
  const out: number[] = [];
  while (ready.length > 0) {
    const item = ready.shift();
    if (item !== null) out.push(owners.get(item as Callback)!.sequence);
  }
  expect(out.length).toBe(count);
  return out;
}

describe("TimerWheel: timers crowded into a sliver of one millisecond", () => {
  // Sizes around the merge widths (16, 32, 64, …), odd tails, and one larger than the
  // sort's scratch space (1024), which must grow.
  test.each([17, 31, 33, 48, 100, 257, 1500])("%i timers scheduled out of order fire by deadline", (n) => {
    const { wheel, ready } = newWheel();
    const owners = new Map<Callback, Probe>();
    const base = 7;
    const probes = schedule(wheel, shuffled(n, n * 7919).map((rank) => base + 0.5 + rank * 2 ** -30), owners);
    expect(fire(wheel, ready, base + 1, owners)).toEqual(expected(probes));
    expect(wheel.size).toBe(0);
  });

  test.each([40, 100, 1100])("%i timers with repeated deadlines fire by deadline, equal ones in scheduling order", (n) => {
    const { wheel, ready } = newWheel();
    const owners = new Map<Callback, Probe>();
    const base = -3;
    const probes = schedule(wheel, shuffled(n, n + 17).map((rank) => base + 0.25 + (rank % Math.ceil(n / 3)) * 2 ** -32), owners);
    expect(fire(wheel, ready, base + 1, owners)).toEqual(expected(probes));
  });

  test("cancelled timers among crowded ones are skipped and the rest keep their order", () => {
    const { wheel, ready } = newWheel();
    const owners = new Map<Callback, Probe>();
    const probes = schedule(wheel, shuffled(90, 5).map((rank) => 12.75 + rank * 2 ** -28), owners);
    for (let i = 0; i < probes.length; i += 4) probes[i]!.handle.cancel();
    expect(fire(wheel, ready, 13, owners)).toEqual(expected(probes));
    expect(wheel.size).toBe(0);
  });

  test("crowded timers spread over the millisecond's sub-ranges keep order within and across them", () => {
    const { wheel, ready } = newWheel();
    const owners = new Map<Callback, Probe>();
    // 64 sub-ranges for 100 timers; three crowds in three of them, each over 16 timers.
    const deadlines = shuffled(100, 99).map((rank) => 40 + [0.1, 0.5, 0.9][rank % 3]! + rank * 2 ** -30);
    const probes = schedule(wheel, deadlines, owners);
    expect(fire(wheel, ready, 40.5, owners)).toEqual(expected(probes).filter((s) => probes[s]!.when <= 40.5));
    expect(fire(wheel, ready, 41, owners)).toEqual(expected(probes).filter((s) => probes[s]!.when > 40.5));
  });

  test("a crowd followed by another crowd in the next sub-range: merging the first leaves the second intact", () => {
    // 80 timers: the second merge pass (width 32) has a short tail run; a merge that ran
    // past the end of its range would overwrite the next crowd's timers.
    for (const [first, second] of [[80, 40], [48, 17], [112, 30]] as const) {
      const { wheel, ready } = newWheel();
      const owners = new Map<Callback, Probe>();
      const ranks = shuffled(first + second, first);
      const deadlines = ranks.map((rank) => 5 + (rank < first ? 0.125 : 0.625) + rank * 2 ** -30);
      const probes = schedule(wheel, deadlines, owners);
      expect(fire(wheel, ready, 6, owners)).toEqual(expected(probes));
    }
  });

  test("a crowded bucket sorted after a spread-out one fires by deadline (the sort's scratch is reused)", () => {
    const { wheel, ready } = newWheel();
    const owners = new Map<Callback, Probe>();
    const spread = schedule(wheel, shuffled(300, 3).map((rank) => 100 + rank / 300), owners);
    expect(fire(wheel, ready, 101, owners)).toEqual(expected(spread));
    const crowd = schedule(wheel, shuffled(200, 4).map((rank) => 101 + 0.875 + rank * 2 ** -30), owners);
    expect(fire(wheel, ready, 102, owners)).toEqual(expected(crowd));
  });

  // Compaction costs the bucket's length, so it must wait until the cancelled positions
  // outnumber the live ones twice (amortised O(1) per cancel): a handle's block tells
  // whether its bucket was compacted (the old block leaves the bucket).
  test("an unsorted bucket compacts exactly when its cancelled timers exceed twice its live ones", () => {
    const { wheel, ready } = newWheel();
    const owners = new Map<Callback, Probe>();
    const probes = schedule(wheel, Array.from({ length: 9 }, (_, i) => 503 + i / 16), owners);
    const keeper = probes[8]!.handle;
    const before = keeper._block!;
    for (let i = 0; i < 6; i++) probes[i]!.handle.cancel();
    // 6 cancelled, 3 live: not more than twice, nothing moves.
    expect(keeper._block).toBe(before);
    expect(before._bucket).not.toBe(null);
    probes[6]!.handle.cancel();
    // 7 cancelled, 2 live: compacted into a new block; the old one left the bucket.
    expect(before._bucket).toBe(null);
    expect(keeper.when()).toBe(503 + 8 / 16);
    expect(fire(wheel, ready, 504, owners)).toEqual([7, 8]);
  });

  test("a sorted bucket compacts exactly when its cancelled timers are the majority of those not yet fired", () => {
    const { wheel, ready } = newWheel();
    const owners = new Map<Callback, Probe>();
    const probes = schedule(wheel, Array.from({ length: 10 }, (_, i) => 3 + i / 16), owners);
    // Fires the first two: the sorted bucket's head moves past them, 8 remain.
    expect(fire(wheel, ready, 3 + 1 / 16, owners)).toEqual([0, 1]);
    const bucket = probes[9]!.handle._block!._bucket!;
    expect(bucket._head).toBe(2);
    for (let i = 2; i < 6; i++) probes[i]!.handle.cancel();
    // 4 of the 8 cancelled: not the majority, kept.
    expect(bucket._sortedPos.length).toBe(10);
    probes[6]!.handle.cancel();
    // 5 of 8: compacted to the 3 live ones.
    expect(bucket._sortedPos.length).toBe(3);
    expect(bucket._head).toBe(0);
    expect(bucket._dead).toBe(0);
    expect(fire(wheel, ready, 4, owners)).toEqual([7, 8, 9]);
  });

  test("cancelling every timer of an unsorted bucket lets its blocks go, and a later timer starts a new one", () => {
    const { wheel, ready } = newWheel();
    const owners = new Map<Callback, Probe>();
    const probes = schedule(wheel, [900.25, 900.5, 900.75], owners);
    const bucket = probes[0]!.handle._block!._bucket!;
    for (const p of probes) p.handle.cancel();
    expect(bucket._blocks).toEqual([]);
    expect(bucket._dead).toBe(0);
    const later = schedule(wheel, [900.1], owners);
    expect(later[0]!.handle._block!._bucket).toBe(bucket);
    expect(fire(wheel, ready, 901, owners)).toEqual([0]);
  });

  test("a bucket grows by blocks of 8, then each twice the one before, up to 256 timers a block", () => {
    const { wheel, ready } = newWheel();
    const owners = new Map<Callback, Probe>();
    const sizes = [8, 16, 32, 64, 128, 256, 256];
    const total = sizes.reduce((a, b) => a + b, 0) + 1;
    const probes = schedule(wheel, Array.from({ length: total }, (_, i) => 700 + i / (2 * total)), owners);
    const bucket = probes[0]!.handle._block!._bucket!;
    expect(bucket._blocks.map((b) => b._whens.length)).toEqual([...sizes, 256]);
    expect(bucket._blocks.map((b) => b._length)).toEqual([...sizes, 1]);
    expect(fire(wheel, ready, 701, owners)).toEqual(probes.map((p) => p.sequence));
  });

  // Firing skips the cancelled #1 between #0 and #2; peeking skips #0 and #1 at the head.
  test.each([
    ["firing", (wheel: TimerWheel, ready: RingQueue<TimerItem | null>, owners: Map<Callback, Probe>) => expect(fire(wheel, ready, 3 + 2 / 16, owners)).toEqual([0, 2])],
    ["peeking", (wheel: TimerWheel) => expect(wheel.nextDeadline()).toBe(3 + 2 / 16)],
  ] as const)("cancelled timers skipped by %s no longer count towards compaction", (how, skip) => {
    const { wheel, ready } = newWheel();
    const owners = new Map<Callback, Probe>();
    const probes = schedule(wheel, Array.from({ length: 10 }, (_, i) => 3 + i / 16), owners);
    wheel.nextDeadline(); // sorts the front bucket
    const bucket = probes[9]!.handle._block!._bucket!;
    const peeking = how === "peeking";
    if (peeking) probes[0]!.handle.cancel();
    probes[1]!.handle.cancel();
    skip(wheel, ready, owners);
    expect(bucket._dead).toBe(0);
    // 7 or 8 remain, none cancelled: three cancels are not yet the majority.
    for (let i = 3; i < 6; i++) probes[i]!.handle.cancel();
    expect(bucket._sortedPos.length).toBe(10);
    expect(fire(wheel, ready, 4, owners)).toEqual(peeking ? [2, 6, 7, 8, 9] : [6, 7, 8, 9]);
  });
});

import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { TimerHandle } from "../src/index.js";
import { RingQueue } from "../src/ring-queue.js";
import { TimerWheel, isScheduled, locate, type TimerBucket, type TimerItem } from "../src/timer-wheel.js";
import type { Callback } from "../src/types.js";
import { propertyRuns } from "./property-runs.js";

// The model's tie-break. The wheel keeps no sequence: its scheduling order is the order of
// `push`, so every test pushes its timers in the order of the sequence it gives them here.
const sequences = new WeakMap<TimerHandle, number>();
// The model's deadlines: a handle learns its own from the wheel when it is pushed.
const deadlines = new WeakMap<TimerHandle, number>();
// The wheel keeps each timer's callback, not its handle: each test timer has its own.
const owners = new Map<Callback, TimerHandle>();
const readyQueues = new WeakMap<TimerWheel, RingQueue<TimerItem | null>>();

function newWheel(): TimerWheel {
  const ready = new RingQueue<TimerItem | null>();
  const wheel = new TimerWheel(ready);
  readyQueues.set(wheel, ready);
  return wheel;
}

function timer(when: number, sequence: number): TimerHandle {
  const callback = (): void => {};
  const handle = new TimerHandle(callback);
  owners.set(callback, handle);
  sequences.set(handle, sequence);
  deadlines.set(handle, when);
  return handle;
}

const whenOf = (handle: TimerHandle): number => deadlines.get(handle)!;

function push(wheel: TimerWheel, handle: TimerHandle): void {
  wheel.push(handle._callback!, whenOf(handle), handle);
  expect(handle.when()).toBe(whenOf(handle));
}

const scheduled = (handle: TimerHandle): boolean => isScheduled(locate(handle)._items[handle._pos]!);

/** The positions a bucket holds, live and cancelled. */
function held(bucket: TimerBucket): number {
  if (bucket._sortedBlocks !== null) return bucket._sortedPos.length - bucket._head;
  return bucket._blocks.reduce((n, block) => n + block._length, 0);
}

/** The scheduled timers of a sorted bucket, in its order. */
function sortedHandles(bucket: TimerBucket): TimerHandle[] {
  const out: TimerHandle[] = [];
  for (let i = bucket._head; i < bucket._sortedPos.length; i++) {
    const item = bucket._sortedBlocks![i]!._items[bucket._sortedPos[i]!]!;
    if (isScheduled(item)) out.push(owners.get(item as Callback)!);
  }
  return out;
}

const bucketOf = (handle: TimerHandle): TimerBucket => locate(handle)._bucket!;

const byDeadlineThenSequence = (a: TimerHandle, b: TimerHandle): number =>
  whenOf(a) === whenOf(b) ? sequences.get(a)! - sequences.get(b)! : whenOf(a) < whenOf(b) ? -1 : 1;

/** Everything due at `now`, in the order the wheel must hand it out. */
function takeDue(model: TimerHandle[], now: number): TimerHandle[] {
  model.sort(byDeadlineThenSequence);
  let n = 0;
  while (n < model.length && whenOf(model[n] as TimerHandle) <= now) n++;
  return model.splice(0, n);
}

function popDue(wheel: TimerWheel, now: number): TimerHandle[] {
  const ready = readyQueues.get(wheel)!;
  const count = wheel.popDue(now);
  const out: TimerHandle[] = [];
  while (ready.length > 0) out.push(owners.get(ready.shift() as Callback)!);
  expect(count).toBe(out.length);
  return out;
}

type Op = { kind: "push"; delay: number } | { kind: "cancel"; index: number } | { kind: "advance"; by: number } | { kind: "peek" };

// Delays from sub-millisecond to years (buckets in slots and in the overflow map), equal
// deadlines, past deadlines, and fractions; clock steps from none to hours.
const delay = fc.oneof(
  fc.integer({ min: -5, max: 20 }),
  fc.integer({ min: 0, max: 200 }).map((n) => n / 8),
  fc.double({ min: -100, max: 100_000, noNaN: true }),
  fc.constantFrom(0, 63.999, 64, 4095.5, 4096, 262_144, 3_600_000, 86_400_000 * 365, Infinity, -Infinity),
);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: delay.map((d) => ({ kind: "push" as const, delay: d })) },
  { weight: 3, arbitrary: fc.nat().map((index) => ({ kind: "cancel" as const, index })) },
  {
    weight: 3,
    arbitrary: fc.oneof(fc.integer({ min: 0, max: 70 }), fc.double({ min: 0, max: 5000, noNaN: true }), fc.constantFrom(3_600_000, 1e12)).map((by) => ({ kind: "advance" as const, by })),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "peek" as const }) },
);

describe("TimerWheel", () => {
  test("hands out exactly what a sorted list would, under random push/cancel/advance", () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: -1000, max: 1e6 }), fc.double({ min: -1e6, max: 1e9, noNaN: true })), fc.array(op, { maxLength: 300 }), (start, ops) => {
        const wheel = newWheel();
        const model: TimerHandle[] = [];
        let now = start;
        let sequence = 0;
        expect(popDue(wheel, now)).toEqual([]);
        for (const o of ops) {
          if (o.kind === "push") {
            const h = timer(now + o.delay, sequence++);
            push(wheel, h);
            model.push(h);
          } else if (o.kind === "cancel") {
            if (model.length === 0) continue;
            const [h] = model.splice(o.index % model.length, 1);
            h!.cancel();
            expect(scheduled(h!)).toBe(false);
            expect(h!.cancelled()).toBe(true);
            expect(h!.when()).toBe(whenOf(h!));
            // Cancels compact buckets, which moves timers: every handle still finds its own.
            for (const m of model) {
              expect(scheduled(m)).toBe(true);
              expect(m.when()).toBe(whenOf(m));
            }
          } else if (o.kind === "advance") {
            now += o.by;
            const due = takeDue(model, now);
            expect(popDue(wheel, now)).toEqual(due);
            for (const h of due) {
              expect(scheduled(h)).toBe(false);
              expect(h.cancelled()).toBe(false);
              expect(h.when()).toBe(whenOf(h));
            }
          } else {
            model.sort(byDeadlineThenSequence);
            expect(wheel.nextDeadline()).toBe(model.length === 0 ? Infinity : whenOf(model[0]!));
          }
          expect(wheel.size).toBe(model.length);
        }
        model.sort(byDeadlineThenSequence);
        const finite = model.filter((h) => whenOf(h) !== Infinity);
        expect(popDue(wheel, Number.MAX_VALUE)).toEqual(finite);
        expect(wheel.size).toBe(model.length - finite.length);
        expect(wheel.nextDeadline()).toBe(Infinity);
      }),
      { numRuns: propertyRuns(500) },
    );
  });

  test("cancels while the front bucket is being drained", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 7 }), { minLength: 1, maxLength: 60 }), fc.array(fc.nat(), { maxLength: 30 }), (eighths, cancels) => {
        // Every deadline inside one 1 ms bucket: it is sorted at the first popDue, then cancelled into.
        const wheel = newWheel();
        const hs = eighths.map((e, i) => timer(10 + e / 8, i));
        for (const h of hs) push(wheel, h);
        const first = popDue(wheel, 10);
        const model = hs.filter((h) => !first.includes(h));
        for (const c of cancels) {
          if (model.length === 0) break;
          const [h] = model.splice(c % model.length, 1);
          h!.cancel();
          h!.cancel();
        }
        expect(wheel.size).toBe(model.length);
        const late = timer(10.5, hs.length);
        push(wheel, late);
        model.push(late);
        model.sort(byDeadlineThenSequence);
        expect(wheel.nextDeadline()).toBe((model[0] === undefined ? undefined : whenOf(model[0])));
        expect(popDue(wheel, 11)).toEqual(model);
        expect(wheel.size).toBe(0);
      }),
      { numRuns: propertyRuns(300) },
    );
  });

  test("equal deadlines leave in scheduling order, also when added to the front bucket after it was sorted", () => {
    const wheel = newWheel();
    const a = timer(100, 0);
    const c = timer(100.5, 1);
    push(wheel, a);
    push(wheel, c);
    expect(wheel.nextDeadline()).toBe(100); // the bucket [100, 101) is at the front, sorted
    const b = timer(100, 2);
    const d = timer(99.5, 3);
    const e = timer(100.5, 4);
    push(wheel, b);
    push(wheel, d);
    push(wheel, e);
    expect(wheel.nextDeadline()).toBe(99.5);
    expect(popDue(wheel, 101)).toEqual([d, a, b, c, e]);
  });

  test("milliseconds that share a slot of the wheel keep their own buckets", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })), { minLength: 1, maxLength: 80 }), fc.array(fc.nat(), { maxLength: 20 }), (spec, cancels) => {
        // Deadlines 1024 ms apart land in the same slot; popping in between frees slots
        // while buckets of the same slot still wait in the overflow map.
        const wheel = newWheel();
        const model: TimerHandle[] = [];
        let sequence = 0;
        let now = 0;
        for (const [lap, step] of spec) {
          const h = timer(now + 7 + lap * 1024 + step / 4, sequence++);
          push(wheel, h);
          model.push(h);
          if (step === 3) {
            now += 1024;
            expect(popDue(wheel, now)).toEqual(takeDue(model, now));
          }
        }
        for (const c of cancels) {
          if (model.length === 0) break;
          model.splice(c % model.length, 1)[0]!.cancel();
        }
        expect(popDue(wheel, Infinity)).toEqual(takeDue(model, Infinity));
        expect(wheel.size).toBe(0);
      }),
      { numRuns: propertyRuns(300) },
    );
  });

  test("large buckets sort like the model: many timers in one millisecond, spread out or equal", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: -3, max: 3 }), fc.double({ min: -1e4, max: 1e4, noNaN: true })),
        fc.array(fc.oneof(fc.integer({ min: 0, max: 40 }).map((k) => k / 64), fc.double({ min: 0, max: 0.999999, noNaN: true }), fc.constant(1 - 2 ** -40)), { minLength: 17, maxLength: 700 }),
        (base, fractions) => {
          const wheel = newWheel();
          const floor = Math.floor(base);
          const hs = fractions.map((f, i) => timer(floor + f, i));
          push(wheel, timer(floor - 1000, -1)); // the reference moves close, so they land in a 1 ms bucket
          popDue(wheel, floor - 1);
          for (const h of hs) push(wheel, h);
          expect(popDue(wheel, floor + 1)).toEqual([...hs].sort(byDeadlineThenSequence));
        },
      ),
      { numRuns: propertyRuns(150) },
    );
  });

  test("deadlines just below a bucket's end sort last in it, also where subtracting the start rounds", () => {
    const wheel = newWheel();
    // In the bucket [-1, 0): -1e-20 minus -1 rounds to 1, the bucket's width.
    const hs = Array.from({ length: 40 }, (_, i) => timer(i % 2 === 0 ? -1e-20 * (i + 1) : -1 + i / 64, i));
    for (const h of hs) push(wheel, h);
    expect(popDue(wheel, 0)).toEqual([...hs].sort(byDeadlineThenSequence));
  });

  test("many timers at Infinity keep their scheduling order", () => {
    const wheel = newWheel();
    const hs = Array.from({ length: 40 }, (_, i) => timer(Infinity, i));
    for (const h of hs) push(wheel, h);
    for (let i = 0; i < hs.length; i += 3) hs[i]!.cancel();
    expect(wheel.nextDeadline()).toBe(Infinity);
    const front = bucketOf(hs[1]!);
    expect(sortedHandles(front)).toEqual(hs.filter((_, i) => i % 3 !== 0));
  });

  test("fractional deadlines are kept exact: nothing fires a fraction early", () => {
    const wheel = newWheel();
    const hs = [timer(1.5, 0), timer(1.25, 1), timer(1.5, 2), timer(0.1, 3)];
    for (const h of hs) push(wheel, h);
    expect(wheel.nextDeadline()).toBe(0.1);
    expect(popDue(wheel, 1.4999)).toEqual([hs[3], hs[1]]);
    expect(wheel.nextDeadline()).toBe(1.5);
    expect(popDue(wheel, 1.5)).toEqual([hs[0], hs[2]]);
  });

  test("a clock jump of an hour is one step, to the exact deadline", () => {
    const wheel = newWheel();
    const hour = timer(3_600_000, 0);
    const soon = timer(5, 1);
    push(wheel, hour);
    push(wheel, soon);
    expect(popDue(wheel, 5)).toEqual([soon]);
    expect(wheel.nextDeadline()).toBe(3_600_000);
    expect(popDue(wheel, 3_599_999.999)).toEqual([]);
    expect(popDue(wheel, 3_600_000)).toEqual([hour]);
  });

  test("a timer at Infinity is counted but never due", () => {
    const wheel = newWheel();
    const never = timer(Infinity, 0);
    push(wheel, never);
    expect(wheel.nextDeadline()).toBe(Infinity);
    expect(popDue(wheel, Number.MAX_VALUE)).toEqual([]);
    expect(wheel.size).toBe(1);
    never.cancel();
    expect(wheel.size).toBe(0);
  });

  test("clear unschedules every timer, and a cleared handle's cancel is harmless", () => {
    const wheel = newWheel();
    const hs = [timer(1, 0), timer(1000, 1), timer(1e7, 2)];
    for (const h of hs) push(wheel, h);
    expect(wheel.nextDeadline()).toBe(1); // the front bucket is sorted now
    wheel.clear();
    expect(wheel.size).toBe(0);
    for (const h of hs) expect(scheduled(h)).toBe(false);
    hs[0]!.cancel();
    expect(wheel.size).toBe(0);
    expect(wheel.nextDeadline()).toBe(Infinity);
  });

  test("cancelled timers do not pile up: a bucket holds at most three times its live timers", () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 1, maxLength: 400 }), fc.integer({ min: 0, max: 2 }), (cancels, far) => {
        const wheel = newWheel();
        const hs = cancels.map((_, i) => timer([5, 100, 10_000][far]! + (i % 3) / 4, i));
        for (const h of hs) push(wheel, h);
        if (far === 0) wheel.nextDeadline(); // the bucket at the front is sorted: the same rule holds
        cancels.forEach((c, i) => c && hs[i]!.cancel());
        const live = hs.filter(scheduled);
        expect(wheel.size).toBe(live.length);
        for (const bucket of new Set(live.map(bucketOf))) {
          expect(held(bucket)).toBeLessThanOrEqual(3 * live.filter((h) => bucketOf(h) === bucket).length);
        }
        expect(popDue(wheel, 20_000)).toEqual([...live].sort(byDeadlineThenSequence));
      }),
      { numRuns: propertyRuns(200) },
    );
  });
});

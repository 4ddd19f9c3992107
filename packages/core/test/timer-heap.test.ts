import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { EventLoop, TimerHandle } from "../src/index.js";
import { TimerHeap } from "../src/timer-heap.js";
import { VirtualPoller } from "./helpers.js";

const loop = new EventLoop({ poller: new VirtualPoller() });

function timer(when: number, sequence: number): TimerHandle {
  return new TimerHandle(when, sequence, () => {}, [], loop, null);
}

const byDeadlineThenSequence = (a: TimerHandle, b: TimerHandle): number => a._when - b._when || a._sequence - b._sequence;

type Op = { kind: "push"; when: number } | { kind: "pop" } | { kind: "cancel"; index: number } | { kind: "compact" };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: 0, max: 20 }).map((when) => ({ kind: "push" as const, when })) },
  { weight: 2, arbitrary: fc.constant({ kind: "pop" as const }) },
  { weight: 2, arbitrary: fc.nat().map((index) => ({ kind: "cancel" as const, index })) },
  { weight: 1, arbitrary: fc.constant({ kind: "compact" as const }) },
);

describe("TimerHeap", () => {
  test("pops in (deadline, sequence) order under random push/pop/cancel/compact sequences", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const heap = new TimerHeap();
        let model: TimerHandle[] = [];
        let sequence = 0;
        for (const o of ops) {
          if (o.kind === "push") {
            const h = timer(o.when, sequence++);
            heap.push(h);
            model.push(h);
          } else if (o.kind === "pop") {
            model.sort(byDeadlineThenSequence);
            expect(heap.pop()).toBe(model.shift());
          } else if (o.kind === "cancel") {
            if (model.length > 0) model[o.index % model.length]!._cancelled = true;
          } else {
            heap.retain((h) => !h._cancelled);
            model = model.filter((h) => !h._cancelled);
          }
          expect(heap.size).toBe(model.length);
        }
        model.sort(byDeadlineThenSequence);
        const drained: TimerHandle[] = [];
        while (heap.size > 0) drained.push(heap.pop()!);
        expect(drained).toEqual(model);
        expect(heap.pop()).toBe(undefined);
      }),
      { numRuns: 300 },
    );
  });

  test("peek shows the earliest without removing it; clear empties", () => {
    const heap = new TimerHeap();
    expect(heap.peek()).toBe(undefined);
    const a = timer(5, 1);
    const b = timer(5, 0);
    heap.push(a);
    heap.push(b);
    expect(heap.peek()).toBe(b);
    expect(heap.size).toBe(2);
    heap.clear();
    expect(heap.size).toBe(0);
  });

  test("settle leaves out the newly pushed handles that drop rejects, and keeps the rest in order", () => {
    const heap = new TimerHeap();
    const old = timer(50, 0);
    heap.push(old);
    expect(heap.peek()).toBe(old); // settled: no longer new
    old._cancelled = true;
    const hs = Array.from({ length: 10 }, (_, i) => timer(10 - i, i + 1));
    for (const h of hs) heap.push(h);
    for (let i = 0; i < hs.length; i += 2) hs[i]!._cancelled = true;
    expect(heap.settle((h) => h._cancelled)).toBe(5);
    const drained: TimerHandle[] = [];
    while (heap.size > 0) drained.push(heap.pop()!);
    expect(drained).toEqual([hs[9], hs[7], hs[5], hs[3], hs[1], old]);
  });

  test("fractional deadlines order correctly", () => {
    const heap = new TimerHeap();
    const hs = [timer(1.5, 0), timer(1.25, 1), timer(1.5, 2), timer(0.1, 3)];
    for (const h of hs) heap.push(h);
    expect([heap.pop(), heap.pop(), heap.pop(), heap.pop()]).toEqual([hs[3], hs[1], hs[0], hs[2]]);
  });
});

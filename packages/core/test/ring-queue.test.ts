import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { RingQueue } from "../src/ring-queue.js";
import { propertyRuns } from "./property-runs.js";

describe("RingQueue", () => {
  test("behaves as a FIFO across growth and wrap-around", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.array(fc.oneof(fc.integer({ min: 0, max: 1000 }).map((v) => ({ push: v })), fc.constant({ push: null })), {
          maxLength: 500,
        }),
        (capacity, ops) => {
          const q = new RingQueue<number>(capacity);
          const model: number[] = [];
          for (const o of ops) {
            if (o.push !== null) {
              q.push(o.push);
              model.push(o.push);
            } else if (model.length > 0) {
              expect(q.shift()).toBe(model.shift());
            }
            expect(q.length).toBe(model.length);
            expect(q.peek(0)).toBe(model[0]);
          }
          expect([...q]).toEqual(model);
        },
      ),
      { numRuns: propertyRuns(200) },
    );
  });

  test("a queue that empties and refills across segment boundaries keeps FIFO order", () => {
    const q = new RingQueue<number>(16);
    const out: number[] = [];
    let next = 0;
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 7 + round; i++) q.push(next++);
      while (q.length > round) out.push(q.shift());
    }
    while (q.length > 0) out.push(q.shift());
    expect(out).toEqual(Array.from({ length: next }, (_, i) => i));
  });

  test("grows past its initial capacity keeping order, even when wrapped", () => {
    const q = new RingQueue<number>(16);
    for (let i = 0; i < 10; i++) q.push(i);
    for (let i = 0; i < 8; i++) q.shift();
    for (let i = 10; i < 50; i++) q.push(i); // wraps, then grows
    const out: number[] = [];
    while (q.length > 0) out.push(q.shift());
    expect(out).toEqual(Array.from({ length: 42 }, (_, i) => i + 8));
  });

  test("peek outside the range is undefined; clear empties; shift drops its reference", () => {
    const q = new RingQueue<object>();
    const a = {};
    q.push(a);
    q.push({});
    expect(q.peek(-1)).toBe(undefined);
    expect(q.peek(2)).toBe(undefined);
    expect(q.peek(1)).not.toBe(a);
    expect(q.shift()).toBe(a);
    expect((q as unknown as { _segments: unknown[][] })._segments.some((segment) => segment.includes(a))).toBe(false);
    q.clear();
    expect(q.length).toBe(0);
    expect([...q]).toEqual([]);
  });

  test("shuffleRange permutes only the given range, deterministically for a given random source", () => {
    const q = new RingQueue<number>();
    for (let i = 0; i < 10; i++) q.push(i);
    let seed = 1;
    const random = (): number => {
      seed = (seed * 16807) % 2147483647;
      return (seed - 1) / 2147483646;
    };
    q.shuffleRange(2, 5, random);
    const out = [...q];
    expect(out.slice(0, 2)).toEqual([0, 1]);
    expect(out.slice(7)).toEqual([7, 8, 9]);
    expect(out.slice(2, 7).sort()).toEqual([2, 3, 4, 5, 6]);
  });
});

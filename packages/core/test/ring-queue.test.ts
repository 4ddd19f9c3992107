import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { RingQueue } from "../src/ring-queue.js";
import { propertyRuns } from "./property-runs.js";

/** The segment arrays a queue holds now (internal: what its memory is made of). */
function segmentsOf<T>(q: RingQueue<T>): unknown[][] {
  return (q as unknown as { _segments: unknown[][] })._segments;
}

/** Counts the distinct segment arrays a queue has used, looked at after each step: its allocations. */
function allocations<T>(q: RingQueue<T>): { seen: Set<unknown[]>; look(): void } {
  const seen = new Set<unknown[]>();
  const look = (): void => {
    for (const segment of segmentsOf(q)) seen.add(segment);
  };
  look();
  return { seen, look };
}

type Op =
  | { kind: "push"; value: number }
  | { kind: "shift" }
  | { kind: "clear" }
  | { kind: "set"; at: number; value: number }
  | { kind: "peek"; at: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 1000 }).map((value) => ({ kind: "push" as const, value })) },
  { weight: 5, arbitrary: fc.constant({ kind: "shift" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "clear" as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("set" as const), at: fc.integer({ min: -2, max: 70 }), value: fc.integer({ min: 0, max: 1000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("peek" as const), at: fc.integer({ min: -2, max: 70 }) }) },
);

describe("RingQueue", () => {
  test("matches an array model: FIFO order, length, peek, set and absolute positions across growth, wrap-around and clear", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.array(op, { maxLength: 500 }), (segmentSize, ops) => {
        const q = new RingQueue<number>(segmentSize);
        const model: number[] = [];
        let left = 0; // items that have left the head, cleared ones included
        for (const o of ops) {
          switch (o.kind) {
            case "push":
              q.push(o.value);
              model.push(o.value);
              break;
            case "shift":
              if (model.length > 0) {
                expect(q.shift()).toBe(model.shift());
                left++;
              }
              break;
            case "clear":
              left += model.length;
              model.length = 0;
              q.clear();
              break;
            case "set":
              if (o.at >= 0 && o.at < model.length) {
                q.set(o.at, o.value);
                model[o.at] = o.value;
              } else {
                expect(() => q.set(o.at, o.value)).toThrow(new RangeError(`RingQueue.set(offset): offset ${o.at} is out of range`));
              }
              break;
            case "peek":
              expect(q.peek(o.at)).toBe(o.at >= 0 ? model[o.at] : undefined);
              break;
          }
          expect(q.length).toBe(model.length);
          expect(q.peek()).toBe(model[0]);
          expect(q.headPosition).toBe(left);
          expect(q.tailPosition).toBe(left + model.length);
        }
        expect([...q]).toEqual(model);
      }),
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
    expect(segmentsOf(q).some((segment) => segment.includes(a))).toBe(false);
    q.clear();
    expect(q.length).toBe(0);
    expect([...q]).toEqual([]);
  });

  test("one past the tail is out of range for peek and set, also when the items fill their segments exactly", () => {
    const q = new RingQueue<number>(16);
    for (let i = 0; i < 16; i++) q.push(i);
    expect(q.peek(16)).toBe(undefined);
    expect(() => q.set(16, 99)).toThrow(new RangeError("RingQueue.set(offset): offset 16 is out of range"));
    expect(() => q.set(-1, 99)).toThrow(new RangeError("RingQueue.set(offset): offset -1 is out of range"));
    q.set(15, 99);
    expect(q.peek(15)).toBe(99);
    expect([...q]).toEqual([...Array.from({ length: 15 }, (_, i) => i), 99]);
  });

  test("positions are absolute: clear counts its items as having left, so a position is never given twice", () => {
    const q = new RingQueue<string>(16);
    q.push("a");
    q.push("b");
    q.push("c");
    q.shift();
    expect([q.headPosition, q.tailPosition]).toEqual([1, 3]);
    q.clear();
    expect([q.headPosition, q.tailPosition]).toEqual([3, 3]);
    q.push("d");
    expect([q.headPosition, q.tailPosition]).toEqual([3, 4]);
  });

  test("a segment holds the size asked for, rounded up to a power of two and at least 16; the next segment is allocated only when it is full", () => {
    for (const [asked, size] of [
      [undefined, 1024],
      [1, 16],
      [16, 16],
      [17, 32],
      [1000, 1024],
      [1024, 1024],
    ] as const) {
      const q = new RingQueue<number>(asked);
      const { seen, look } = allocations(q);
      for (let i = 0; i < size; i++) {
        q.push(i);
        look();
      }
      expect([asked, seen.size]).toEqual([asked, 1]);
      q.push(size);
      look();
      expect([asked, seen.size]).toEqual([asked, 2]);
    }
  });

  test("a queue drained between bursts starts its segment over, so bursts that fit in one segment never allocate another", () => {
    const q = new RingQueue<number>(16);
    const { seen, look } = allocations(q);
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 10; i++) q.push(i);
      look();
      while (q.length > 0) q.shift();
      look();
    }
    expect(seen.size).toBe(1);
  });

  test("a queue hovering around a segment boundary reuses the segment it emptied instead of allocating one", () => {
    const q = new RingQueue<number>(16);
    const { seen, look } = allocations(q);
    q.push(0);
    for (let i = 1; i < 200; i++) {
      q.push(i); // keeps one item queued, so the head walks across segment after segment
      look();
      expect(q.shift()).toBe(i - 1);
      look();
    }
    expect(seen.size).toBe(2);
  });
});

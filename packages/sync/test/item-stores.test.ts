import { run } from "@loop/core";
import { describe, expect, test } from "vitest";
import { Heap, RingBuffer, Stack, naturalOrder } from "../src/item-stores.js";
import { SimpleWaiterNode, WaiterList } from "../src/waiters.js";

// The internal building blocks, tested on their own contracts: `snapshot()` lists the
// items in the order `take()` gives them out, and a WaiterList tells pending waiters
// from cancelled ones.

describe("item stores", () => {
  test("snapshot() lists a RingBuffer's items in take() order, across a wrapped head and a growth", () => {
    const store = new RingBuffer<number>();
    for (let i = 0; i < 10; i++) store.put(-1);
    for (let i = 0; i < 10; i++) store.take();
    for (let i = 0; i < 20; i++) store.put(i);
    expect(store.snapshot()).toEqual(Array.from({ length: 20 }, (_, i) => i));
    store.clear();
    expect(store.snapshot()).toEqual([]);
    expect(store.size).toBe(0);
  });

  test("snapshot() lists a Stack's items last in first, and clear() empties it", () => {
    const store = new Stack<string>();
    for (const item of ["a", "b", "c"]) store.put(item);
    expect(store.snapshot()).toEqual(["c", "b", "a"]);
    expect(store.take()).toBe("c");
    expect(store.snapshot()).toEqual(["b", "a"]);
    store.clear();
    expect([store.size, store.snapshot()]).toEqual([0, []]);
  });

  test("snapshot() lists a Heap's items smallest first, equal ones in insertion order, without taking them", () => {
    const store = new Heap<[number, string]>(naturalOrder);
    const items: [number, string][] = [
      [2, "x"],
      [1, "b"],
      [3, "y"],
      [1, "a"],
      [2, "w"],
    ];
    for (const item of items) store.put(item);
    const expected = [
      [1, "a"],
      [1, "b"],
      [2, "w"],
      [2, "x"],
      [3, "y"],
    ];
    expect(store.snapshot()).toEqual(expected);
    expect(store.size).toBe(5);
    const taken: unknown[] = [];
    while (store.size > 0) taken.push(store.take());
    expect(taken).toEqual(expected);
    const ties = new Heap<number>(() => 0);
    for (const n of [5, 4, 3]) ties.put(n);
    expect(ties.snapshot()).toEqual([5, 4, 3]);
    ties.clear();
    expect([ties.size, ties.snapshot()]).toEqual([0, []]);
  });
});

describe("WaiterList", () => {
  test("hasPending() is true only while some waiter's future is still pending", async () => {
    await run(function* () {
      const list = new WaiterList();
      expect(list.hasPending()).toBe(false);
      const first = new SimpleWaiterNode("first");
      const second = new SimpleWaiterNode("second");
      list.push(first);
      list.push(second);
      expect(list.hasPending()).toBe(true);
      first.future.cancel();
      expect(list.hasPending()).toBe(true);
      second.future.setResult(1);
      expect(list.hasPending()).toBe(false);
      expect(list.countPending()).toBe(0);
      expect(list.length).toBe(2);
    });
  });
});

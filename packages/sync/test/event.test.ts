import { run } from "@loop/core";
import { describe, expect, test } from "vitest";
import { Event } from "../src/index.js";
import { outcome, settle, spawn, turns } from "./helpers.js";

describe("Event", () => {
  test("wait returns true at once when the event is set", async () => {
    await run(function* () {
      const event = new Event();
      event.set();
      expect(event.isSet()).toBe(true);
      expect(yield* event.wait()).toBe(true);
    });
  });

  test("set wakes every waiter, in the order they began waiting (test_wait)", async () => {
    await run(function* () {
      const event = new Event();
      const result: number[] = [];
      const tasks = [1, 2, 3].map((n) =>
        spawn(function* () {
          if (yield* event.wait()) result.push(n);
        }),
      );
      yield* turns(2);
      expect(result).toEqual([]);
      event.set();
      yield* settle(tasks);
      expect(result).toEqual([1, 2, 3]);
    });
  });

  test("clear makes later waits block again (test_clear_with_waiters)", async () => {
    await run(function* () {
      const event = new Event();
      const task = spawn(() => event.wait());
      yield* turns(1);
      event.set();
      event.clear();
      expect(event.isSet()).toBe(false);
      yield* task; // woken by the set, even though cleared since
      const later = spawn(() => event.wait());
      yield* turns(2);
      expect(later.done()).toBe(false);
      later.cancel();
      yield* settle([later]);
    });
  });

  test("a cancelled waiter leaves, and set still wakes the others (test_wait_cancel)", async () => {
    await run(function* () {
      const event = new Event();
      const a = spawn(() => event.wait());
      const b = spawn(() => event.wait());
      yield* turns(1);
      a.cancel();
      yield* turns(1);
      expect(String(event)).toBe("<Event [unset, waiters: 1]>");
      event.set();
      yield* settle([a, b]);
      expect([outcome(a), outcome(b)]).toEqual(["cancelled", "ok:true"]);
    });
  });

  test("the waiter's future is labelled Event.wait", async () => {
    await run(function* () {
      const event = new Event();
      const task = spawn(() => event.wait());
      yield* turns(1);
      expect(task.waitingOn()?.label).toBe("Event.wait");
      event.set();
      yield* task;
    });
  });
});

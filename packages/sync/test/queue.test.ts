import { CancelledError, gather, run, type Coroutine } from "@loop/core";
import { describe, expect, test } from "vitest";
import { LifoQueue, PriorityQueue, Queue, QueueEmpty, QueueFull, QueueShutDown } from "../src/index.js";
import { outcome, settle, spawn, thrown, turns } from "./helpers.js";

describe("Queue basics", () => {
  test("maxsize must be an integer >= 0, checked at construction and named", () => {
    expect(() => new Queue(-1)).toThrow(RangeError);
    expect(() => new Queue(-1)).toThrow(/maxsize/);
    expect(() => new LifoQueue(-1)).toThrow(/LifoQueue\(maxsize\)/);
    expect(() => new PriorityQueue(-1)).toThrow(RangeError);
    expect(() => new Queue(2.5)).toThrow(RangeError);
    expect(() => new Queue("3" as unknown as number)).toThrow(TypeError);
    expect(() => new PriorityQueue(0, 3 as unknown as () => number)).toThrow(TypeError);
    expect(new Queue().maxsize).toBe(0);
  });

  test("empty, full and qsize (test_empty, test_full)", () => {
    const q = new Queue<number>(2);
    expect(q.empty()).toBe(true);
    expect(q.full()).toBe(false);
    q.putNowait(1);
    expect(q.empty()).toBe(false);
    q.putNowait(2);
    expect(q.full()).toBe(true);
    expect(q.qsize()).toBe(2);
    expect(new Queue<number>().full()).toBe(false);
  });

  test("a Queue is first in, first out (test_order)", () => {
    const q = new Queue<number>();
    for (const i of [1, 3, 2]) q.putNowait(i);
    expect([q.getNowait(), q.getNowait(), q.getNowait()]).toEqual([1, 3, 2]);
  });

  test("a LifoQueue is last in, first out (test_order)", () => {
    const q = new LifoQueue<number>();
    for (const i of [1, 3, 2]) q.putNowait(i);
    expect([q.getNowait(), q.getNowait(), q.getNowait()]).toEqual([2, 3, 1]);
  });

  test("a PriorityQueue gives the smallest first (test_order)", () => {
    const q = new PriorityQueue<number>();
    for (const i of [1, 3, 2]) q.putNowait(i);
    expect([q.getNowait(), q.getNowait(), q.getNowait()]).toEqual([1, 2, 3]);
  });

  test("a PriorityQueue keeps equal priorities in the order they were put", () => {
    const q = new PriorityQueue<{ p: number; name: string }>(0, (a, b) => a.p - b.p);
    const names = ["a", "b", "c", "d", "e", "f", "g", "h"];
    names.forEach((name, i) => q.putNowait({ p: i % 2, name }));
    const out: string[] = [];
    while (!q.empty()) out.push(q.getNowait().name);
    expect(out).toEqual(["a", "c", "e", "g", "b", "d", "f", "h"]);
  });

  test("a PriorityQueue orders [priority, item] arrays like Python tuples by default", () => {
    const q = new PriorityQueue<[number, string]>();
    q.putNowait([2, "b"]);
    q.putNowait([1, "z"]);
    q.putNowait([2, "a"]);
    expect([q.getNowait(), q.getNowait(), q.getNowait()]).toEqual([
      [1, "z"],
      [2, "a"],
      [2, "b"],
    ]);
  });

  test("a PriorityQueue refuses items it cannot order, and stays intact", () => {
    const q = new PriorityQueue<unknown>();
    q.putNowait(2);
    q.putNowait(1);
    expect(() => q.putNowait({})).toThrow(TypeError);
    expect(q.qsize()).toBe(2);
    expect([q.getNowait(), q.getNowait()]).toEqual([1, 2]);
  });

  test("getNowait on an empty queue throws QueueEmpty, putNowait on a full one QueueFull (test_nonblocking_*)", () => {
    const q = new Queue<number>(1);
    expect(() => q.getNowait()).toThrow(QueueEmpty);
    q.putNowait(1);
    expect(() => q.putNowait(2)).toThrow(QueueFull);
  });

  test("toString shows size, waiters and unfinished tasks (test_repr)", async () => {
    await run(function* () {
      const q = new Queue<number>(1);
      expect(String(q)).toBe("<Queue maxsize=1 qsize=0>");
      const getter = spawn(() => q.get());
      yield* turns(1);
      expect(String(q)).toBe("<Queue maxsize=1 qsize=0 getters=1>");
      q.putNowait(1);
      yield* getter;
      q.putNowait(2);
      const putter = spawn(() => q.put(3));
      yield* turns(1);
      expect(String(q)).toBe("<Queue maxsize=1 qsize=1 putters=1 tasks=2>");
      putter.cancel();
      yield* settle([putter]);
    });
  });
});

describe("Queue blocking", () => {
  test("put waits for room when the queue is full (test_maxsize)", async () => {
    await run(function* () {
      const q = new Queue<number>(2);
      const have: number[] = [];
      const putter = spawn(function* () {
        for (let i = 0; i < 3; i++) {
          yield* q.put(i);
          have.push(i);
        }
      });
      yield* turns(2);
      expect(have).toEqual([0, 1]);
      expect(yield* q.get()).toBe(0);
      yield* putter;
      expect(have).toEqual([0, 1, 2]);
      expect([q.getNowait(), q.getNowait()]).toEqual([1, 2]);
    });
  });

  test("get waits for an item (test_blocking_get_wait)", async () => {
    await run(function* () {
      const q = new Queue<string>();
      const getter = spawn(() => q.get());
      yield* turns(2);
      expect(getter.done()).toBe(false);
      q.putNowait("x");
      expect(yield* getter).toBe("x");
    });
  });

  test("an item that arrives while getters wait goes to the oldest getter; a newcomer finds the queue empty", async () => {
    await run(function* () {
      const q = new Queue<number>();
      const got: string[] = [];
      const g1 = spawn(function* () {
        got.push(`g1:${yield* q.get()}`);
      });
      const g2 = spawn(function* () {
        got.push(`g2:${yield* q.get()}`);
      });
      yield* turns(1);
      q.putNowait(1);
      // g1 has not run yet, but the item is promised to it
      expect(q.empty()).toBe(true);
      expect(q.qsize()).toBe(1);
      expect(() => q.getNowait()).toThrow(QueueEmpty);
      q.putNowait(2);
      yield* settle([g1, g2]);
      expect(got).toEqual(["g1:1", "g2:2"]);
    });
  });

  test("a slot that frees up while putters wait goes to the oldest putter; a newcomer finds the queue full", async () => {
    await run(function* () {
      const q = new Queue<string>(1);
      q.putNowait("first");
      const p1 = spawn(() => q.put("p1"));
      yield* turns(1);
      expect(q.getNowait()).toBe("first");
      expect(q.full()).toBe(true); // the slot is promised to p1
      expect(() => q.putNowait("newcomer")).toThrow(QueueFull);
      yield* p1;
      expect(q.getNowait()).toBe("p1");
    });
  });

  test("getters are served in arrival order, even when puts arrive in bursts", async () => {
    await run(function* () {
      const q = new Queue<number>();
      const order: number[] = [];
      const getters = [0, 1, 2, 3, 4].map((n) =>
        spawn(function* () {
          yield* q.get();
          order.push(n);
        }),
      );
      yield* turns(1);
      q.putNowait(10);
      q.putNowait(11);
      yield* turns(1);
      q.putNowait(12);
      q.putNowait(13);
      q.putNowait(14);
      yield* settle(getters);
      expect(order).toEqual([0, 1, 2, 3, 4]);
    });
  });

  test("the waiters' futures are labelled Queue.get and Queue.put", async () => {
    await run(function* () {
      const q = new Queue<number>(1);
      const getter = spawn(() => q.get());
      yield* turns(1);
      expect(getter.waitingOn()?.label).toBe("Queue.get");
      q.putNowait(1);
      yield* getter;
      q.putNowait(1);
      const putter = spawn(() => q.put(2));
      yield* turns(1);
      expect(putter.waitingOn()?.label).toBe("Queue.put");
      putter.cancel();
      yield* settle([putter]);
    });
  });

  test("an uncontended get or put does not suspend the task", async () => {
    await run(function* () {
      const q = new Queue<number>(10);
      const log: string[] = [];
      spawn(function* () {
        log.push("other");
      });
      yield* q.put(1);
      yield* q.get();
      log.push("main");
      yield* turns(1);
      expect(log).toEqual(["main", "other"]);
    });
  });
  test("getNowait frees places that go to the waiting putters (test_why_are_putters_waiting)", async () => {
    await run(function* () {
      const q = new Queue<number>(2);
      function* getter(): Coroutine<void> {
        yield* turns(1);
        const n = q.qsize();
        for (let i = 0; i < n; i++) q.getNowait();
      }
      yield* gather([getter(), q.put(0), q.put(1), q.put(2), q.put(3)]);
      expect([q.getNowait(), q.getNowait()]).toEqual([2, 3]);
    });
  });

  test("putNowait items go to the waiting getters (test_why_are_getters_waiting)", async () => {
    await run(function* () {
      const q = new Queue<number>();
      function* putter(): Coroutine<void> {
        yield* turns(1);
        for (let i = 0; i < 3; i++) q.putNowait(i);
      }
      const got = yield* gather([q.get(), q.get(), q.get(), putter()]);
      expect(got.slice(0, 3)).toEqual([0, 1, 2]);
    });
  });
});

describe("Queue put without allocation", () => {
  // Identity is compared with ===: expect() walks an iterable it is given, which would run the put.
  test("a put that found room is reused by the next put(); one handed out and not finished never is", async () => {
    await run(function* () {
      const q = new Queue<number>();
      const first = q.put(1);
      yield* first;
      const second = q.put(2);
      expect(second === first).toBe(true); // the spare, made a put of 2
      const third = q.put(3); // the spare is out (second has not run): a new one
      expect(third === second).toBe(false);
      yield* third;
      yield* second;
      expect([q.getNowait(), q.getNowait(), q.getNowait()]).toEqual([1, 3, 2]);
    });
  });

  test("a put that had to wait is not reused, and a reused put waits and is woken like a new one", async () => {
    await run(function* () {
      const q = new Queue<string>(1);
      const log: string[] = [];
      const a = q.put("a");
      yield* a; // found room: reusable now
      const b = q.put("b"); // the queue is full, so this one will wait
      expect(b === a).toBe(true);
      const blocked = spawn(function* () {
        yield* b;
        log.push("b put");
      });
      yield* turns(2);
      expect(log).toEqual([]);
      expect(yield* q.get()).toBe("a");
      yield* blocked;
      expect(log).toEqual(["b put"]);
      const c = q.put("c");
      expect(c === b).toBe(false); // finished after waiting: not reused either
      expect(q.getNowait()).toBe("b");
      yield* c;
      expect(q.getNowait()).toBe("c");
    });
  });

  test("a put whose compare throws ends with that error and is finished: resumed, it puts nothing", async () => {
    await run(function* () {
      let compares = 0;
      const q = new PriorityQueue<number>(0, (a, b) => {
        compares++;
        if (a === 13 || b === 13) throw new Error("unlucky");
        return a - b;
      });
      yield* q.put(1);
      const bad = q.put(13); // the spare, re-armed
      expect(((yield* thrown(bad)) as Error).message).toBe("unlucky");
      const seen = compares;
      expect(bad.next()).toEqual({ done: true, value: undefined }); // as a generator that threw
      expect(compares).toBe(seen);
      expect(q.qsize()).toBe(1);
      expect(q.put(2) === bad).toBe(false); // ended with an error: not reused
    });
  });

  test("a reused put cancelled while it waits loses nothing and is not reused again", async () => {
    await run(function* () {
      const q = new Queue<number>(1);
      const zero = q.put(0);
      yield* zero;
      const one = q.put(1);
      expect(one === zero).toBe(true);
      const p = spawn(() => one); // waits for room
      yield* turns(1);
      p.cancel();
      yield* turns(1);
      expect(p.cancelled()).toBe(true);
      expect(q.getNowait()).toBe(0);
      expect(q.qsize()).toBe(0);
      const two = q.put(2);
      expect(two === one).toBe(false);
      yield* two;
      expect(q.getNowait()).toBe(2);
    });
  });
});

describe("Queue cancellation", () => {
  test("a getter cancelled before an item arrives takes none, and the item goes to the next getter (test_get_cancelled_race)", async () => {
    await run(function* () {
      const q = new Queue<string>();
      const t1 = spawn(() => q.get());
      const t2 = spawn(() => q.get());
      yield* turns(1);
      t1.cancel();
      yield* settle([t1]);
      q.putNowait("a");
      expect(yield* t2).toBe("a");
      expect(outcome(t1)).toBe("cancelled");
    });
  });

  test("a getter cancelled after an item was promised to it passes the item on", async () => {
    await run(function* () {
      const q = new Queue<string>();
      const t1 = spawn(() => q.get());
      const t2 = spawn(() => q.get());
      yield* turns(1);
      q.putNowait("a"); // promised to t1
      t1.cancel(); // before t1 runs
      yield* settle([t1, t2]);
      expect(outcome(t1)).toBe("cancelled");
      expect(outcome(t2)).toBe("ok:a");
      expect(q.qsize()).toBe(0);
    });
  });

  test("with no other getter, a passed-on item goes back to the head of the queue, in order", async () => {
    await run(function* () {
      const q = new Queue<string>();
      const t1 = spawn(() => q.get());
      const t2 = spawn(() => q.get());
      yield* turns(1);
      q.putNowait("a");
      q.putNowait("b");
      q.putNowait("c");
      t2.cancel(); // promised "b"'s turn, cancelled: t1 still gets "a"
      t1.cancel();
      yield* settle([t1, t2]);
      expect([q.getNowait(), q.getNowait(), q.getNowait()]).toEqual(["a", "b", "c"]);
    });
  });

  test("a putter cancelled after room was promised can put again and the item arrives once (test_put_cancel_drop)", async () => {
    await run(function* () {
      const q = new Queue<number>(1);
      q.putNowait(1);
      let writer = spawn(() => q.put(2));
      yield* turns(1);
      expect(q.getNowait()).toBe(1);
      writer.cancel();
      if ((yield* thrown(writer)) instanceof CancelledError) {
        writer = spawn(() => q.put(2));
        yield* writer;
      }
      expect(q.getNowait()).toBe(2);
      expect(q.qsize()).toBe(0);
    });
  });

  test("a putter cancelled before room appears puts nothing (test_cancelled_puts_not_being_held_in_self_putters)", async () => {
    await run(function* () {
      const q = new Queue<number>(1);
      q.putNowait(1);
      const putter = spawn(() => q.put(2));
      yield* turns(1);
      putter.cancel();
      yield* settle([putter]);
      expect(q.getNowait()).toBe(1);
      expect(q.empty()).toBe(true);
      q.putNowait(3); // the slot is free for anyone: nobody is waiting
      expect(q.getNowait()).toBe(3);
    });
  });

  test("a putter cancelled after room was promised to it puts nothing and passes the room on", async () => {
    await run(function* () {
      const q = new Queue<string>(1);
      q.putNowait("x");
      const p1 = spawn(() => q.put("p1"));
      const p2 = spawn(() => q.put("p2"));
      yield* turns(1);
      expect(q.getNowait()).toBe("x"); // room promised to p1
      p1.cancel(); // before p1 runs: its item must not appear
      yield* settle([p1, p2]);
      expect([outcome(p1), outcome(p2)]).toEqual(["cancelled", "ok:undefined"]);
      expect(q.getNowait()).toBe("p2");
      expect(q.empty()).toBe(true);
    });
  });

  test("a cancelled getter's waiter is dropped (test_cancelled_getters_not_being_held_in_self_getters)", async () => {
    await run(function* () {
      const q = new Queue<number>();
      const getters = [0, 1, 2].map(() => spawn(() => q.get()));
      yield* turns(1);
      for (const g of getters) g.cancel();
      yield* settle(getters);
      expect(String(q)).toBe("<Queue maxsize=0 qsize=0>");
      q.putNowait(1);
      expect(q.getNowait()).toBe(1);
    });
  });

  test("a get in a task cancelled by the caller raises CancelledError", async () => {
    await run(function* () {
      const q = new Queue<number>();
      const task = spawn(() => q.get());
      yield* turns(1);
      task.cancel();
      expect(yield* thrown(task)).toBeInstanceOf(CancelledError);
    });
  });
});

describe("Queue taskDone and join", () => {
  test("taskDone more often than items were put throws a RangeError (test_task_done_underflow)", () => {
    const q = new Queue<number>();
    expect(() => q.taskDone()).toThrow(RangeError);
    q.putNowait(1);
    q.getNowait();
    q.taskDone();
    expect(() => q.taskDone()).toThrow(/taskDone/);
  });

  test("join returns once every item put was marked done (test_task_done)", async () => {
    await run(function* () {
      const q = new Queue<number>();
      let running = 0;
      let sum = 0;
      function* worker(): Coroutine<void> {
        for (;;) {
          const item = yield* q.get();
          running++;
          yield* turns(1);
          sum += item;
          running--;
          q.taskDone();
        }
      }
      const workers = [spawn(worker), spawn(worker)];
      for (let i = 0; i < 100; i++) q.putNowait(i);
      yield* q.join();
      expect(sum).toBe(4950);
      expect(running).toBe(0);
      for (const w of workers) w.cancel();
      yield* settle(workers);
    });
  });

  test("join on a queue with nothing unfinished returns at once (test_join_empty_queue)", async () => {
    await run(function* () {
      const q = new Queue<number>();
      yield* q.join();
      q.putNowait(1);
      q.getNowait();
      q.taskDone();
      yield* q.join();
    });
  });

  test("consume runs the body per item, marks each done, and ends at shutdown", async () => {
    await run(function* () {
      const q = new Queue<number>(2);
      const seen: number[] = [];
      const consumer = spawn(() =>
        q.consume(function* (item) {
          yield* turns(1);
          seen.push(item);
        }),
      );
      for (let i = 0; i < 5; i++) yield* q.put(i);
      yield* q.join();
      q.shutdown();
      yield* consumer;
      expect(seen).toEqual([0, 1, 2, 3, 4]);
    });
  });

  test("consume marks an item done even when the body throws", async () => {
    await run(function* () {
      const q = new Queue<number>();
      q.putNowait(1);
      const error = yield* thrown(
        q.consume(function* () {
          throw new Error("bad item");
        }),
      );
      expect((error as Error).message).toBe("bad item");
      yield* q.join(); // would hang if the item were still unfinished
      expect(() => q.consume(null as unknown as () => Coroutine<void>)).toThrow(TypeError);
    });
  });
});

describe("Queue shutdown (3.13)", () => {
  test("after shutdown, put and putNowait throw QueueShutDown (test_shutdown_empty)", async () => {
    await run(function* () {
      const q = new Queue<number>();
      q.shutdown();
      expect(() => q.putNowait(1)).toThrow(QueueShutDown);
      expect(yield* thrown(q.put(1))).toBeInstanceOf(QueueShutDown);
      expect(() => q.getNowait()).toThrow(QueueShutDown);
      expect(yield* thrown(q.get())).toBeInstanceOf(QueueShutDown);
    });
  });

  test("after shutdown, what is left can still be got, then get throws (test_shutdown_nonempty)", async () => {
    await run(function* () {
      const q = new Queue<number>();
      q.putNowait(1);
      q.putNowait(2);
      q.shutdown();
      expect(yield* q.get()).toBe(1);
      expect(q.getNowait()).toBe(2);
      expect(yield* thrown(q.get())).toBeInstanceOf(QueueShutDown);
    });
  });

  test("shutdown wakes blocked getters and putters with QueueShutDown", async () => {
    await run(function* () {
      const empty = new Queue<number>();
      const full = new Queue<number>(1);
      full.putNowait(0);
      const getter = spawn(() => empty.get());
      const putter = spawn(() => full.put(1));
      yield* turns(1);
      empty.shutdown();
      full.shutdown();
      yield* settle([getter, putter]);
      expect([outcome(getter), outcome(putter)]).toEqual(["QueueShutDown", "QueueShutDown"]);
      expect(full.getNowait()).toBe(0);
    });
  });

  test("shutdown(true) drops the items, releases join, and get throws at once (test_shutdown_immediate)", async () => {
    await run(function* () {
      const q = new Queue<number>();
      q.putNowait(1);
      q.putNowait(2);
      const joiner = spawn(() => q.join());
      yield* turns(1);
      q.shutdown(true);
      expect(q.qsize()).toBe(0);
      expect(yield* thrown(q.get())).toBeInstanceOf(QueueShutDown);
      yield* joiner;
    });
  });

  test("shutdown(true) keeps items already got unfinished for join (test_shutdown_immediate_with_unfinished)", async () => {
    await run(function* () {
      const q = new Queue<number>();
      q.putNowait(1);
      q.putNowait(2);
      q.getNowait();
      q.shutdown(true);
      const joiner = spawn(() => q.join());
      yield* turns(2);
      expect(joiner.done()).toBe(false);
      q.taskDone();
      yield* joiner;
    });
  });

  test("shutdown(true) revokes an item promised to a getter that has not run yet", async () => {
    await run(function* () {
      const q = new Queue<number>();
      const getter = spawn(() => q.get());
      yield* turns(1);
      q.putNowait(1); // promised to the getter
      q.shutdown(true);
      yield* settle([getter]);
      expect(outcome(getter)).toBe("QueueShutDown");
      yield* q.join();
    });
  });

  test("shutdown() keeps an item promised to a getter that has not run yet", async () => {
    await run(function* () {
      const q = new Queue<number>();
      const getter = spawn(() => q.get());
      yield* turns(1);
      q.putNowait(1);
      q.shutdown();
      expect(yield* getter).toBe(1);
    });
  });

  test("a putter promised room before shutdown still throws QueueShutDown and puts nothing", async () => {
    await run(function* () {
      const q = new Queue<number>(1);
      q.putNowait(0);
      const putter = spawn(() => q.put(1));
      yield* turns(1);
      q.getNowait(); // room promised to the putter
      q.shutdown();
      yield* settle([putter]);
      expect(outcome(putter)).toBe("QueueShutDown");
      expect(q.qsize()).toBe(0);
    });
  });

  test("shutdown takes a boolean", () => {
    expect(() => new Queue().shutdown(1 as unknown as boolean)).toThrow(TypeError);
  });
});

describe("LifoQueue and PriorityQueue block like Queue", () => {
  test("a PriorityQueue getter woken by a put takes the smallest item present when it runs", async () => {
    await run(function* () {
      const q = new PriorityQueue<number>();
      const getter = spawn(() => q.get());
      yield* turns(1);
      q.putNowait(5);
      q.putNowait(1);
      expect(yield* getter).toBe(1);
      expect(q.getNowait()).toBe(5);
    });
  });

  test("a LifoQueue putter waits for room", async () => {
    await run(function* () {
      const q = new LifoQueue<number>(1);
      q.putNowait(1);
      const putter = spawn(() => q.put(2));
      yield* turns(1);
      expect(q.getNowait()).toBe(1);
      yield* putter;
      expect(q.getNowait()).toBe(2);
    });
  });
});

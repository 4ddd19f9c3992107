/**
 * Conservation under random interleavings: fast-check drives puts, gets, acquires,
 * releases, turns and cancellations landing at any moment — before a waiter is woken,
 * between its wake-up and its turn (a cancel right after the put or release that woke
 * it), or while it holds a permit — and checks that nothing is lost or duplicated and
 * that waiters are served in arrival order.
 */
import { run, type Coroutine, type Task } from "@loop/core";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { Condition, LifoQueue, Lock, PriorityQueue, Queue, QueueEmpty, QueueFull, QueueShutDown, Semaphore } from "../src/index.js";
import { settle, spawn } from "./helpers.js";

type QueueAction =
  | { kind: "put" }
  | { kind: "get" }
  | { kind: "putNowait" }
  | { kind: "getNowait" }
  | { kind: "cancel"; target: number }
  | { kind: "cancelWoken"; target: number }
  | { kind: "shutdown" }
  | { kind: "turn" };

const queueAction: fc.Arbitrary<QueueAction> = fc.oneof(
  { arbitrary: fc.constant({ kind: "put" } as const), weight: 4 },
  { arbitrary: fc.constant({ kind: "get" } as const), weight: 4 },
  { arbitrary: fc.constant({ kind: "putNowait" } as const), weight: 1 },
  { arbitrary: fc.constant({ kind: "getNowait" } as const), weight: 1 },
  { arbitrary: fc.nat(60).map((target) => ({ kind: "cancel", target }) as const), weight: 2 },
  { arbitrary: fc.nat(60).map((target) => ({ kind: "cancelWoken", target }) as const), weight: 2 },
  { arbitrary: fc.constant({ kind: "turn" } as const), weight: 3 },
);

/** How many woken tasks `cancelWoken` cancelled: each property below checks it found some. */
let wokenCancels = 0;

/**
 * Cancels one of the tasks that were woken (their future is done) but have not run yet:
 * the moment where a hand-over is most easily lost.
 */
function cancelWoken(tasks: readonly Task<unknown>[], target: number): void {
  const woken = tasks.filter((task) => task.state() === "woken");
  if (woken.length > 0 && woken[target % woken.length]!.cancel()) wokenCancels++;
}

type QueueKind = "fifo" | "lifo" | "priority";

function makeQueue(kind: QueueKind, maxsize: number): Queue<number> {
  if (kind === "lifo") return new LifoQueue<number>(maxsize);
  if (kind === "priority") return new PriorityQueue<number>(maxsize);
  return new Queue<number>(maxsize);
}

interface QueueRun {
  put: number[];
  got: number[];
  remaining: number[];
  /** Arrival numbers of the getters that had to wait, in the order they got their item. */
  waitedGetters: number[];
  waitedPutters: number[];
  /** Times a getter (putter) waited on a pending future while an item (a place) was free to a newcomer. */
  overtakes: number;
}

/** True when some task waits on a still-pending future labelled `label`: a waiter owed nothing yet. */
function someoneWaits(tasks: readonly Task<unknown>[], label: string): boolean {
  return tasks.some((task) => {
    const future = task.waitingOn();
    return future !== null && !future.done() && future.label === label;
  });
}

async function runQueue(kind: QueueKind, maxsize: number, actions: QueueAction[]): Promise<QueueRun> {
  return run(function* (): Coroutine<QueueRun> {
    const q = makeQueue(kind, maxsize);
    const put: number[] = [];
    const got: number[] = [];
    const waitedGetters: number[] = [];
    const waitedPutters: number[] = [];
    const tasks: Task<void>[] = [];
    let nextItem = 0;
    let arrivals = 0;
    let overtakes = 0;
    for (const action of actions) {
      // The first-come first-served invariant: what a newcomer could take now is not owed to a waiter.
      if (someoneWaits(tasks, "Queue.get") && !q.empty()) overtakes++;
      if (someoneWaits(tasks, "Queue.put") && !q.full()) overtakes++;
      switch (action.kind) {
        case "put": {
          const item = nextItem++;
          tasks.push(
            spawn(function* () {
              const arrival = arrivals++;
              const waits = q.full();
              yield* q.put(item);
              put.push(item);
              if (waits) waitedPutters.push(arrival);
            }),
          );
          break;
        }
        case "get":
          tasks.push(
            spawn(function* () {
              const arrival = arrivals++;
              const waits = q.empty();
              got.push(yield* q.get());
              if (waits) waitedGetters.push(arrival);
            }),
          );
          break;
        case "putNowait": {
          const item = nextItem++;
          try {
            q.putNowait(item);
            put.push(item);
          } catch (error) {
            if (!(error instanceof QueueFull || error instanceof QueueShutDown)) throw error;
          }
          break;
        }
        case "getNowait":
          try {
            got.push(q.getNowait());
          } catch (error) {
            if (!(error instanceof QueueEmpty || error instanceof QueueShutDown)) throw error;
          }
          break;
        case "cancel":
          if (tasks.length > 0) tasks[action.target % tasks.length]!.cancel();
          break;
        case "cancelWoken":
          cancelWoken(tasks, action.target);
          break;
        case "shutdown":
          q.shutdown(); // puts fail from now on; what is in the queue can still be got
          break;
        case "turn":
          yield;
          break;
      }
    }
    for (const task of tasks) task.cancel();
    yield* settle(tasks);
    const remaining: number[] = [];
    while (!q.empty()) remaining.push(q.getNowait());
    expect(q.qsize()).toBe(0);
    return { put, got, remaining, waitedGetters, waitedPutters, overtakes };
  });
}

const ascending = (xs: number[]) => xs.every((x, i) => i === 0 || (xs[i - 1] as number) < x);
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

describe("queue conservation", () => {
  for (const kind of ["fifo", "lifo", "priority"] as const) {
    test(`${kind}: every item put is got exactly once or is still in the queue, shutdown or not; waiters are served in arrival order`, async () => {
      const cancelsBefore = wokenCancels;
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 4 }),
          fc.array(queueAction, { maxLength: 100, size: "max" }),
          fc.option(fc.nat(100), { freq: 4 }),
          async (maxsize, actions, shutdownAt) => {
            // a shutdown() in about one run out of four, somewhere among the actions
            const plan = [...actions];
            if (shutdownAt !== null) plan.splice(shutdownAt, 0, { kind: "shutdown" });
            const r = await runQueue(kind, maxsize, plan);
            expect(new Set(r.got).size).toBe(r.got.length); // nothing got twice
            expect(sorted([...r.got, ...r.remaining])).toEqual(sorted(r.put)); // nothing lost, nothing invented
            if (kind === "fifo") expect([...r.got, ...r.remaining]).toEqual(r.put); // and in order
            expect(r.overtakes).toBe(0);
            expect(ascending(r.waitedGetters)).toBe(true);
            expect(ascending(r.waitedPutters)).toBe(true);
          },
        ),
        { numRuns: 150 },
      );
      // The fix that made waitingOn() null for woken tasks must not leave this property without them.
      expect(wokenCancels).toBeGreaterThan(cancelsBefore);
    });
  }
});

type PermitAction =
  | { kind: "worker"; hold: number }
  | { kind: "cancel"; target: number }
  | { kind: "cancelWoken"; target: number }
  | { kind: "turn" };

const permitAction: fc.Arbitrary<PermitAction> = fc.oneof(
  { arbitrary: fc.nat(3).map((hold) => ({ kind: "worker", hold }) as const), weight: 4 },
  { arbitrary: fc.nat(60).map((target) => ({ kind: "cancel", target }) as const), weight: 2 },
  { arbitrary: fc.nat(60).map((target) => ({ kind: "cancelWoken", target }) as const), weight: 2 },
  { arbitrary: fc.constant({ kind: "turn" } as const), weight: 3 },
);

interface Lockish {
  acquire(): Coroutine<true>;
  release(): void;
  locked(): boolean;
}

interface PermitRun {
  most: number;
  insideAtEnd: number;
  waited: number[];
  conservedThroughout: boolean;
  overtakes: number;
}

async function runPermits(make: () => Lockish, free: (x: Lockish) => number, limit: number, actions: PermitAction[]): Promise<PermitRun & { freeAtEnd: number }> {
  return run(function* () {
    const lock = make();
    let inside = 0;
    let most = 0;
    let conservedThroughout = true;
    let arrivals = 0;
    const waited: number[] = [];
    const tasks: Task<void>[] = [];
    let overtakes = 0;
    const check = () => {
      if (free(lock) + inside > limit) conservedThroughout = false;
      if (free(lock) > 0 && (someoneWaits(tasks, "Semaphore.acquire") || someoneWaits(tasks, "Lock.acquire"))) overtakes++;
    };
    for (const action of actions) {
      if (action.kind === "worker") {
        tasks.push(
          spawn(function* () {
            const arrival = arrivals++;
            const waits = lock.locked();
            yield* lock.acquire();
            if (waits) waited.push(arrival);
            inside++;
            most = Math.max(most, inside);
            check();
            try {
              for (let i = 0; i < action.hold; i++) yield;
            } finally {
              inside--;
              lock.release();
              check();
            }
          }),
        );
      } else if (action.kind === "cancel") {
        if (tasks.length > 0) tasks[action.target % tasks.length]!.cancel();
        check();
      } else if (action.kind === "cancelWoken") {
        cancelWoken(tasks, action.target);
        check();
      } else {
        yield;
        check();
      }
    }
    for (const task of tasks) task.cancel();
    yield* settle(tasks);
    return { most, insideAtEnd: inside, waited, conservedThroughout, overtakes, freeAtEnd: free(lock) };
  });
}

describe("permit conservation", () => {
  test("Semaphore: never more holders than permits, every permit comes back, waiters served in arrival order", async () => {
    const cancelsBefore = wokenCancels;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.array(permitAction, { maxLength: 100, size: "max" }), async (value, actions) => {
        const r = await runPermits(
          () => new Semaphore(value),
          (s) => (s as Semaphore).value,
          value,
          actions,
        );
        expect(r.most).toBeLessThanOrEqual(value);
        expect(r.conservedThroughout).toBe(true);
        expect(r.overtakes).toBe(0);
        expect(r.insideAtEnd).toBe(0);
        expect(r.freeAtEnd).toBe(value);
        expect(ascending(r.waited)).toBe(true);
      }),
      { numRuns: 150 },
    );
    // The fix that made waitingOn() null for woken tasks must not leave this property without them.
    expect(wokenCancels).toBeGreaterThan(cancelsBefore);
  });

  test("Lock: one holder at a time, free at the end, waiters served in arrival order", async () => {
    const cancelsBefore = wokenCancels;
    await fc.assert(
      fc.asyncProperty(fc.array(permitAction, { maxLength: 100, size: "max" }), async (actions) => {
        const r = await runPermits(
          () => new Lock(),
          (l) => (l.locked() ? 0 : 1),
          1,
          actions,
        );
        expect(r.most).toBeLessThanOrEqual(1);
        expect(r.conservedThroughout).toBe(true);
        expect(r.overtakes).toBe(0);
        expect(r.freeAtEnd).toBe(1);
        expect(ascending(r.waited)).toBe(true);
      }),
      { numRuns: 150 },
    );
    // The fix that made waitingOn() null for woken tasks must not leave this property without them.
    expect(wokenCancels).toBeGreaterThan(cancelsBefore);
  });
});

describe("PriorityQueue order", () => {
  test("items come out smallest first, equal priorities in the order they were put (against a stable sort)", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constant(null)), { maxLength: 200 }), (ops) => {
        // a number: put an item with that priority; null: take one
        const q = new PriorityQueue<{ p: number; n: number }>(0, (a, b) => a.p - b.p);
        const model: { p: number; n: number }[] = [];
        let n = 0;
        for (const op of ops) {
          if (op === null) {
            if (model.length === 0) {
              expect(() => q.getNowait()).toThrow(QueueEmpty);
              continue;
            }
            model.sort((a, b) => a.p - b.p || a.n - b.n);
            expect(q.getNowait()).toEqual(model.shift());
          } else {
            const item = { p: op, n: n++ };
            q.putNowait(item);
            model.push(item);
          }
          expect(q.qsize()).toBe(model.length);
        }
      }),
      { numRuns: 300 },
    );
  });
});

type ConditionAction =
  | { kind: "consumer" }
  | { kind: "produce"; thenCancelWoken: number | null }
  | { kind: "cancel"; target: number }
  | { kind: "cancelWoken"; target: number }
  | { kind: "turn" };

const conditionAction: fc.Arbitrary<ConditionAction> = fc.oneof(
  { arbitrary: fc.constant({ kind: "consumer" } as const), weight: 3 },
  {
    // a notify, and in half the cases a cancel of a woken consumer in the same turn
    arbitrary: fc.option(fc.nat(60), { freq: 2 }).map((thenCancelWoken) => ({ kind: "produce", thenCancelWoken }) as const),
    weight: 3,
  },
  { arbitrary: fc.nat(60).map((target) => ({ kind: "cancel", target }) as const), weight: 2 },
  { arbitrary: fc.nat(60).map((target) => ({ kind: "cancelWoken", target }) as const), weight: 2 },
  { arbitrary: fc.constant({ kind: "turn" } as const), weight: 3 },
);

describe("Condition wake-ups", () => {
  test("a notification is never lost to a cancellation: no token is left while a consumer sleeps", async () => {
    const cancelsBefore = wokenCancels;
    await fc.assert(
      fc.asyncProperty(fc.array(conditionAction, { maxLength: 80, size: "max" }), async (actions) => {
        await run(function* () {
          const cond = new Condition();
          let tokens = 0;
          let produced = 0;
          let consumed = 0;
          const tasks: Task<void>[] = [];
          function* consumer(): Coroutine<void> {
            yield* cond.withLock(function* () {
              yield* cond.waitFor(() => tokens > 0);
              tokens--;
              consumed++;
            });
          }
          for (const action of actions) {
            switch (action.kind) {
              case "consumer":
                tasks.push(spawn(consumer));
                break;
              case "produce":
                yield* cond.withLock(function* () {
                  tokens++;
                  produced++;
                  cond.notify(1);
                });
                if (action.thenCancelWoken !== null) cancelWoken(tasks, action.thenCancelWoken);
                break;
              case "cancel":
                if (tasks.length > 0) tasks[action.target % tasks.length]!.cancel();
                break;
              case "cancelWoken":
                cancelWoken(tasks, action.target);
                break;
              case "turn":
                yield;
                break;
            }
          }
          for (let i = 0; i < 10; i++) yield; // let every woken consumer run
          expect(tokens > 0 && someoneWaits(tasks, "Condition.wait")).toBe(false);
          expect(produced).toBe(consumed + tokens);
          expect(cond.locked()).toBe(false);
          for (const task of tasks) task.cancel();
          yield* settle(tasks);
          expect(cond.locked()).toBe(false);
        });
      }),
      { numRuns: 150 },
    );
    // The fix that made waitingOn() null for woken tasks must not leave this property without them.
    expect(wokenCancels).toBeGreaterThan(cancelsBefore);
  });
});

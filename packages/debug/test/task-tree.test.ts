import { EventLoop, gather, run, taskGroup, type Coroutine, type Future, type Task } from "@loop/core";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { dumpTasks, formatTaskTree, type TaskDump } from "../src/index.js";
import { labelled, runTurns, waitOn } from "./helpers.js";
import { propertyRuns } from "./property-runs.js";

function* awaitTask(holder: { task?: Task<unknown> }): Coroutine<void> {
  yield; // let the other tasks be created first
  yield* holder.task as Task<unknown>;
}

describe("dumpTasks", () => {
  test("names each task, its state and the primitive it waits on", async () => {
    const loop = new EventLoop({ debug: false });
    const queueGet = labelled<string>(loop, "Queue.get");
    const waiter = loop.createTask(waitOn(queueGet), { name: "consumer" });
    loop.createTask(
      (function* () {
        for (;;) yield;
      })(),
      { name: "spinner" },
    );
    await runTurns(loop, 2);
    const dump = dumpTasks(loop);
    expect(dump.tasks.map((t) => [t.name, t.state, t.waitingOn])).toEqual([
      ["consumer", "waiting", "Queue.get"],
      ["spinner", "ready", null],
    ]);
    expect(dump.edges).toEqual([]);
    expect(dump.deadlocks).toEqual([]);
    expect(dump.debug).toBe(false);
    expect(waiter.done()).toBe(false);
    loop.close();
  });

  test("the task doing the dump is running", async () => {
    const states = await run(function* () {
      return dumpTasks().tasks.map((t) => t.state);
    });
    expect(states).toEqual(["running"]);
  });

  test("a task waiting on a task, on a gather and at a task group's exit gives await, gather and taskGroup edges", async () => {
    const loop = new EventLoop({ debug: false });
    const gate = labelled<void>(loop, "Event.wait");
    let dump: TaskDump | undefined;
    const main = loop.createTask(
      (function* (): Coroutine<void> {
        const child = loop.createTask(waitOn(gate), { name: "awaited" });
        const inGroup = yield* taskGroup(function* (tg) {
          tg.createTask(waitOn(gate), { name: "grouped" });
          const gathering = loop.createTask(
            (function* () {
              yield* gather([waitOn(gate), loop.createTask(waitOn(gate), { name: "gathered" })]);
            })(),
            { name: "gatherer" },
          );
          return gathering;
        });
        yield* child;
        yield* inGroup;
      })(),
      { name: "main" },
    );
    loop.callSoon(() => loop.callSoon(() => loop.callSoon(() => loop.callSoon(() => {
      dump = dumpTasks(loop);
      gate.setResult();
    }))));
    await loop.runUntilComplete(main);
    loop.close();
    const d = dump as TaskDump;
    const name = (id: number): string => d.tasks.find((t) => t.id === id)?.name ?? "?";
    const edges = d.edges.map((e) => `${name(e.awaiter)} -${e.kind}-> ${name(e.awaited)}`).sort();
    // gather([coroutine, task]): the coroutine became a task with a default name.
    expect(edges).toEqual([expect.stringMatching(/^gatherer -gather-> Task-\d+$/), "gatherer -gather-> gathered", "main -taskGroup-> grouped"]);
    expect(d.tasks.find((t) => t.name === "main")?.waitingOn).toBe("TaskGroup exit");
  });

  test("two tasks awaiting each other are a deadlock", async () => {
    const loop = new EventLoop({ debug: false });
    const toB: { task?: Task<unknown> } = {};
    const toA: { task?: Task<unknown> } = {};
    const a = loop.createTask(awaitTask(toB), { name: "A" });
    const b = loop.createTask(awaitTask(toA), { name: "B" });
    toB.task = b;
    toA.task = a;
    await runTurns(loop, 3);
    const dump = dumpTasks(loop);
    const idOf = (n: string): number => dump.tasks.find((t) => t.name === n)?.id ?? -1;
    expect(dump.deadlocks).toEqual([[idOf("A"), idOf("B")].sort((x, y) => x - y)]);
    const text = formatTaskTree(dump);
    expect(text).toContain('DEADLOCK: Task "A" awaits Task "B" awaits Task "A"');
    // A cycle has no root, yet its tasks are printed.
    expect(text).toContain('Task "A" waiting on task "B"');
    loop.close(); // the cycle can never end; the loop is dropped with it
  });

  test("in debug mode a task says where it is suspended, in which coroutine, and where it was created", async () => {
    const loop = new EventLoop({ debug: true });
    loop.debugLogger = { warn() {} };
    const get = labelled<void>(loop, "Queue.get");
    function* consumer(): Coroutine<void> {
      yield* get;
    }
    loop.createTask(consumer(), { name: "consumer" });
    await runTurns(loop, 2);
    const [info] = dumpTasks(loop).tasks;
    expect(info?.coroutine).toMatch(/^consumer running at .*task-tree\.test\.ts:\d+:\d+$/);
    expect(info?.suspendedAt).toMatch(/^consumer \(.*task-tree\.test\.ts:\d+:\d+\)$/);
    expect(info?.createdAt).toMatch(/task-tree\.test\.ts:\d+:\d+/);
    get.setResult();
    await runTurns(loop, 2);
    loop.close();
  });
});

describe("formatTaskTree", () => {
  test("prints each task under its awaiter, like asyncio pstree", async () => {
    const loop = new EventLoop({ debug: false });
    const sleep = labelled<void>(loop, "sleep(100)");
    const lock = labelled<void>(loop, "Lock.acquire");
    const main = loop.createTask(
      (function* () {
        const a = loop.createTask(waitOn(sleep), { name: "a" });
        const b = loop.createTask(waitOn(lock), { name: "b" });
        yield* gather([a, b]);
      })(),
      { name: "main" },
    );
    await runTurns(loop, 3);
    expect(formatTaskTree(loop)).toBe(
      [
        '└── Task "main" waiting on gather(2)',
        '    ├── [gather] Task "a" waiting on sleep(100)',
        '    └── [gather] Task "b" waiting on Lock.acquire',
        "(locations are known in debug mode: run({ debug: true }) or LOOP_DEBUG=1)",
      ].join("\n"),
    );
    sleep.setResult();
    lock.setResult();
    await loop.runUntilComplete(main);
    expect(formatTaskTree(loop)).toBe("(no live tasks)");
    loop.close();
  });
});

describe("deadlock detection (property)", () => {
  test("the deadlocks reported are exactly the cycles of who-awaits-whom", async () => {
    // Each task either waits on a gate or awaits one other task: a functional graph, whose
    // cycles are computed here independently.
    const graphs = fc.integer({ min: 1, max: 7 }).chain((n) => fc.array(fc.integer({ min: -1, max: n - 1 }), { minLength: n, maxLength: n }));
    await fc.assert(
      fc.asyncProperty(graphs, async (targets) => {
        const n = targets.length;
        const loop = new EventLoop({ debug: false });
        const gate: Future<void> = loop.createFuture();
        const holders = targets.map(() => ({}) as { task?: Task<unknown> });
        const tasks = targets.map((target, i) =>
          loop.createTask(target < 0 || target === i ? waitOn(gate) : awaitTask(holders[target] as { task?: Task<unknown> }), { name: `t${i}` }),
        );
        targets.forEach((_t, i) => ((holders[i] as { task?: Task<unknown> }).task = tasks[i]));
        await runTurns(loop, 3);
        const dump = dumpTasks(loop);
        const nameOf = new Map(dump.tasks.map((t) => [t.id, t.name]));
        const reported = dump.deadlocks.map((c) => c.map((id) => Number((nameOf.get(id) as string).slice(1))));
        loop.close();
        expect(normalize(reported)).toEqual(normalize(expectedCycles(targets.map((t, i) => (t === i ? -1 : t)))));
        expect(n).toBe(dump.tasks.length);
      }),
      { numRuns: propertyRuns(150) },
    );
  });
});

function expectedCycles(next: number[]): number[][] {
  const cycles: number[][] = [];
  const done = new Set<number>();
  for (let start = 0; start < next.length; start++) {
    const path: number[] = [];
    let node = start;
    while (node >= 0 && !done.has(node) && !path.includes(node)) {
      path.push(node);
      node = next[node] as number;
    }
    if (node >= 0 && path.includes(node)) cycles.push(path.slice(path.indexOf(node)));
    for (const p of path) done.add(p);
  }
  return cycles;
}

function normalize(cycles: number[][]): string[] {
  return cycles
    .map((c) => {
      const i = c.indexOf(Math.min(...c));
      return [...c.slice(i), ...c.slice(0, i)].join(">");
    })
    .sort();
}

describe("a woken task", () => {
  test("the task tree of a task whose future is done but whose step has not run says ready, waiting on nothing", async () => {
    const loop = new EventLoop({ debug: false });
    const item = labelled<string>(loop, "Queue.get");
    const consumer = loop.createTask(waitOn(item), { name: "consumer" });
    await runTurns(loop, 2);
    expect(dumpTasks(loop).tasks.map((t) => [t.name, t.state, t.waitingOn])).toEqual([["consumer", "waiting", "Queue.get"]]);
    // The future is done: the consumer is queued, not waiting, until its next step runs.
    item.setResult("x");
    expect(consumer.state()).toBe("woken");
    const dump = dumpTasks(loop);
    expect(dump.tasks.map((t) => [t.name, t.state, t.waitingOn])).toEqual([["consumer", "ready", null]]);
    expect(formatTaskTree(dump)).toContain('Task "consumer" ready');
    await runTurns(loop, 1);
    expect(consumer.result()).toBe("x");
    loop.close();
  });
});

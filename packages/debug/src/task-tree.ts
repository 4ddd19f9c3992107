import {
  GatheringFuture,
  Task,
  coroutineFrame,
  creationFrames,
  describeWait,
  getRunningLoop,
  suspensionFrames,
  userFrame,
  type AbstractTask,
  type EventLoop,
  type Future,
  type TaskState,
} from "@loop/core";
import { frameDescription, runningAt } from "./stack.js";

export { describeWait };

/** How a task waits on another: `yield* task`, through a `gather`, or at a task group's exit. */
export type AwaitKind = "await" | "gather" | "taskGroup";

/** One live task in a `TaskDump`: plain data, ready for JSON. */
export interface TaskInfo {
  /** Stable for the task's life, across dumps (not asyncio's id(), which is an address). */
  id: number;
  /** The task's name. */
  name: string;
  /** running: this is the task dumping; ready: its next step is queued (woken ones too); waiting: suspended on a pending future. */
  state: "running" | "ready" | "waiting";
  /** Cancellation requests pending (`task.cancelling()`). */
  cancelling: number;
  /** What it waits on: the future's label ("Queue.get", "sleep(100)"), `task "x"`, `gather(3)`. */
  waitingOn: string | null;
  /** The coroutine function, with the line it is at ("main running at src/app.ts:12:7"); debug mode only. */
  coroutine: string | null;
  /** The user's line where it is suspended; debug mode only. */
  suspendedAt: string | null;
  /** The user's line where it was created; debug mode only. */
  createdAt: string | null;
}

/** An edge of the await graph: `awaiter` cannot go on until `awaited` is done. */
export interface AwaitEdge {
  /** The id of the waiting task. */
  awaiter: number;
  /** The id of the task it waits for. */
  awaited: number;
  /** How: awaiting the task itself, through a `gather`, or as the body of a task group. */
  kind: AwaitKind;
}

/**
 * Every live task of a loop and who awaits whom (asyncio's `capture_call_graph` for the
 * whole loop). Cycles in the graph are deadlocks: each task of a cycle waits for the next.
 */
export interface TaskDump {
  /** Every live task. */
  tasks: TaskInfo[];
  /** Who awaits whom. */
  edges: AwaitEdge[];
  /** Each cycle once, as the task ids in await order; non-empty means deadlock. */
  deadlocks: number[][];
  /** True when the loop is in debug mode, so that locations are known. */
  debug: boolean;
}

const ids = new WeakMap<AbstractTask<unknown>, number>();
let nextId = 1;

/** A stable small number for a task, for dumps and traces. */
export function taskId(task: AbstractTask<unknown>): number {
  let id = ids.get(task);
  if (id === undefined) {
    id = nextId++;
    ids.set(task, id);
  }
  return id;
}

/**
 * Captures every live task of `loop` (the running loop by default): name, state, what it
 * waits on and where, and the await graph with its cycles.
 * @example
 * const dump = dumpTasks(loop);
 * if (dump.deadlocks.length > 0) console.error(formatTaskTree(dump));
 */
export function dumpTasks(loop?: EventLoop): TaskDump {
  const target = loop ?? getRunningLoop();
  const live = target.allTasks();
  const tasks: TaskInfo[] = [];
  const edges: AwaitEdge[] = [];
  // Edges that stand for a real wait right now: the only ones a deadlock can run through.
  const blocking = new Map<number, number[]>();
  const addEdge = (awaiter: Task<unknown>, awaited: Task<unknown>, kind: AwaitKind, blocks: boolean): void => {
    if (!live.has(awaited)) return;
    const from = taskId(awaiter);
    const to = taskId(awaited);
    edges.push({ awaiter: from, awaited: to, kind });
    if (blocks) {
      const list = blocking.get(from);
      if (list === undefined) blocking.set(from, [to]);
      else list.push(to);
    }
  };

  for (const task of live) {
    const waitingOn = task.waitingOn();
    const suspension = suspensionFrames(task);
    const coroutine = coroutineFrame(suspension);
    const suspendedFrame = userFrame(suspension) ?? (waitingOn === null ? undefined : userFrame(creationFrames(waitingOn)));
    const createdFrame = userFrame(creationFrames(task));
    tasks.push({
      id: taskId(task),
      name: task.name,
      state: treeState(task.state()),
      cancelling: task.cancelling(),
      waitingOn: waitingOn === null ? null : describeWait(waitingOn),
      coroutine: coroutine === undefined ? null : runningAt(coroutine),
      suspendedAt: suspendedFrame === undefined ? null : frameDescription(suspendedFrame),
      createdAt: createdFrame === undefined ? null : frameDescription(createdFrame),
    });
    if (waitingOn !== null) addWaitEdges(task, waitingOn, addEdge, new Set());
    const group = task.parentGroup();
    if (group !== null) {
      const parent = group.parentTask() as Task<unknown>;
      // The parent really waits for its children only at the group's exit.
      addEdge(parent, task, "taskGroup", parent.waitingOn()?.label === "TaskGroup exit");
    }
  }
  tasks.sort((a, b) => a.id - b.id);
  return { tasks, edges, deadlocks: findCycles(blocking), debug: target.getDebug() };
}

/** A woken task's next step is queued like a ready one's: the tree says ready. */
function treeState(state: TaskState): TaskInfo["state"] {
  return state === "running" || state === "waiting" ? state : "ready";
}

function addWaitEdges(
  task: Task<unknown>,
  future: Future<unknown>,
  addEdge: (awaiter: Task<unknown>, awaited: Task<unknown>, kind: AwaitKind, blocks: boolean) => void,
  seen: Set<Future<unknown>>,
): void {
  if (seen.has(future)) return;
  seen.add(future);
  if (future instanceof Task) {
    addEdge(task, future, "await", true);
  } else if (future instanceof GatheringFuture) {
    for (const child of future.children()) {
      if (child instanceof Task) addEdge(task, child, "gather", true);
      else if (child instanceof GatheringFuture) addWaitEdges(task, child, addEdge, seen);
    }
  }
}

/** Every elementary cycle reachable in `graph`, each once, starting at its smallest id. */
function findCycles(graph: Map<number, number[]>): number[][] {
  const cycles: number[][] = [];
  const seenKeys = new Set<string>();
  const state = new Map<number, 1 | 2>(); // 1: on the current path, 2: finished
  const path: number[] = [];
  const visit = (node: number): void => {
    state.set(node, 1);
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      const s = state.get(next);
      if (s === 1) {
        const cycle = path.slice(path.indexOf(next));
        const start = cycle.indexOf(Math.min(...cycle));
        const normal = [...cycle.slice(start), ...cycle.slice(0, start)];
        const key = normal.join(",");
        if (!seenKeys.has(key)) {
          seenKeys.add(key);
          cycles.push(normal);
        }
      } else if (s === undefined) {
        visit(next);
      }
    }
    path.pop();
    state.set(node, 2);
  };
  for (const node of [...graph.keys()].sort((a, b) => a - b)) if (!state.has(node)) visit(node);
  return cycles;
}

/**
 * The task tree as text, like `python -m asyncio pstree`: each task under the task that
 * awaits it (directly, through a `gather`, or at its task group's exit), then the
 * deadlocks. Takes a `TaskDump`, or a loop to dump (the running loop by default).
 * @example
 * console.error(formatTaskTree(loop));
 * // └── Task "main" waiting on gather(2) at main (src/app.ts:12:7)
 * //     ├── [gather] Task "a" waiting on sleep(100) at fetchOne (src/app.ts:4:5)
 * //     └── [gather] Task "b" waiting on Queue.get at fetchOne (src/app.ts:4:5)
 */
export function formatTaskTree(source?: TaskDump | EventLoop): string {
  const dump = source === undefined || !("tasks" in source) ? dumpTasks(source) : source;
  const byId = new Map(dump.tasks.map((t) => [t.id, t]));
  const children = new Map<number, AwaitEdge[]>();
  const awaited = new Set<number>();
  for (const edge of dump.edges) {
    const list = children.get(edge.awaiter);
    if (list === undefined) children.set(edge.awaiter, [edge]);
    else list.push(edge);
    awaited.add(edge.awaited);
  }
  const lines: string[] = [];
  if (dump.tasks.length === 0) lines.push("(no live tasks)");
  const printed = new Set<number>();
  const print = (id: number, via: AwaitKind | null, prefix: string, last: boolean, path: Set<number>): void => {
    const task = byId.get(id);
    if (task === undefined) return;
    printed.add(id);
    const branch = last ? "└── " : "├── ";
    const tag = via === null || via === "await" ? "" : `[${via === "gather" ? "gather" : "task group"}] `;
    if (path.has(id)) {
      lines.push(`${prefix}${branch}${tag}${taskLine(task)} (cycle: awaits an ancestor)`);
      return;
    }
    lines.push(`${prefix}${branch}${tag}${taskLine(task)}`);
    const next = [...(children.get(id) ?? [])].sort((a, b) => a.awaited - b.awaited);
    const childPrefix = prefix + (last ? "    " : "│   ");
    path.add(id);
    next.forEach((edge, i) => print(edge.awaited, edge.kind, childPrefix, i === next.length - 1, path));
    path.delete(id);
  };
  const roots = dump.tasks.filter((t) => !awaited.has(t.id));
  roots.forEach((t, i) => print(t.id, null, "", i === roots.length - 1, new Set()));
  // Tasks only reachable through a cycle have no root: print them from the cycle's start.
  for (const cycle of dump.deadlocks) {
    const start = cycle[0] as number;
    if (!printed.has(start)) print(start, null, "", true, new Set());
  }
  for (const cycle of dump.deadlocks) {
    const names = cycle.map((id) => `Task ${JSON.stringify(byId.get(id)?.name ?? String(id))}`);
    lines.push(`DEADLOCK: ${[...names, names[0]].join(" awaits ")}`);
  }
  if (!dump.debug && dump.tasks.length > 0) lines.push("(locations are known in debug mode: run({ debug: true }) or LOOP_DEBUG=1)");
  return lines.join("\n");
}

function taskLine(task: TaskInfo): string {
  let line = `Task ${JSON.stringify(task.name)}`;
  if (task.state === "waiting") line += ` waiting on ${task.waitingOn ?? "?"}`;
  else line += ` ${task.state}`;
  if (task.cancelling > 0) line += ` (cancelling)`;
  // Where it was created stays in the dump (createdAt): one location per line keeps the tree readable.
  if (task.suspendedAt !== null) line += ` at ${task.suspendedAt}`;
  return line;
}

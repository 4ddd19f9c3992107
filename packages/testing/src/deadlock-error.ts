import { describeWait, type Task } from "@loop/core";

/** One task that a deadlock left blocked. */
export interface BlockedTask {
  /** The task's name. */
  readonly name: string;
  /** What it waits on: its future's `label`, the awaited task's name, or the future's kind. */
  readonly waitingOn: string;
  /** The blocked task itself. */
  readonly task: Task<unknown>;
}

/**
 * A virtual-time run can never go on: nothing is ready, no timer is pending, and no work
 * outside the loop (a Promise, a socket, a worker job) can wake it. The message lists
 * every blocked task and what it waits on.
 */
export class DeadlockError extends Error {
  /** The virtual time (ms) at which the loop got stuck. */
  readonly time: number;
  /** The tasks still pending, in creation order. */
  readonly blocked: readonly BlockedTask[];

  constructor(time: number, tasks: Iterable<Task<unknown>>) {
    const blocked = [...tasks].map((task) => ({ name: task.name, waitingOn: describeWait(task.waitingOn()), task }));
    super(deadlockMessage(time, blocked));
    this.name = "DeadlockError";
    this.time = time;
    this.blocked = blocked;
  }
}

function deadlockMessage(time: number, blocked: readonly BlockedTask[]): string {
  const head = `deadlock at virtual time ${time} ms: no callback is ready, no timer is pending and no outside work can wake the loop`;
  if (blocked.length === 0) return `${head}; no task is pending either (the loop was left running with nothing to do)`;
  const lines = blocked.map((b) => `  - task ${JSON.stringify(b.name)} waiting on ${b.waitingOn}`);
  return `${head}. ${blocked.length === 1 ? "1 task is" : `${blocked.length} tasks are`} blocked:\n${lines.join("\n")}`;
}

/**
 * What the diagnostics of core, `@loop/debug` and `@loop/testing` say about futures and
 * tasks: where one was created, where a task is suspended and in which coroutine, and
 * what it waits on. Written once here so that a debug-mode report, a task tree and a
 * deadlock error agree (CPython keeps the like in `format_helpers.py`). The stack
 * reading itself is in `stack-frames.ts`.
 */
import type { Future } from "./future.js";
import { GatheringFuture } from "./gather.js";
import { stackReader, type StackFrame } from "./stack-frames.js";
import { Task } from "./task.js";

/** A stack to read: a captured Error, a stack's text, or frames already read. */
export type StackSource = Error | string | readonly StackFrame[] | undefined;

/**
 * The frames of a stack, innermost first. From an Error captured on V8 they come from
 * its structured call sites; from text, by parsing V8's or SpiderMonkey's format.
 * @example
 * for (const frame of stackFrames(new Error())) console.log(frame.functionName, frame.location);
 */
export function stackFrames(stack: StackSource): readonly StackFrame[] {
  return stackReader.frames(stack);
}

/** The frames of where `future` was created; empty outside debug mode. */
export function creationFrames(future: Future<unknown>): readonly StackFrame[] {
  return stackReader.frames(future._source);
}

/** The frames of where `task` is suspended; empty outside debug mode and while it is not suspended. */
export function suspensionFrames(task: Task<unknown>): readonly StackFrame[] {
  return stackReader.frames(task._suspendError);
}

/**
 * The innermost frame of the user's code: neither engine code nor a module of a package
 * that called `registerLibraryModule` (every `@loop` package does).
 * @example
 * const where = userFrame(creationFrames(future))?.location; // "file:///app/src/main.ts:12:7"
 */
export function userFrame(stack: StackSource): StackFrame | undefined {
  return stackReader.userFrame(stack);
}

/**
 * The coroutine a task runs, from a stack captured during one of its steps (a
 * `suspensionFrames`): the generator the step resumed, with the line it is at.
 * Undefined when the stack does not reach the step (it is cut at 48 frames).
 */
export function coroutineFrame(stack: StackSource): StackFrame | undefined {
  return stackReader.coroutineFrame(stack);
}

/**
 * What a future stands for, in a few words: its `label` when the primitive that made it
 * set one ("sleep(100)", "Queue.get"), else what it is (`task "worker"`, `gather(3)`).
 * `null` stands for a task that waits on no future.
 * @example
 * describeWait(task.waitingOn()); // "Lock.acquire"
 */
export function describeWait(future: Future<unknown> | null): string {
  if (future === null) return "nothing (it is not suspended on a future)";
  // The label is what the code that made the future said it is for: it beats the kind.
  if (future.label !== undefined) return future.label;
  if (future instanceof Task) return `task ${JSON.stringify(future.name)}`;
  if (future instanceof GatheringFuture) return `gather(${future.children().length})`;
  return `an unlabelled ${future.constructor.name}`;
}

import { claimSingleCopy } from "./single-copy.js";
import type { AbstractContext, AbstractEventLoop, AbstractTask } from "./types.js";

// Before any state exists: a second copy of core must fail here, at load, not later with a
// confusing "no running event loop" from the other copy (see single-copy.ts). Core is built
// without host typings, which is where `ImportMeta.url` is declared.
claimSingleCopy((import.meta as unknown as { url: string }).url);

/**
 * What is running right now. JavaScript runs one callback at a time, so one record serves
 * every loop: `EventLoop.runOnce` sets `loop` for the length of a turn, a task step sets
 * `task` and `context` for the length of the step, and each restores what it found, so
 * that several loops can interleave their turns on one thread.
 *
 * `context === null` stands for an empty context that nobody has written to yet: most
 * programs never use a ContextVar, and this lets them skip the per-task context copy.
 *
 * The fields hold an `EventLoop`, a `Task` and a `Context`, but are typed by their
 * interfaces: every module reads this record, so it sits below the classes (see
 * docs/design.md, "Module layering"). A module above a class narrows with `as`.
 */
export const current: {
  loop: AbstractEventLoop | null;
  task: AbstractTask<unknown> | null;
  context: AbstractContext | null;
} = { loop: null, task: null, context: null };

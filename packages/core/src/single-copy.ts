import { VERSION } from "./version.js";

/**
 * One @loop/core per process. Core keeps module state (the running loop and task in
 * `state.ts`) and classes that other packages test with `instanceof` (`Future`, `Task`), so
 * a second copy of core, which a version skew between @loop packages can install, would
 * silently split the program in two: `getRunningLoop()` throws inside the other copy's
 * tasks and its futures are "bad yields". Each copy claims a process-wide slot keyed by a
 * registered symbol on globalThis (the same for every module instance in a realm) and the second
 * one refuses to load, with an error that says what to do. (Another realm, a worker or an
 * iframe, has its own globalThis and its own copy of everything: not a duplicate.)
 */
const SLOT = Symbol.for("@loop/core:loaded");

/** What the first copy of core leaves in the slot. */
export interface LoadedCore {
  readonly version: string;
  /** The URL of the module that claimed the slot: where that copy lives on disk. */
  readonly url: string;
}

/**
 * Claims the slot for this copy, or throws when another copy holds it. The same module
 * evaluated again from the same URL (a test runner's fresh module graph) is not a second
 * copy, so it takes the slot over.
 */
export function claimSingleCopy(url: string, version: string = VERSION): void {
  const slots = globalThis as unknown as Record<symbol, LoadedCore | undefined>;
  const first = slots[SLOT];
  if (first !== undefined && first.url !== url) {
    throw new Error(duplicateCoreMessage(first, { version, url }));
  }
  slots[SLOT] = Object.freeze({ version, url });
}

/** The message of the error a second copy of core throws when it loads. */
export function duplicateCoreMessage(first: LoadedCore, second: LoadedCore): string {
  return (
    `@loop/core is loaded twice in this process: ${first.version} from ${first.url} and ` +
    `${second.version} from ${second.url}. Each copy has its own event loop state and its ` +
    "own Future and Task classes, so tasks, futures and getRunningLoop() would not work " +
    "across the two. Make every @loop package share one core: align the @loop package " +
    "versions so that their peer ranges of @loop/core overlap, then run `npm dedupe` " +
    "(or `pnpm dedupe`); `npm ls @loop/core` shows which package brings which copy."
  );
}

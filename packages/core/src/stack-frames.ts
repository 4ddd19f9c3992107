/**
 * Reading the stacks that debug mode keeps: which frame is the user's code, which is
 * @loop's own, and which is the coroutine a task step resumed. The one place that knows
 * how stacks look (CPython keeps the like in `format_helpers.py`); core, `@loop/debug`
 * and `@loop/testing` all read stacks through it.
 *
 * Where the engine offers structured call sites (V8: `Error.prepareStackTrace` receives
 * `CallSite` objects), frames are classified from those; elsewhere, and for stacks that
 * only exist as text, the text is parsed (V8's "    at fn (file:1:2)" and the
 * "fn@file:1:2" of SpiderMonkey and JavaScriptCore).
 *
 * Library code is recognised by the URL of its modules, never by folder or function
 * names: each @loop package registers the folder its modules were loaded from
 * (`registerLibraryModule(import.meta.url)`), so an application whose own monorepo has a
 * `packages/core/src` keeps its frames. This file imports nothing.
 */

declare global {
  // Core is built without DOM or Node typings; every ES module host defines this.
  interface ImportMeta {
    url: string;
  }
}

/** One frame of a captured stack. */
export interface StackFrame {
  /** "main", "Queue.get", "async fetch"; null for an anonymous function or a module's top level. */
  readonly functionName: string | null;
  /** Where the code is, as the engine printed it ("file:///app/src/main.ts:12:7"); null for engine code. */
  readonly location: string | null;
  /** The script the code runs from, for telling library code apart; null for engine code. */
  readonly file: string | null;
  /** Engine code: generator trampolines (`main.next (<anonymous>)`), `node:` internals, native functions. */
  readonly native: boolean;
  /** The frame as one line: "main (file:///app/src/main.ts:12:7)". */
  readonly text: string;
}

/** The part of V8's `CallSite` read here. */
interface CallSite {
  getFileName(): string | null | undefined;
  isNative(): boolean;
  toString(): string;
}

type PrepareStackTrace = (error: Error, sites: CallSite[]) => unknown;

interface V8ErrorConstructor {
  stackTraceLimit?: number;
  prepareStackTrace?: PrepareStackTrace;
  captureStackTrace?: (target: object) => void;
}

const V8Error = Error as unknown as V8ErrorConstructor;

/** "file:///a/b.ts", "/a/b.ts" and "C:\a\b.ts" become one comparable form: "/a/b.ts", "C:/a/b.ts". */
function normalizeFile(file: string): string {
  let out = file;
  const query = out.search(/[?#]/);
  if (query >= 0) out = out.slice(0, query);
  if (out.startsWith("file://")) {
    out = out.slice("file://".length);
    try {
      out = decodeURIComponent(out);
    } catch {
      // A malformed escape: compare the text as it is.
    }
    // file:///C:/x → C:/x
    if (/^\/[A-Za-z]:\//.test(out)) out = out.slice(1);
  }
  return out.replace(/\\/g, "/");
}

/** "file:///a/b.ts:3:5" → "file:///a/b.ts"; a location without line numbers is its own file. */
function fileOfLocation(location: string): string {
  const match = /^(.*?)(?::\d+)?(?::\d+)?$/.exec(location);
  return match === null ? location : (match[1] as string);
}

function isEngineLocation(location: string): boolean {
  return location === "<anonymous>" || location === "native" || location === "[native code]" || location.startsWith("node:");
}

/** One line of a V8 or SpiderMonkey/JavaScriptCore stack, or null for a header or blank line. */
function parseLine(line: string, v8: boolean): StackFrame | null {
  const trimmed = line.trim();
  let functionName: string | null;
  let location: string;
  if (v8) {
    if (!trimmed.startsWith("at ")) return null;
    const body = trimmed.slice(3);
    const match = /^(.*?) \((.*)\)$/.exec(body);
    functionName = match === null ? null : (match[1] as string);
    location = match === null ? body : (match[2] as string);
  } else {
    // The first "@": a URL may hold more (a scoped package's folder), a function name does not.
    const at = trimmed.indexOf("@");
    if (at < 0) return null;
    functionName = at === 0 ? null : trimmed.slice(0, at);
    location = trimmed.slice(at + 1);
  }
  const native = isEngineLocation(location);
  const text = v8 ? trimmed.slice(3) : functionName === null ? location : `${functionName} (${location})`;
  return { functionName, location: native ? null : location, file: native ? null : fileOfLocation(location), native, text };
}

/** Frames from a stack's text, innermost first. */
export function parseStackText(stack: string): StackFrame[] {
  const lines = stack.split("\n");
  const v8 = lines.some((line) => line.trimStart().startsWith("at "));
  const frames: StackFrame[] = [];
  for (const line of lines) {
    const frame = parseLine(line, v8);
    if (frame !== null) frames.push(frame);
  }
  return frames;
}

/**
 * For each error read here on V8: the script file of each call site, null for engine code,
 * innermost first. Only this is kept from the call sites, at once: they hold the frames'
 * receivers, and a report that kept them would keep those objects alive.
 */
const siteFiles = new WeakMap<Error, (string | null)[]>();

/** Frames built from an error, on first demand. */
const framesOf = new WeakMap<Error, readonly StackFrame[]>();

// The hook `stackText` installs for the length of one read (one at a time: reads do not nest).
let reading: Error | null = null;
let readSites: CallSite[] | null = null;
let hostHook: PrepareStackTrace | undefined;

function recordingHook(error: Error, sites: CallSite[]): unknown {
  if (error === reading) readSites = sites;
  if (hostHook !== undefined) return hostHook(error, sites);
  let text = `${error.name}${error.message === "" ? "" : `: ${error.message}`}`;
  for (const site of sites) text += `\n    at ${site.toString()}`;
  return text;
}

/**
 * The text of `error.stack`, formatted by whatever formatter the host has installed, and
 * on V8 the script file of each call site behind it (kept for `StackReader.frames`).
 * Every stack core keeps is read through here: once V8 has formatted a stack, its call
 * sites are gone.
 */
export function stackText(error: Error): string | undefined {
  if (siteFiles.has(error) || typeof V8Error.captureStackTrace !== "function") return error.stack;
  hostHook = V8Error.prepareStackTrace;
  reading = error;
  V8Error.prepareStackTrace = recordingHook;
  let text: unknown;
  try {
    text = error.stack;
  } finally {
    V8Error.prepareStackTrace = hostHook;
    hostHook = undefined;
    reading = null;
  }
  const sites = readSites;
  readSites = null;
  if (typeof text !== "string") return undefined;
  if (sites !== null) {
    const files = new Array<string | null>(sites.length);
    for (let i = 0; i < sites.length; i++) {
      const site = sites[i] as CallSite;
      const file = site.getFileName() ?? null;
      files[i] = file === null || site.isNative() || isEngineLocation(file) ? null : file;
    }
    siteFiles.set(error, files);
  }
  return text;
}

/**
 * The frames of an error: each printed line (the one to show: a source-map-aware
 * formatter, such as Node's --enable-source-maps or vitest's, points it at the source the
 * user wrote) with its call site's script file (what tells library code apart, whatever
 * the source map says). Text parsing alone when the formatter did not print one line per
 * call site, or the engine gave none.
 */
function framesOfError(error: Error): readonly StackFrame[] {
  const known = framesOf.get(error);
  if (known !== undefined) return known;
  const text = stackText(error);
  if (text === undefined) return [];
  const parsed = parseStackText(text);
  const files = siteFiles.get(error);
  let frames: readonly StackFrame[] = parsed;
  if (files !== undefined && files.length === parsed.length) {
    frames = parsed.map((frame, i) => {
      const file = files[i] as string | null;
      return file === null ? { ...frame, location: null, file: null, native: true } : { ...frame, file, native: false };
    });
  }
  framesOf.set(error, frames);
  return frames;
}

/**
 * Knows which modules are library code and which module resumes coroutines. One instance
 * (the default, fed by `registerLibraryModule`) serves the process; tests build their own
 * to read stacks captured elsewhere.
 */
export class StackReader {
  private readonly _folders: string[] = [];
  private _runner: string | null = null;

  /** Marks the folder holding the module at `moduleUrl` (an `import.meta.url`) as library code. */
  addLibraryModule(moduleUrl: string): void {
    const file = normalizeFile(moduleUrl);
    const folder = file.slice(0, file.lastIndexOf("/") + 1);
    if (folder !== "" && !this._folders.includes(folder)) this._folders.push(folder);
  }

  /** Names the module whose frame resumes a task's coroutine: the coroutine sits just inside it. */
  setCoroutineRunner(moduleUrl: string): void {
    this._runner = normalizeFile(moduleUrl);
  }

  /** True for a frame of a registered library module. */
  isLibrary(frame: StackFrame): boolean {
    if (frame.file === null) return false;
    const file = normalizeFile(frame.file);
    for (const folder of this._folders) if (file.startsWith(folder)) return true;
    return false;
  }

  /** The frames of a stack, innermost first: structured where the engine gave call sites. */
  frames(stack: Error | string | readonly StackFrame[] | undefined): readonly StackFrame[] {
    if (stack === undefined) return [];
    if (typeof stack === "string") return parseStackText(stack);
    if (Array.isArray(stack)) return stack;
    return framesOfError(stack as Error);
  }

  /** The innermost frame that is neither library code nor engine code. */
  userFrame(stack: Error | string | readonly StackFrame[] | undefined): StackFrame | undefined {
    for (const frame of this.frames(stack)) if (!frame.native && !this.isLibrary(frame)) return frame;
    return undefined;
  }

  /**
   * The coroutine a task runs, from a stack captured inside one of its steps: the frame
   * just inside the one that resumed it (engine trampolines skipped). Undefined when the
   * stack does not reach the resuming frame (cut off by the depth limit, or not a step).
   */
  coroutineFrame(stack: Error | string | readonly StackFrame[] | undefined): StackFrame | undefined {
    const runner = this._runner;
    if (runner === null) return undefined;
    const frames = this.frames(stack);
    const step = frames.findIndex((f) => f.file !== null && normalizeFile(f.file) === runner);
    for (let i = step - 1; i >= 0; i--) {
      const frame = frames[i] as StackFrame;
      if (!frame.native) return frame;
    }
    return undefined;
  }
}

/** @internal The process's reader: library modules register with it. */
export const stackReader = new StackReader();

/**
 * Marks the folder holding the module at `moduleUrl` as `@loop` library code, so that
 * diagnostics point past its frames at the user's. Every `@loop` package calls it once with
 * its own `import.meta.url`; a package built on `@loop` may do the same. All modules of a
 * package must sit in that one folder. An application bundled into one file with `@loop`
 * shares its folder, and then its frames read as library frames too.
 * @example
 * registerLibraryModule(import.meta.url);
 */
export function registerLibraryModule(moduleUrl: string): void {
  if (typeof moduleUrl !== "string") {
    throw new TypeError("registerLibraryModule(moduleUrl): moduleUrl must be a string, the module's import.meta.url");
  }
  stackReader.addLibraryModule(moduleUrl);
}

/**
 * A stack trace of the caller, for debug mode only. Formatting it is most of debug mode's
 * cost, so the depth is chosen per use: a creation site is found within a few frames, but a
 * suspension site sits under every `yield*` of the coroutine chain (two frames each) above
 * the task step, which V8's default of 10 frames often cuts off.
 */
export function captureStack(limit = 16): string | undefined {
  return stackText(captureError(limit));
}

/**
 * `captureStack` without the formatting, which V8 does on the first read of `.stack`:
 * for stacks that are kept in case someone asks (handles, suspension sites). Read them
 * through `stackText` to keep their call sites.
 */
export function captureError(limit = 16): Error {
  const saved = V8Error.stackTraceLimit;
  V8Error.stackTraceLimit = limit;
  const error = new Error();
  V8Error.stackTraceLimit = saved;
  return error;
}

/** The first frame outside @loop, as one line ("fn (file:line:col)"); the first frame if all are @loop's. */
export function firstFrame(stack: Error | string): string {
  const user = stackReader.userFrame(stack);
  if (user !== undefined) return user.text;
  return stackReader.frames(stack)[0]?.text ?? "";
}

registerLibraryModule(import.meta.url);

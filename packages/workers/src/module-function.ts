import { isAbsolute } from "node:path";
import { pathToFileURL } from "node:url";
import { moduleId } from "./job-registry.js";

/** Any function type; what a module export or a `toThread` function may be. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the widest function type, for inference only
export type AnyFunction = (...args: any[]) => unknown;

const MODULE_FUNCTION = Symbol("ModuleFunction");
const MODULE_ID = Symbol("ModuleFunction.id");

/**
 * A function that a worker thread loads from a module: the module's absolute URL and the
 * name of the export. `F` is the export's type, for typed arguments and result.
 */
export interface ModuleFunction<F extends AnyFunction = AnyFunction> {
  /** The module's absolute URL. */
  readonly url: string;
  /** The exported function to call. */
  readonly exportName: string;
  /** `file.js#export`: how labels and reports name the job. */
  readonly name: string;
  /** @internal Brand; also carries `F` for inference. */
  readonly [MODULE_FUNCTION]: F | null;
}

/**
 * Names the export `exportName` of the module at `moduleUrl` as a function to run in a
 * worker thread with `runInExecutor`. `moduleUrl` is a URL (a `URL`, or a string such
 * as `file:///…` or `node:zlib`) or an absolute file path; a relative one is refused,
 * because a worker thread would resolve it against a different place. The module is
 * loaded by the worker, not here.
 * @example
 * const sha = moduleFunction<typeof import("./hash.js").sha>(new URL("./hash.js", import.meta.url), "sha");
 * const digest = yield* runInExecutor(pool, sha, data);
 */
export function moduleFunction<F extends AnyFunction = AnyFunction>(moduleUrl: string | URL, exportName: string): ModuleFunction<F> {
  return makeModuleFunction<F>("moduleFunction", moduleUrl, exportName);
}

export function isModuleFunction(value: unknown): value is ModuleFunction {
  return typeof value === "object" && value !== null && MODULE_FUNCTION in value;
}

/**
 * @internal The job registry's id of a ModuleFunction's export (`NO_ID` when the registry
 * was full); undefined for any other description of a module job (an executor's caller
 * may build its own, or a ModuleFunction may come from another copy of this package).
 */
export function moduleFunctionId(module: object): number | undefined {
  return (module as { readonly [MODULE_ID]?: number })[MODULE_ID];
}

/**
 * `runInWorker(url, name, …)` names its function on every call; the description is the
 * same each time (and frozen), so it is made once per module export.
 */
const made = new Map<string, Map<string, ModuleFunction>>();

// URL parsing costs more than a job's bookkeeping, and programs send many jobs to few
// modules: keep the normalised form of recent module specifiers.
const normalized = new Map<string, string>();
const MAX_CACHED = 256;

/** @internal `moduleFunction` with the caller's name in its argument errors. */
export function makeModuleFunction<F extends AnyFunction>(caller: string, moduleUrl: string | URL, exportName: string): ModuleFunction<F> {
  if (typeof exportName !== "string") {
    throw new TypeError(`${caller}(moduleUrl, exportName): exportName must be the name of a function the module exports, got ${describeType(exportName)}`);
  }
  if (exportName === "") throw new RangeError(`${caller}(moduleUrl, exportName): exportName is empty; use "default" for the default export`);
  const url = normalizeUrl(caller, moduleUrl);
  let exports = made.get(url);
  if (exports === undefined) {
    if (made.size >= MAX_CACHED) made.clear();
    exports = new Map();
    made.set(url, exports);
  }
  let described = exports.get(exportName);
  if (described === undefined) {
    described = Object.freeze({
      url,
      exportName,
      name: `${baseName(url)}#${exportName}`,
      [MODULE_FUNCTION]: null,
      // Named once per thread: jobs then send this number instead of the URL and name.
      [MODULE_ID]: moduleId(url, exportName),
    });
    exports.set(exportName, described);
  }
  return described as ModuleFunction<F>;
}

function normalizeUrl(caller: string, moduleUrl: string | URL): string {
  if (moduleUrl instanceof URL) return moduleUrl.href;
  if (typeof moduleUrl !== "string") {
    throw new TypeError(
      `${caller}(moduleUrl, …): moduleUrl must be a URL or an absolute path, got ${describeType(moduleUrl)}; for a module next to yours, use new URL("./file.js", import.meta.url)`,
    );
  }
  const cached = normalized.get(moduleUrl);
  if (cached !== undefined) return cached;
  let href: string;
  if (isAbsolute(moduleUrl)) {
    href = pathToFileURL(moduleUrl).href;
  } else if (URL.canParse(moduleUrl) && /^[a-z][a-z0-9+.-]+:/i.test(moduleUrl)) {
    href = new URL(moduleUrl).href;
  } else {
    throw new RangeError(
      `${caller}(moduleUrl, …): "${moduleUrl}" is not a URL or an absolute path; a worker thread cannot resolve it relative to your module, so use new URL("${moduleUrl}", import.meta.url)`,
    );
  }
  if (normalized.size >= MAX_CACHED) normalized.clear();
  normalized.set(moduleUrl, href);
  return href;
}

function baseName(url: string): string {
  const path = url.replace(/[?#].*$/, "");
  const slash = path.lastIndexOf("/");
  return slash >= 0 && slash < path.length - 1 ? path.slice(slash + 1) : path;
}

export function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value;
}

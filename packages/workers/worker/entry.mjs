// The worker-thread side of @loop/workers: piscina loads this file in every worker of a
// WorkerPoolExecutor and calls its default export once per job.
//
// It is plain JavaScript on purpose: worker threads run in a bare Node.js, without the
// TypeScript loaders of a test runner, so the same file serves the sources in tests and
// the built package (`src/` and `dist/` both reach it as `../worker/entry.mjs`).
//
// A job arrives as [id, args]: `id` names, in the job registry the executor shares with
// its workers (src/job-registry.ts), a module export to call or the source text of a
// self-contained function (toThread); the worker reads what an id means once and keeps
// it. A job whose function has no id (the registry is full) arrives named in full, as
// [moduleUrl, exportName, null, args] or [null, null, source, args]. The reply is always
// [status, value, runTimeMs]: errors are described as plain records instead of thrown,
// so that their class name, message, stack, `cause` and own fields survive the trip (the
// structured clone of an Error keeps only the built-in classes) and the worker stays in
// the pool.
import { readFileSync } from "node:fs";
import { getPriority, setPriority } from "node:os";
import { performance } from "node:perf_hooks";
import { workerData } from "node:worker_threads";
import { move } from "piscina";

const OK = 0;
const FAILED = 1;

// piscina's Transferable protocol: registered symbols, so a value marked by `transfer()`
// of @loop/workers or by piscina's own `move()` is recognised whichever copy made it.
const TRANSFERABLE = Symbol.for("Piscina.transferable");
const VALUE = Symbol.for("Piscina.valueOf");

const BUILTIN_ERRORS = new Set([Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError, AggregateError]);
const MAX_COMPILED = 256;
const MAX_CAUSE_DEPTH = 8;
const MAX_CHECKED_NODES = 10_000;
let remainingChecks = 0;

/** Module namespaces by URL, once imported. */
const loaded = new Map();
/** Imports under way, by URL: the jobs that wait on one share it. */
const loading = new Map();
/** Functions compiled from source text sent in full, by that text (bounded: oldest out first). */
const compiled = new Map();

// The job registry: a SharedArrayBuffer written by the thread that owns the executor.
// Two Int32 header slots ([0] records published, [1] bytes used), then one record per id:
// a Uint32 byte length and that many bytes of UTF-8 JSON, ["module", url, exportName] or
// ["source", text], padded to 4 bytes.
const registry = workerData?.["@loop/workers"]?.registry ?? null;
const registryHeader = registry instanceof SharedArrayBuffer ? new Int32Array(registry, 0, 2) : null;
const decoder = new TextDecoder();
/** The registry's records read so far, by id. */
const names = [];
let nextRecord = 8;
/** By id: the module namespace of an export once imported, or the compiled function of a source text. */
const namespaces = [];
const functions = [];

// WorkerPoolExecutor's niceIncrement: this thread yields the CPU to the loop's thread
// when they compete. Linux only, where setpriority() on a thread id changes that thread
// alone (elsewhere it would change the whole process, the loop included).
const niceIncrement = workerData?.["@loop/workers"]?.niceIncrement ?? 0;
if (niceIncrement > 0 && process.platform === "linux") {
  try {
    const threadId = Number(readFileSync("/proc/thread-self/stat", "utf8").split(" ", 1)[0]);
    setPriority(threadId, Math.min(19, getPriority(threadId) + niceIncrement));
  } catch {
    // No /proc, or not allowed: the thread keeps the process's priority.
  }
}

/**
 * Runs one job. A function already at hand (a module loaded, a source compiled) that
 * returns a plain value makes the synchronous path: the reply goes back without a
 * detour through the microtask queue, which a trivial job's round trip would feel.
 * Loading a module, or a function that returns a Promise, takes the asynchronous one.
 */
export default function runJob(job) {
  const start = performance.now();
  const head = job[0];
  let fn;
  let result;
  try {
    if (typeof head === "number") {
      fn = functions[head];
      if (fn === undefined) {
        const namespace = namespaces[head];
        if (namespace !== undefined) fn = exportOf(namespace, names[head][1], names[head][2]);
        else {
          fn = resolveName(head);
          if (fn === null) return runAfterLoading(job, names[head][1]);
        }
      }
      result = fn(...job[1]);
    } else {
      if (head === null) fn = compile(job[2]);
      else {
        const namespace = loaded.get(head);
        if (namespace === undefined) return runAfterLoading(job, head);
        fn = exportOf(namespace, head, job[1]);
      }
      result = fn(...job[3]);
    }
  } catch (error) {
    return failed(error, job, fn, start);
  }
  if (result !== null && typeof result === "object" && typeof result.then === "function") {
    return Promise.resolve(result).then(
      (value) => finished(value, start),
      (error) => failed(error, job, fn, start),
    );
  }
  return finished(result, start);
}

/**
 * What registry id `id` names, made ready: the compiled function of a source text (kept
 * by id), or the export of a module already imported (its namespace kept by id; the
 * export is read from it at each job, as a live binding). null: the module must be
 * imported first.
 */
function resolveName(id) {
  const name = nameOf(id);
  if (name[0] === "source") {
    const fn = compileFresh(name[1]);
    functions[id] = fn;
    return fn;
  }
  const namespace = loaded.get(name[1]);
  if (namespace === undefined) return null;
  const fn = exportOf(namespace, name[1], name[2]);
  namespaces[id] = namespace;
  return fn;
}

/** Record `id` of the registry, reading the records before it that this worker has not read yet. */
function nameOf(id) {
  while (names.length <= id) {
    if (registryHeader === null || names.length >= Atomics.load(registryHeader, 0)) {
      throw new Error(`@loop/workers: a job names function #${id}, which the executor's job registry does not hold`);
    }
    const length = new DataView(registry).getUint32(nextRecord, true);
    // Decoded from a copy: text decoding is not meant to read memory another thread may write.
    const bytes = new Uint8Array(registry, nextRecord + 4, length).slice();
    names.push(JSON.parse(decoder.decode(bytes)));
    nextRecord += 4 + ((length + 3) & ~3);
  }
  return names[id];
}

async function runAfterLoading(job, url) {
  const start = performance.now();
  try {
    await load(url);
  } catch (error) {
    return failed(error, null, undefined, start);
  }
  return runJob(job);
}

/** The source text a job's function was sent as, or null for a module export. */
function sourceOf(job) {
  if (job === null) return null;
  const head = job[0];
  if (typeof head === "number") return names[head]?.[0] === "source" ? names[head][1] : null;
  return head === null ? job[2] : null;
}

function failed(error, job, fn, start) {
  const source = sourceOf(job);
  return [FAILED, describe(source !== null ? explainMissingVariable(error, fn) : error, 0), performance.now() - start];
}

function finished(result, start) {
  const runTimeMs = performance.now() - start;
  const moved = result !== null && typeof result === "object" && TRANSFERABLE in result && VALUE in result;
  const value = moved ? result[VALUE] : result;
  remainingChecks = MAX_CHECKED_NODES;
  const problem = uncloneablePart(value, "the result");
  if (problem !== null) {
    const error = new TypeError(
      `the job's result cannot be sent back from the worker thread: ${problem}; only data crosses threads (plain objects, arrays, strings, numbers, typed arrays, Maps, Sets, Dates…)`,
    );
    return [FAILED, describe(error, 0), runTimeMs];
  }
  if (moved) return move({ [TRANSFERABLE]: result[TRANSFERABLE], [VALUE]: [OK, value, runTimeMs] });
  return [OK, value, runTimeMs];
}

/**
 * Where `value` holds something the structured clone refuses (a function, a symbol, a
 * Promise, a weak collection), as a path ("the result.callback is a function"), or null.
 * A value that cannot be cloned would otherwise fail inside piscina, after the job, and
 * take the whole thread down with a bare DataCloneError. The walk looks at plain objects,
 * arrays, Maps and Sets only, and gives up (null) after MAX_CHECKED_NODES nodes, so that
 * a large result costs little and a cycle ends the walk.
 */
function uncloneablePart(value, path) {
  const type = typeof value;
  if (type === "function") return `${path} is a function`;
  if (type === "symbol") return `${path} is a symbol`;
  if (type !== "object" || value === null || --remainingChecks < 0) return null;
  if (value instanceof Promise) return `${path} is a Promise (await it in the job instead)`;
  if (value instanceof WeakMap || value instanceof WeakSet || value instanceof WeakRef) return `${path} is a ${value.constructor.name}`;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = uncloneablePart(value[i], `${path}[${i}]`);
      if (found !== null || remainingChecks < 0) return found;
    }
    return null;
  }
  if (value instanceof Map) {
    for (const [key, item] of value) {
      const found = uncloneablePart(key, `a key of ${path}`) ?? uncloneablePart(item, `${path}.get(${String(key)})`);
      if (found !== null || remainingChecks < 0) return found;
    }
    return null;
  }
  if (value instanceof Set) {
    for (const item of value) {
      const found = uncloneablePart(item, `an item of ${path}`);
      if (found !== null || remainingChecks < 0) return found;
    }
    return null;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return null;
  for (const key in value) {
    const found = uncloneablePart(value[key], `${path}.${key}`);
    if (found !== null || remainingChecks < 0) return found;
  }
  return null;
}

/** Imports a module once; jobs that arrive while it loads share the import. */
function load(url) {
  let pending = loading.get(url);
  if (pending === undefined) {
    pending = import(url).then(
      (namespace) => {
        loading.delete(url);
        loaded.set(url, namespace);
        return namespace;
      },
      (error) => {
        loading.delete(url);
        const reason = error instanceof Error ? error.message : String(error);
        const failure = new Error(`cannot load module ${url} in the worker thread: ${reason}`, { cause: error });
        if (error instanceof Error && "code" in error) failure.code = error.code;
        throw failure;
      },
    );
    loading.set(url, pending);
  }
  return pending;
}

function exportOf(namespace, url, exportName) {
  const fn = namespace[exportName];
  if (typeof fn !== "function") {
    const exported = Object.keys(namespace);
    const found = fn === undefined ? "does not exist" : `is ${fn === null ? "null" : `a ${typeof fn}`}, not a function`;
    throw new TypeError(
      `export "${exportName}" of ${url} ${found}; the module exports ${exported.length === 0 ? "nothing" : exported.map((n) => `"${n}"`).join(", ")}`,
    );
  }
  return fn;
}

function compile(source) {
  let fn = compiled.get(source);
  if (fn !== undefined) return fn;
  fn = compileFresh(source);
  if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value);
  compiled.set(source, fn);
  return fn;
}

// Tools that compile TypeScript or bundle tests rewrite code inside function bodies to
// call helpers that live in the module the function came from, not here: esbuild's
// keepNames (tsx) wraps nested functions in `__name(fn, "name")`, and Vite's SSR
// transform (Vitest) turns `import(x)` into `__vite_ssr_dynamic_import__(x)`. The
// compiled wrapper takes both as parameters, so such functions still run here.
const HELPER_NAMES = "__name, __vite_ssr_dynamic_import__";

function keepName(fn) {
  return fn;
}

function dynamicImport(specifier) {
  return import(specifier);
}

function compileFresh(source) {
  let factory;
  try {
    factory = new Function(HELPER_NAMES, `"use strict";\nreturn (${source}\n);`);
  } catch {
    // Method shorthand (`name(a) { … }`, `async name() {}`, `*name() {}`) is not an
    // expression on its own; as the only member of an object literal it is.
    try {
      factory = new Function(HELPER_NAMES, `"use strict";\nconst holder = {${source}\n};\nreturn holder[Object.keys(holder)[0]];`);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new SyntaxError(
        `toThread: the function's source text does not compile on its own in a worker thread (${reason}). ` +
          "toThread needs a self-contained function (a method that uses private #fields of its class is not). Put the code in a module and use runInWorker instead.",
        { cause: error },
      );
    }
  }
  const fn = factory(keepName, dynamicImport);
  if (typeof fn !== "function") throw new TypeError("toThread: the function's source text did not evaluate to a function in the worker thread");
  return fn;
}

// A function sent as source text is compiled again, far from the scope it was written
// in: a variable it borrowed from there (a closure, an import) does not exist here.
function explainMissingVariable(error, fn) {
  if (!(error instanceof ReferenceError)) return error;
  const match = /^(\S+) is not defined$/.exec(error.message);
  if (match === null) return error;
  const name = match[1];
  const fnName = fn?.name || "<anonymous>";
  const message =
    `the function ${fnName} uses "${name}", which does not exist in the worker thread: toThread and runInExecutor send only a function's source text, ` +
    `so it cannot see variables from the scope it was written in (closures, imports). ` +
    `Pass ${name} as an argument, import it inside the function (await import(…)), or put the code in a module and use runInWorker.`;
  const explained = new ReferenceError(message);
  explained.stack = `ReferenceError: ${message}${stackFrames(error.stack)}`;
  return explained;
}

function stackFrames(stack) {
  if (typeof stack !== "string") return "";
  const at = stack.indexOf("\n    at ");
  return at < 0 ? "" : stack.slice(at);
}

/** A thrown value as something the structured clone keeps whole (exported for the tests). */
export function describe(thrown, depth = 0) {
  if (!(thrown instanceof Error)) {
    try {
      return { kind: "value", value: structuredClone(thrown) };
    } catch {
      return { kind: "error", className: "Error", builtin: true, name: "Error", message: `a value that cannot be cloned was thrown: ${String(thrown)}`, stack: undefined, fields: {} };
    }
  }
  const ctor = thrown.constructor;
  const className = typeof ctor === "function" && typeof ctor.name === "string" && ctor.name !== "" ? ctor.name : "Error";
  const record = {
    kind: "error",
    className,
    builtin: BUILTIN_ERRORS.has(ctor),
    name: typeof thrown.name === "string" ? thrown.name : className,
    message: typeof thrown.message === "string" ? thrown.message : String(thrown.message),
    stack: typeof thrown.stack === "string" ? thrown.stack : undefined,
    fields: ownFields(thrown),
  };
  if ("cause" in thrown && depth < MAX_CAUSE_DEPTH) record.cause = describe(thrown.cause, depth + 1);
  if (Array.isArray(thrown.errors) && depth < MAX_CAUSE_DEPTH) record.errors = thrown.errors.map((e) => describe(e, depth + 1));
  return record;
}

/** The error's own enumerable fields that can be cloned (`code`, `errno`, `path`…). */
function ownFields(error) {
  const fields = {};
  for (const key of Object.keys(error)) {
    if (key === "cause" || key === "errors" || key === "message" || key === "stack") continue;
    try {
      fields[key] = structuredClone(error[key]);
    } catch {
      // A field that cannot cross threads stays behind.
    }
  }
  return fields;
}

import { MISSING } from "./missing.js";
import { current } from "./state.js";
import type { AbstractContext, AbstractContextVar, AbstractToken } from "./types.js";

/**
 * `contextvars` for @loop: a `Context` maps `ContextVar`s to values; each task runs in
 * its own copy of the context that was current when it was created, so a value set in a
 * task is seen by the tasks it creates afterwards and by nobody else.
 *
 * Copies are copy-on-write: copying marks the map shared and the first `set` on either
 * side clones it, so creating a task costs one small object, not a map copy.
 */
export class Context implements AbstractContext {
  /** @internal */ _vars: Map<ContextVar<unknown>, unknown>;
  /** @internal */ _shared: boolean;
  /** @internal True while `run` is inside this context. */ _entered: boolean;

  constructor() {
    this._vars = EMPTY_MAP;
    this._shared = true;
    this._entered = false;
  }

  /** A new context with the same values (`Context.copy()`). */
  copy(): Context {
    const ctx = new Context();
    ctx._vars = this._vars;
    this._shared = true;
    return ctx;
  }

  /**
   * Calls `fn(...args)` with this context current and returns what it returns; values set
   * meanwhile stay in this context (Python's `Context.run`).
   * @example
   * const ctx = copyContext();
   * ctx.run(() => requestId.set("r-1"));
   * ctx.get(requestId); // "r-1"
   */
  run<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): R {
    if (typeof fn !== "function") throw new TypeError("Context.run(fn): fn must be a function");
    // Python's Context.run raises RuntimeError here: a context is entered by one code path
    // at a time, so that what one sets is not undone by the other's exit.
    if (this._entered || current.context === this) {
      throw new Error("Context.run(fn): this context is already entered; run fn in a copy instead: context.copy().run(fn)");
    }
    const saved = current.context;
    current.context = this;
    this._entered = true;
    try {
      return fn(...args);
    } finally {
      this._entered = false;
      current.context = saved;
    }
  }

  /** The value `variable` has in this context, or undefined (asyncio's `Context.get`). */
  get<T>(variable: ContextVar<T>): T | undefined {
    return this._vars.get(variable as ContextVar<unknown>) as T | undefined;
  }

  /** True if `variable` has a value in this context. */
  has(variable: ContextVar<unknown>): boolean {
    return this._vars.has(variable);
  }

  /** How many variables have a value in this context. */
  get size(): number {
    return this._vars.size;
  }

  /** The variables that have a value in this context. */
  keys(): IterableIterator<ContextVar<unknown>> {
    return this._vars.keys();
  }

  /** Their values. */
  values(): IterableIterator<unknown> {
    return this._vars.values();
  }

  /** `[variable, value]` pairs. */
  entries(): IterableIterator<[ContextVar<unknown>, unknown]> {
    return this._vars.entries();
  }

  /** `[variable, value]` pairs, as `entries()`. */
  [Symbol.iterator](): IterableIterator<[ContextVar<unknown>, unknown]> {
    return this._vars.entries();
  }

  /** @internal Sets a value, cloning the map first if another context shares it. */
  _set(variable: ContextVar<unknown>, value: unknown, remove: boolean): void {
    if (this._shared) {
      this._vars = new Map(this._vars);
      this._shared = false;
    }
    if (remove) this._vars.delete(variable);
    else this._vars.set(variable, value);
  }
}

const EMPTY_MAP: Map<ContextVar<unknown>, unknown> = new Map();

/** Returns the current context, creating it if the running code has none yet. */
function materializeCurrent(): Context {
  let ctx = current.context as Context | null;
  if (ctx === null) {
    const task = current.task;
    if (task === null) {
      ctx = new Context();
    } else {
      // No context current inside a task step means the task's own context is: still empty,
      // or made since by a `getContext()` asked inside another context's `run`, which then
      // takes this set. A new one is the task's from now on, so that `getContext()` sees it.
      ctx = task._context as Context | null;
      if (ctx === null) ctx = task._context = new Context();
    }
    current.context = ctx;
  }
  return ctx;
}

/**
 * A copy of the current context (`contextvars.copy_context()`).
 * @example
 * const ctx = copyContext();
 * ctx.run(() => user.get());
 */
export function copyContext(): Context {
  const ctx = current.context as Context | null;
  return ctx === null ? new Context() : ctx.copy();
}

/** @internal A copy of the current context, or null when the current one is still empty (tasks store that). */
export function snapshotContext(): Context | null {
  const ctx = current.context as Context | null;
  return ctx === null || ctx._vars.size === 0 ? null : ctx.copy();
}

/** Returned by `ContextVar.set`, taken by `ContextVar.reset` to restore the previous value. */
export class Token<T> implements AbstractToken<T> {
  /** Marks a token that stood for "no value". */
  static readonly MISSING: typeof MISSING = MISSING;
  /** @internal */ _used = false;

  /** @internal */
  constructor(
    /** The variable whose `set` returned this token. */
    readonly variable: ContextVar<T>,
    /** The value before that `set`, or `Token.MISSING` when it had none. */
    readonly oldValue: T | typeof MISSING,
    /** @internal */ readonly _context: Context,
  ) {}
}

/**
 * A context variable (`contextvars.ContextVar`): a value per context, so per task.
 * @example
 * const requestId = new ContextVar<string>("requestId", { default: "-" });
 * function* handle(id: string): Coroutine<void> {
 *   requestId.set(id);
 *   yield* sleep(10);
 *   log(requestId.get()); // still this task's id, whatever other tasks set meanwhile
 * }
 */
export class ContextVar<T> implements AbstractContextVar<T> {
  /** The name given to the constructor, for diagnostics. */
  readonly name: string;
  private readonly _default: T | typeof MISSING;

  constructor(name: string, opts?: { default?: T }) {
    if (typeof name !== "string") throw new TypeError("new ContextVar(name): name must be a string");
    this.name = name;
    this._default = opts !== undefined && "default" in opts ? (opts.default as T) : MISSING;
  }

  /**
   * The value in the current context; else `fallback` when given; else the default;
   * else throws an Error (Python's LookupError).
   */
  get(fallback?: T): T {
    const ctx = current.context as Context | null;
    if (ctx !== null && ctx._vars.has(this as ContextVar<unknown>)) {
      return ctx._vars.get(this as ContextVar<unknown>) as T;
    }
    if (arguments.length > 0) return fallback as T;
    if (this._default !== MISSING) return this._default;
    throw new Error(`ContextVar '${this.name}' has no value in this context and no default: set() it first or pass a default`);
  }

  /** Sets the value in the current context; the token undoes it with `reset`. */
  set(value: T): Token<T> {
    const ctx = materializeCurrent();
    const self = this as ContextVar<unknown>;
    const old = ctx._vars.has(self) ? (ctx._vars.get(self) as T) : MISSING;
    ctx._set(self, value, false);
    return new Token<T>(this, old, ctx);
  }

  /** Restores the value from before the `set` that made `token`. */
  reset(token: Token<T>): void {
    if (!(token instanceof Token)) throw new TypeError("ContextVar.reset(token): token must come from ContextVar.set");
    if (token.variable !== this) throw new RangeError("ContextVar.reset(token): the token was created by a different ContextVar");
    if (token._used) throw new Error("ContextVar.reset(token): the token has already been used once");
    const ctx = materializeCurrent();
    if (token._context !== ctx) throw new RangeError("ContextVar.reset(token): the token was created in a different Context");
    token._used = true;
    ctx._set(this as ContextVar<unknown>, token.oldValue, token.oldValue === MISSING);
  }

  /** `<ContextVar name="…">`, for diagnostics. */
  toString(): string {
    return `<ContextVar name=${JSON.stringify(this.name)}>`;
  }
}

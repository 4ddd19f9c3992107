/**
 * The few host facilities core needs, reached through `globalThis` so that core has no
 * `node:` imports and no DOM typings: it runs unchanged on Node and in browsers.
 */

export interface HostGlobals {
  setTimeout(cb: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
  setImmediate?: (cb: () => void) => unknown;
  queueMicrotask?: (cb: () => void) => void;
  clearImmediate?: (id: unknown) => void;
  MessageChannel?: new () => {
    port1: { onmessage: ((ev: unknown) => void) | null; close(): void };
    port2: { postMessage(msg: unknown): void; close(): void };
  };
  performance?: { now(): number };
  console?: { error(...args: unknown[]): void; warn(...args: unknown[]): void };
  process?: { env?: Record<string, string | undefined> };
  AbortController?: new () => AbortControllerLike;
}

export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: "abort", listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: "abort", listener: () => void): void;
  throwIfAborted(): void;
}

export interface AbortControllerLike {
  readonly signal: AbortSignalLike;
  abort(reason?: unknown): void;
}

export const hostGlobals = globalThis as unknown as HostGlobals;

/** A monotonic clock in milliseconds. */
export const monotonicNow: () => number =
  hostGlobals.performance !== undefined
    ? hostGlobals.performance.now.bind(hostGlobals.performance)
    : () => Date.now();

/** Writes one diagnostic to stderr (the console in a browser). */
export function printError(...args: unknown[]): void {
  hostGlobals.console?.error(...args);
}

/** Reads an environment variable where there is an environment (Node), else undefined. */
export function readEnv(name: string): string | undefined {
  try {
    return hostGlobals.process?.env?.[name];
  } catch {
    return undefined;
  }
}

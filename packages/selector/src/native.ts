import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/** Record kinds of the shared event array (see native/selector.c). */
export const READABLE = 1;
export const WRITABLE = 2;
export const DATA = 3;
export const EOF = 4;
export const ERROR = 5;
export const ACCEPT = 6;
export const CONNECTED = 7;
export const DRAINED = 8;
export const BACKLOG = 9;

/** The shared control words: writes queued, bytes staged, flushes so far, loop timer armed, slab bytes used. */
export const CTL_QUEUED = 0;
export const CTL_STAGED = 1;
export const CTL_FLUSHES = 2;
export const CTL_TIMER = 3;
export const CTL_SLAB = 4;

/** The version of the addon's interface this code speaks (SELECTOR_ABI in native/selector.c). */
const NATIVE_ABI = 5;

/**
 * How the native selector learns which descriptors are ready: a private epoll set (Linux)
 * or kqueue (macOS, BSD) nested in libuv's loop, or a libuv `uv_poll_t` per descriptor
 * (any platform libuv polls descriptors on). See the README.
 */
export type SelectorBackend = "epoll" | "kqueue" | "uv_poll";

/**
 * The backend a thread's selector uses: `LOOP_SELECTOR_BACKEND` when set (it must name one
 * of `available`), else the platform's default, the first of `available`.
 */
export function chooseBackend(available: readonly SelectorBackend[], requested: string | undefined): SelectorBackend {
  if (requested === undefined || requested === "") return available[0] as SelectorBackend;
  if (!(available as readonly string[]).includes(requested)) {
    throw new RangeError(`LOOP_SELECTOR_BACKEND must name a readiness backend of this platform (${available.map((name) => JSON.stringify(name)).join(", ")}), got ${JSON.stringify(requested)}; unset it for the default`);
  }
  return requested as SelectorBackend;
}

/** The addon's functions. Socket calls return a descriptor, or a negative errno. */
export interface NativeSelector {
  readonly abi: number;
  /** The readiness backends compiled in, the platform's default first. */
  readonly backends: readonly SelectorBackend[];
  init(onBatch: (count: number) => void, receiver: object, events: ArrayBuffer, slab: ArrayBuffer, staging: ArrayBuffer, queue: ArrayBuffer, ctl: ArrayBuffer, backend: SelectorBackend): void;
  arm(ms: number): void;
  wake(): void;
  flushSoon(): void;
  /** The slab the next reads land in, from offset 0 (the old one is left to the garbage collector). */
  slab(slab: ArrayBuffer): void;
  listen(family: number, address: string, port: number, backlog: number, reusePort: boolean, dualStack: boolean): number;
  connect(family: number, address: string, port: number): number;
  watch(fd: number, events: number): number;
  reading(fd: number, on: boolean): void;
  write(fd: number, data: Uint8Array): number;
  buffered(fd: number): number;
  notify(fd: number, low: number): void;
  shutdown(fd: number): void;
  close(fd: number, reset: boolean): number;
  release(fd: number): void;
  sockname(fd: number): [string, number, number] | null;
  peername(fd: number): [string, number, number] | null;
  stats(): [open: number, pollRef: number, timerActive: number, idleActive: number, rebuilds: number];
  /** A pipe end (a child's stdio) as a stream descriptor of the selector: fd or -errno. */
  adoptPipe(fd: number): number;
  /** "" when children can be spawned here (native/spawn.c), else why not. */
  spawnSupport(): string;
  /** Starts a child; 0 with `out` = [pid, pidfd, stdin, stdout, stderr], or -errno. */
  spawn(file: string, argv: readonly string[], envp: readonly string[] | null, cwd: string | null, stdio: Int32Array, newSession: boolean, out: Int32Array): number;
  /** Reaps the child of a pidfd: null while it runs (unless `block`), its status, -signal, or REAP_FAILED + errno. */
  reap(pidfd: number, block?: boolean): number | null;
  /** Closes a descriptor the selector does not own (a pidfd). */
  closeFd(fd: number): number;
}

/** What `reap` adds to the errno when waitid fails (spawn.c). */
export const REAP_FAILED = 1000;

/** What node-gyp-build loaded, if it is this package's addon for this platform; else throws why not. */
export function checkAddon(loaded: unknown, platform: string = process.platform): NativeSelector {
  const candidate = loaded as Partial<NativeSelector> | null;
  if (typeof candidate !== "object" || candidate === null || typeof candidate.arm !== "function") throw new Error(`no native selector on ${platform}`);
  if (candidate.abi !== NATIVE_ABI) {
    throw new Error(`the native addon speaks interface ${String(candidate.abi)}, this @loop/selector needs ${NATIVE_ABI} (a stale build or prebuild: rebuild with node-gyp)`);
  }
  return candidate as NativeSelector;
}

let addon: NativeSelector | null = null;
let failure: Error | null = null;

try {
  const require = createRequire(import.meta.url);
  const load = require("node-gyp-build") as (dir: string) => unknown;
  // The package root, from src/ (tests) and dist/ (published) alike.
  addon = checkAddon(load(fileURLToPath(new URL("..", import.meta.url))));
} catch (error) {
  failure = error instanceof Error ? error : new Error(String(error));
}

/** The addon, or null when it could not be built or loaded (then `nativeLoadError` says why). */
export const native: NativeSelector | null = addon;
export const nativeLoadError: Error | null = failure;

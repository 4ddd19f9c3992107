import type { ProcessStdio } from "@loop/core";
import { DEFAULT_LIMIT } from "@loop/net";
import { signalNumber } from "./signals.js";

/** A new pipe between parent and child (subprocess.PIPE). */
export const PIPE = -1;
/** For `stderr`: go wherever stdout goes, a pipe included (subprocess.STDOUT). */
export const STDOUT = -2;
/** The null device: no input, output thrown away (subprocess.DEVNULL). */
export const DEVNULL = -3;

/**
 * Where one of the child's standard streams goes: `PIPE`, `DEVNULL`, `STDOUT` (stderr
 * only), `"inherit"` (the parent's own, the default, as asyncio's `None`), or an open file
 * descriptor of the parent (0 or more).
 */
export type Stdio = number | "inherit" | null;

/** Options of `createSubprocessExec` and `createSubprocessShell`. */
export interface ProcessOptions {
  /** Where the child's stdin comes from: `PIPE` for `Process.stdin`, `DEVNULL`, a descriptor, or the parent's (`"inherit"`, the default). */
  stdin?: Stdio;
  /** Where the child's stdout goes: `PIPE` for `Process.stdout`, `DEVNULL`, a descriptor, or the parent's (`"inherit"`, the default). */
  stdout?: Stdio;
  /** Where the child's stderr goes: as `stdout`, plus `STDOUT` to send it wherever stdout goes. */
  stderr?: Stdio;
  /** The child's working directory. */
  cwd?: string;
  /** The child's whole environment (entries whose value is undefined are left out); the parent's by default. */
  env?: Readonly<Record<string, string | undefined>>;
  /** The `limit` of the stdout and stderr readers (see `StreamReader`); 64 KiB by default. */
  limit?: number;
  /** Run the child in a new session (`setsid`), away from the parent's terminal signals. */
  startNewSession?: boolean;
  /** What `runProcess` sends a child it must stop because it was cancelled; SIGTERM by default. */
  killSignal?: string | number;
  /** How long `runProcess` waits after `killSignal` before it sends SIGKILL; 5000 ms by default. */
  gracePeriodMs?: number;
}

/** The options once checked. */
export interface CheckedOptions {
  stdin: Exclude<ProcessStdio, "stdout">;
  stdout: Exclude<ProcessStdio, "stdout">;
  stderr: ProcessStdio;
  cwd: string | undefined;
  env: Record<string, string> | undefined;
  limit: number;
  startNewSession: boolean;
  killSignal: string | number;
  gracePeriodMs: number;
}

/** Checks `opts` at the call: a `TypeError` or `RangeError` that names the option and the fix. */
export function checkOptions(where: string, opts: ProcessOptions | undefined): CheckedOptions {
  if (opts !== undefined && (typeof opts !== "object" || opts === null)) {
    throw new TypeError(`${where}: opts must be an object like { stdin, stdout, stderr, cwd, env }`);
  }
  const o = opts ?? {};
  const cwd = o.cwd;
  if (cwd !== undefined && (typeof cwd !== "string" || cwd === "")) throw new TypeError(`${where}: cwd must be a non-empty string (a directory path)`);
  let env: Record<string, string> | undefined;
  if (o.env !== undefined) {
    if (typeof o.env !== "object" || o.env === null) throw new TypeError(`${where}: env must be an object of strings, like { PATH: process.env.PATH }`);
    env = {};
    for (const [key, value] of Object.entries(o.env)) {
      if (value === undefined) continue;
      if (typeof value !== "string") throw new TypeError(`${where}: env.${key} must be a string, got ${typeof value}`);
      env[key] = value;
    }
  }
  let limit = DEFAULT_LIMIT;
  if (o.limit !== undefined) {
    if (typeof o.limit !== "number") throw new TypeError(`${where}: limit must be a number of bytes, got ${typeof o.limit}`);
    if (!(o.limit > 0) || !Number.isFinite(o.limit)) throw new RangeError(`${where}: limit must be a positive number of bytes, got ${o.limit}`);
    limit = Math.floor(o.limit);
  }
  const startNewSession = o.startNewSession ?? false;
  if (typeof startNewSession !== "boolean") throw new TypeError(`${where}: startNewSession must be true or false`);
  const killSignal = o.killSignal ?? "SIGTERM";
  signalNumber(`${where}: killSignal`, killSignal);
  const gracePeriodMs = o.gracePeriodMs ?? 5000;
  if (typeof gracePeriodMs !== "number") throw new TypeError(`${where}: gracePeriodMs must be a number of milliseconds`);
  if (!(gracePeriodMs >= 0)) throw new RangeError(`${where}: gracePeriodMs must be 0 or more milliseconds, got ${gracePeriodMs}`);
  return {
    stdin: checkStdio(where, "stdin", o.stdin) as Exclude<ProcessStdio, "stdout">,
    stdout: checkStdio(where, "stdout", o.stdout) as Exclude<ProcessStdio, "stdout">,
    stderr: checkStdio(where, "stderr", o.stderr),
    cwd,
    env,
    limit,
    startNewSession,
    killSignal,
    gracePeriodMs,
  };
}

function checkStdio(where: string, name: string, value: unknown): ProcessStdio {
  if (value === undefined || value === null || value === "inherit") return "inherit";
  if (value === PIPE) return "pipe";
  if (value === DEVNULL) return "devnull";
  if (value === STDOUT) {
    if (name !== "stderr") throw new RangeError(`${where}: ${name} cannot be STDOUT; only stderr can follow stdout`);
    return "stdout";
  }
  if (typeof value === "number" && Number.isInteger(value) && value >= 0) return value;
  if (typeof value === "number") throw new RangeError(`${where}: ${name} must be PIPE, DEVNULL${name === "stderr" ? ", STDOUT" : ""}, "inherit" or a file descriptor (0 or more), got ${value}`);
  throw new TypeError(`${where}: ${name} must be PIPE, DEVNULL${name === "stderr" ? ", STDOUT" : ""}, "inherit" or a file descriptor number, got ${typeof value === "string" ? JSON.stringify(value) : typeof value}`);
}

/**
 * The host's signals, for the default poller: Node's `process.on("SIGINT")` and friends,
 * reached through `globalThis` (core has no `node:` imports). In a browser there is no
 * `process`, and the default poller has no `signals` capability.
 */

import type { SignalDriver, SignalListener } from "./signal-driver.js";

/** The part of Node's `process` this file uses. */
export interface HostProcess {
  readonly pid: number;
  on(event: string, listener: (...args: never[]) => void): unknown;
  off(event: string, listener: (...args: never[]) => void): unknown;
  listenerCount(event: string): number;
  removeAllListeners(event: string): unknown;
  kill(pid: number, signal: string): unknown;
  exit(code: number): never;
  hasUncaughtExceptionCaptureCallback?: () => boolean;
  getBuiltinModule?: (id: string) => unknown;
  stderr?: { write(text: string): unknown };
}

/** Linux's numbers, for the exit status when a signal cannot end the process itself. */
const FALLBACK_NUMBERS: Readonly<Record<string, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGUSR1: 10, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15 };

/**
 * `SignalDriver` over `process.on`/`process.off`. Node calls the listeners from its own
 * signal watcher, between loop turns, which is what the contract asks.
 *
 * @internal Exported for tests, which drive it over a stand-in `process`.
 */
export class HostSignalDriver implements SignalDriver {
  /** How many listeners this driver added per signal, to tell them from foreign ones. */
  private readonly _ours = new Map<string, number>();
  /** Errors whose going uncaught must end the process by the signal they map to. */
  private readonly _armed = new WeakMap<object, string>();
  private _monitoring = false;

  constructor(private readonly _process: HostProcess) {}

  supports(signal: string): boolean {
    // Worker threads never receive signals (Node delivers them to the main thread only).
    return signal !== "SIGKILL" && signal !== "SIGSTOP" && isMainThread(this._process);
  }

  add(signal: string, listener: SignalListener): void {
    this._process.on(signal, listener);
    this._ours.set(signal, (this._ours.get(signal) ?? 0) + 1);
  }

  remove(signal: string, listener: SignalListener): void {
    const before = this._process.listenerCount(signal);
    this._process.off(signal, listener);
    if (this._process.listenerCount(signal) < before) this._ours.set(signal, Math.max(0, (this._ours.get(signal) ?? 0) - 1));
  }

  foreignListeners(signal: string): number {
    return Math.max(0, this._process.listenerCount(signal) - (this._ours.get(signal) ?? 0));
  }

  raise(signal: string): void {
    this._process.kill(this._process.pid, signal);
  }

  /**
   * CPython's `exit_sigint`: back to the default action, send the signal to ourselves,
   * and if that did not end the process (the signal is ignored), exit with the status a
   * shell would have shown.
   */
  exitBySignal(signal: string): void {
    const process = this._process;
    process.removeAllListeners(signal);
    this._ours.delete(signal);
    try {
      process.kill(process.pid, signal);
    } catch {
      // Fall through to the exit status.
    }
    process.exit(128 + signalNumber(process, signal));
  }

  /**
   * Uses Node's `uncaughtExceptionMonitor`, which observes an uncaught error (or an
   * unhandled rejection raised as one) without changing what happens to it. When nothing
   * else will handle the error (no `uncaughtException` listener, no capture callback),
   * the process would print it and exit with status 1; instead it prints it and ends by
   * the signal. Other errors, and errors someone catches, are left alone.
   */
  exitBySignalIfUncaught(error: Error, signal: string): void {
    this._armed.set(error, signal);
    if (this._monitoring) return;
    this._monitoring = true;
    this._process.on("uncaughtExceptionMonitor", this._onUncaught);
  }

  private readonly _onUncaught = (error: unknown): void => {
    // Anything thrown may arrive here; `WeakMap.get` answers undefined for a primitive or null.
    const signal = this._armed.get(error as object);
    const process = this._process;
    if (signal === undefined || process.listenerCount("uncaughtException") > 0 || process.hasUncaughtExceptionCaptureCallback?.() === true) return;
    process.stderr?.write(`${(error as Error).stack ?? String(error)}\n`);
    this.exitBySignal(signal);
  };
}

function isMainThread(process: HostProcess): boolean {
  try {
    const threads = process.getBuiltinModule?.("node:worker_threads") as { isMainThread?: boolean } | undefined;
    // Stryker disable next-line OptionalChaining: without the module, reading through undefined throws, and the catch below answers true, as `undefined !== false` does
    return threads?.isMainThread !== false;
  } catch {
    return true;
  }
}

function signalNumber(process: HostProcess, signal: string): number {
  try {
    const os = process.getBuiltinModule?.("node:os") as { constants?: { signals?: Record<string, number> } } | undefined;
    // Stryker disable next-line OptionalChaining: a missing step throws instead, and the catch below falls back to the table, as an undefined `n` does
    const n = os?.constants?.signals?.[signal];
    if (typeof n === "number") return n;
  } catch {
    // Use the table.
  }
  return FALLBACK_NUMBERS[signal] ?? 0;
}

let shared: HostSignalDriver | null | undefined;

/** The host's signal driver, shared by every default poller; undefined where there is no `process`. */
export function hostSignalDriver(): SignalDriver | undefined {
  if (shared === undefined) {
    const process = (globalThis as unknown as { process?: Partial<HostProcess> }).process;
    shared =
      process !== undefined && typeof process.on === "function" && typeof process.off === "function" && typeof process.kill === "function"
        ? new HostSignalDriver(process as HostProcess)
        : null;
  }
  return shared ?? undefined;
}

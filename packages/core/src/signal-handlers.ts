/**
 * `loop.addSignalHandler` / `loop.removeSignalHandler` (asyncio's unix_events), on the
 * poller's `signals` capability.
 */

import type { Context } from "./context.js";
import { snapshotContext } from "./context.js";
import { isCoroutine } from "./coroutine.js";
import { CallbackHandle } from "./handle.js";
import type { AbstractEventLoop, Callback } from "./types.js";
import type { SignalDriver } from "./signal-driver.js";

/** The POSIX signal names (and Windows' SIGBREAK); which of them a host delivers is its driver's business. */
const SIGNAL_NAMES: ReadonlySet<string> = new Set([
  "SIGABRT", "SIGALRM", "SIGBREAK", "SIGBUS", "SIGCHLD", "SIGCONT", "SIGFPE", "SIGHUP", "SIGILL", "SIGINFO", "SIGINT",
  "SIGIO", "SIGIOT", "SIGKILL", "SIGLOST", "SIGPIPE", "SIGPOLL", "SIGPROF", "SIGPWR", "SIGQUIT", "SIGSEGV", "SIGSTKFLT",
  "SIGSTOP", "SIGSYS", "SIGTERM", "SIGTRAP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGUNUSED", "SIGURG", "SIGUSR1", "SIGUSR2",
  "SIGVTALRM", "SIGWINCH", "SIGXCPU", "SIGXFSZ",
]);

/**
 * Checks a signal name as asyncio's `_check_signal` does (a wrong type is a TypeError, an
 * unknown signal a RangeError), and refuses the two signals no process can catch.
 */
export function checkSignalName(where: string, signal: unknown): string {
  if (typeof signal !== "string") {
    throw new TypeError(`${where}: signal must be a signal name such as "SIGINT", got ${signal === null ? "null" : typeof signal}`);
  }
  if (!SIGNAL_NAMES.has(signal)) throw new RangeError(`${where}: signal ${JSON.stringify(signal)} is not a signal name; use one such as "SIGINT" or "SIGTERM"`);
  if (signal === "SIGKILL" || signal === "SIGSTOP") throw new RangeError(`${where}: ${signal} cannot be caught; no handler can be added for it`);
  return signal;
}

/** The signals capability of a loop's poller, or an Error saying it has none. */
export function signalDriverOf(loop: AbstractEventLoop, where: string): SignalDriver {
  const driver = loop.poller.signals;
  if (driver === undefined) {
    throw new Error(`${where}: the loop's poller (${loop.poller.name}) has no signals capability; use a poller that has one (the default poller on Node, VirtualPoller for tests)`);
  }
  return driver;
}

interface Registration {
  callback: Callback;
  args: unknown[];
  context: Context | null;
}

/**
 * A loop's signal handlers. Invariant: a signal is in `_handlers` exactly when this
 * object's one listener for it is added to the driver; re-adding a handler swaps the
 * registration, not the listener.
 */
export class SignalHandlers {
  private readonly _handlers = new Map<string, Registration>();
  private _closeHookAdded = false;

  constructor(private readonly _loop: AbstractEventLoop) {}

  add(signal: unknown, callback: unknown, args: unknown[]): void {
    const where = "addSignalHandler(signal, callback)";
    const name = checkSignalName(where, signal);
    if (typeof callback !== "function") {
      throw new TypeError(`${where}: callback must be a function, got ${callback === null ? "null" : typeof callback}`);
    }
    if (isCoroutine(callback) || isGeneratorFunction(callback)) {
      // asyncio: "coroutines cannot be used with add_signal_handler()".
      throw new TypeError(`${where}: callback is a coroutine function; pass a plain function that starts it, e.g. () => loop.createTask(handler())`);
    }
    if (this._loop.isClosed()) throw new Error("Event loop is closed");
    const driver = signalDriverOf(this._loop, where);
    if (!driver.supports(name)) throw new RangeError(`${where}: ${name} cannot be watched here (poller ${this._loop.poller.name}; Node delivers signals to the main thread only)`);
    const registration: Registration = { callback: callback as Callback, args, context: snapshotContext() };
    if (!this._handlers.has(name)) driver.add(name, this._onSignal);
    this._handlers.set(name, registration);
    if (!this._closeHookAdded) {
      this._closeHookAdded = true;
      // asyncio's unix loop removes its signal handlers when it closes.
      this._loop.addCloseCallback(() => this.removeAll());
    }
  }

  remove(signal: unknown): boolean {
    const name = checkSignalName("removeSignalHandler(signal)", signal);
    if (!this._handlers.delete(name)) return false;
    this._loop.poller.signals?.remove(name, this._onSignal);
    return true;
  }

  /** True while a handler for `signal` is added (run() then leaves that signal to it, as asyncio's Runner does). */
  has(signal: string): boolean {
    return this._handlers.has(signal);
  }

  removeAll(): void {
    for (const name of [...this._handlers.keys()]) this.remove(name);
  }

  /** The host's listener: queue the handler as a loop callback, never run it here. */
  private readonly _onSignal = (signal: string): void => {
    const registration = this._handlers.get(signal);
    if (registration === undefined || this._loop.isClosed()) return;
    this._loop._enqueue(new CallbackHandle(registration.callback, registration.args, registration.context));
  };
}

function isGeneratorFunction(fn: unknown): boolean {
  return typeof fn === "function" && Object.prototype.toString.call(fn) === "[object GeneratorFunction]";
}

import { describe, expect, test, vi } from "vitest";
import { HostSignalDriver, type HostProcess } from "../src/host-signals.js";

/** Thrown by the stand-in's `exit`, which must not return. */
class Exited extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

type Listener = (...args: never[]) => void;

/** A stand-in for Node's `process`: an event emitter that records kills, exits and stderr. */
class FakeProcess implements HostProcess {
  readonly pid = 4242;
  readonly listeners = new Map<string, Listener[]>();
  readonly kills: [number, string][] = [];
  readonly written: string[] = [];
  killThrows = false;
  captureCallback: boolean | undefined = undefined;
  modules: Record<string, unknown> = {};
  modulesThrow = false;
  readonly stderr = { write: (text: string): void => void this.written.push(text) };

  on(event: string, listener: Listener): this {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return this;
  }
  off(event: string, listener: Listener): this {
    const list = this.listeners.get(event) ?? [];
    const at = list.indexOf(listener);
    if (at >= 0) list.splice(at, 1);
    return this;
  }
  listenerCount(event: string): number {
    return this.listeners.get(event)?.length ?? 0;
  }
  removeAllListeners(event: string): this {
    this.listeners.delete(event);
    return this;
  }
  kill(pid: number, signal: string): true {
    this.kills.push([pid, signal]);
    if (this.killThrows) throw new Error("EPERM");
    return true;
  }
  exit(code: number): never {
    throw new Exited(code);
  }
  hasUncaughtExceptionCaptureCallback = (): boolean => this.captureCallback === true;
  getBuiltinModule = (id: string): unknown => {
    if (this.modulesThrow) throw new Error("no modules");
    return this.modules[id];
  };
  emit(event: string, ...args: unknown[]): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) (listener as (...a: unknown[]) => void)(...args);
  }
}

function exitCode(run: () => void): number {
  try {
    run();
  } catch (error) {
    if (error instanceof Exited) return error.code;
    throw error;
  }
  throw new Error("did not exit");
}

describe("the host signal driver over a process-like object", () => {
  test("supports every signal but SIGKILL and SIGSTOP on the main thread, none on a worker thread", () => {
    const host = new FakeProcess();
    const driver = new HostSignalDriver(host);
    expect(["SIGINT", "SIGTERM", "SIGKILL", "SIGSTOP"].map((s) => driver.supports(s))).toEqual([true, true, false, false]);
    host.modules["node:worker_threads"] = { isMainThread: true };
    expect(driver.supports("SIGINT")).toBe(true);
    host.modules["node:worker_threads"] = { isMainThread: false };
    expect(driver.supports("SIGINT")).toBe(false);
    // A host whose module lookup fails is taken for the main thread.
    host.modulesThrow = true;
    expect(driver.supports("SIGINT")).toBe(true);
  });

  test("counts only foreign listeners: its own adds and removes are told apart", () => {
    const host = new FakeProcess();
    const driver = new HostSignalDriver(host);
    const foreign = (): void => {};
    const a = (): void => {};
    const b = (): void => {};
    host.on("SIGINT", foreign);
    expect(driver.foreignListeners("SIGINT")).toBe(1);
    driver.add("SIGINT", a);
    driver.add("SIGINT", b);
    expect(host.listenerCount("SIGINT")).toBe(3);
    expect(driver.foreignListeners("SIGINT")).toBe(1);
    driver.remove("SIGINT", a);
    expect(host.listenerCount("SIGINT")).toBe(2);
    expect(driver.foreignListeners("SIGINT")).toBe(1);
    // Removing a listener that is not there leaves the count of ours alone.
    driver.remove("SIGINT", a);
    expect(driver.foreignListeners("SIGINT")).toBe(1);
    driver.remove("SIGINT", b);
    expect(driver.foreignListeners("SIGINT")).toBe(1);
    host.off("SIGINT", foreign);
    expect(driver.foreignListeners("SIGINT")).toBe(0);
    expect(driver.foreignListeners("SIGTERM")).toBe(0);
  });

  test("raise sends the signal to its own pid", () => {
    const host = new FakeProcess();
    new HostSignalDriver(host).raise("SIGUSR1");
    expect(host.kills).toEqual([[4242, "SIGUSR1"]]);
  });

  test("exitBySignal drops the listeners, re-sends the signal, and exits 128 + its number if still alive", () => {
    const host = new FakeProcess();
    const driver = new HostSignalDriver(host);
    driver.add("SIGINT", () => {});
    host.on("SIGINT", () => {});
    expect(exitCode(() => driver.exitBySignal("SIGINT"))).toBe(130);
    expect(host.listenerCount("SIGINT")).toBe(0);
    expect(host.kills).toEqual([[4242, "SIGINT"]]);
    // Its own count is forgotten with the listeners.
    host.on("SIGINT", () => {});
    expect(driver.foreignListeners("SIGINT")).toBe(1);
  });

  test("exitBySignal takes the signal's number from the host's os module, else from Linux's table", () => {
    const host = new FakeProcess();
    const driver = new HostSignalDriver(host);
    host.modules["node:os"] = { constants: { signals: { SIGTERM: 99 } } };
    expect(exitCode(() => driver.exitBySignal("SIGTERM"))).toBe(128 + 99);
    host.modules["node:os"] = { constants: {} };
    expect(exitCode(() => driver.exitBySignal("SIGTERM"))).toBe(128 + 15);
    host.modules["node:os"] = {};
    expect(exitCode(() => driver.exitBySignal("SIGHUP"))).toBe(128 + 1);
    delete host.modules["node:os"];
    expect(exitCode(() => driver.exitBySignal("SIGUSR2"))).toBe(128 + 12);
    host.modulesThrow = true;
    expect(exitCode(() => driver.exitBySignal("SIGINT"))).toBe(128 + 2);
    expect(exitCode(() => driver.exitBySignal("SIGWINCH"))).toBe(128);
  });

  test("exitBySignal still exits when sending the signal fails", () => {
    const host = new FakeProcess();
    host.killThrows = true;
    expect(exitCode(() => new HostSignalDriver(host).exitBySignal("SIGINT"))).toBe(130);
    expect(host.kills).toEqual([[4242, "SIGINT"]]);
  });

  test("an armed error that goes uncaught is printed and ends the process by its signal", () => {
    const host = new FakeProcess();
    const driver = new HostSignalDriver(host);
    const error = new Error("interrupted");
    driver.exitBySignalIfUncaught(error, "SIGINT");
    driver.exitBySignalIfUncaught(new Error("another"), "SIGTERM");
    expect(host.listenerCount("uncaughtExceptionMonitor")).toBe(1);
    expect(exitCode(() => host.emit("uncaughtExceptionMonitor", error))).toBe(130);
    expect(host.written).toEqual([`${error.stack}\n`]);
    expect(host.kills).toEqual([[4242, "SIGINT"]]);
  });

  test("an armed error without a stack is printed as its string", () => {
    const host = new FakeProcess();
    const driver = new HostSignalDriver(host);
    const error = new Error("bare");
    error.stack = undefined;
    driver.exitBySignalIfUncaught(error, "SIGTERM");
    expect(exitCode(() => host.emit("uncaughtExceptionMonitor", error))).toBe(128 + 15);
    expect(host.written).toEqual(["Error: bare\n"]);
  });

  test("uncaught errors it did not arm, non-objects, and errors someone handles are left alone", () => {
    const host = new FakeProcess();
    const driver = new HostSignalDriver(host);
    const error = new Error("interrupted");
    driver.exitBySignalIfUncaught(error, "SIGINT");
    host.emit("uncaughtExceptionMonitor", new Error("other"));
    host.emit("uncaughtExceptionMonitor", null);
    host.emit("uncaughtExceptionMonitor", "SIGINT");
    const handler = (): void => {};
    host.on("uncaughtException", handler);
    host.emit("uncaughtExceptionMonitor", error);
    host.off("uncaughtException", handler);
    host.captureCallback = true;
    host.emit("uncaughtExceptionMonitor", error);
    expect(host.kills).toEqual([]);
    expect(host.written).toEqual([]);
    host.captureCallback = false;
    expect(exitCode(() => host.emit("uncaughtExceptionMonitor", error))).toBe(130);
  });

  test("a host without stderr or a capture-callback query still ends by the signal", () => {
    const host = new FakeProcess() as FakeProcess & { stderr?: unknown; hasUncaughtExceptionCaptureCallback?: unknown };
    Object.defineProperty(host, "stderr", { value: undefined });
    Object.defineProperty(host, "hasUncaughtExceptionCaptureCallback", { value: undefined });
    const driver = new HostSignalDriver(host as HostProcess);
    const error = new Error("interrupted");
    driver.exitBySignalIfUncaught(error, "SIGINT");
    expect(exitCode(() => host.emit("uncaughtExceptionMonitor", error))).toBe(130);
  });
});

describe("hostSignalDriver", () => {
  /** A fresh copy of the module, asked for its driver while `globalThis.process` is `host`, then asked again after. */
  async function driverWith(host: unknown): Promise<[unknown, unknown]> {
    vi.resetModules();
    const { hostSignalDriver } = await import("../src/host-signals.js");
    const g = globalThis as { process?: unknown };
    const real = g.process;
    let first: unknown;
    try {
      g.process = host;
      first = hostSignalDriver();
    } finally {
      g.process = real;
    }
    return [first, hostSignalDriver()];
  }

  test("is undefined where there is no process-like host, and stays so", async () => {
    const fn = (): void => {};
    expect(await driverWith(undefined)).toEqual([undefined, undefined]);
    expect(await driverWith({ off: fn, kill: fn })).toEqual([undefined, undefined]);
    expect(await driverWith({ on: fn, kill: fn })).toEqual([undefined, undefined]);
    expect(await driverWith({ on: fn, off: fn })).toEqual([undefined, undefined]);
  });

  test("is one driver over the host's process, shared by every caller", async () => {
    const host = new FakeProcess();
    const [first, second] = await driverWith(host);
    expect(first).toBeInstanceOf(Object);
    expect(second).toBe(first);
    (first as HostSignalDriver).raise("SIGUSR2");
    expect(host.kills).toEqual([[4242, "SIGUSR2"]]);
  });
});

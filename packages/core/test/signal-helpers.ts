/** Test-local signals for core's tests (core cannot use @loop/testing's VirtualSignals). */
import type { SignalDriver, SignalListener } from "../src/index.js";
import { VirtualPoller } from "./helpers.js";

/** A signal driver that delivers what the test raises, and records what run() asks of it. */
export class FakeSignals implements SignalDriver {
  readonly exits: string[] = [];
  readonly armed: [Error, string][] = [];
  foreign = 0;
  readonly listeners = new Map<string, SignalListener[]>();
  supports(signal: string): boolean {
    return signal !== "SIGKILL" && signal !== "SIGSTOP";
  }
  add(signal: string, listener: SignalListener): void {
    this.listeners.set(signal, [...(this.listeners.get(signal) ?? []), listener]);
  }
  remove(signal: string, listener: SignalListener): void {
    const list = (this.listeners.get(signal) ?? []).filter((l) => l !== listener);
    if (list.length === 0) this.listeners.delete(signal);
    else this.listeners.set(signal, list);
  }
  count(signal: string): number {
    return this.listeners.get(signal)?.length ?? 0;
  }
  foreignListeners(): number {
    return this.foreign;
  }
  raise(signal: string): void {
    for (const listener of [...(this.listeners.get(signal) ?? [])]) listener(signal);
  }
  exitBySignal(signal: string): void {
    this.exits.push(signal);
  }
  exitBySignalIfUncaught(error: Error, signal: string): void {
    this.armed.push([error, signal]);
  }
}

export class SignalPoller extends VirtualPoller {
  readonly signals = new FakeSignals();
}


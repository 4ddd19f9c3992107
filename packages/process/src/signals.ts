import { constants } from "node:os";

const byName: Readonly<Record<string, number>> = constants.signals as unknown as Record<string, number>;
const byNumber = new Map<number, string>();
for (const [name, number] of Object.entries(byName)) if (!byNumber.has(number)) byNumber.set(number, name);

/**
 * The number of `signal` (a name such as "SIGTERM", or a number) on this host; a
 * `RangeError` naming `where` for one the host does not know, a `TypeError` for anything else.
 */
export function signalNumber(where: string, signal: unknown): number {
  if (typeof signal === "string") {
    const number = byName[signal];
    if (number === undefined) throw new RangeError(`${where}: unknown signal ${JSON.stringify(signal)}; use a name such as "SIGTERM" or "SIGKILL", or a signal number`);
    return number;
  }
  if (typeof signal === "number") {
    if (!Number.isInteger(signal) || (signal !== 0 && !byNumber.has(signal))) {
      throw new RangeError(`${where}: unknown signal number ${signal}`);
    }
    return signal;
  }
  throw new TypeError(`${where}: the signal must be a name such as "SIGTERM" or a number, got ${signal === null ? "null" : typeof signal}`);
}

/** "SIGTERM" for 15, or "signal 99" for a number the host has no name for. */
export function signalName(number: number): string {
  return byNumber.get(number) ?? `signal ${number}`;
}

/** The number of a signal name Node reported (0 for one this host has no number for). */
export function signalNumberOrZero(name: string | null): number {
  return name === null ? 0 : (byName[name] ?? 0);
}

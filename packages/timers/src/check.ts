/**
 * Argument checks shared by the timers (docs/design.md#time-errors-and-other-fixed-details): a wrong type is a TypeError, a wrong value
 * a RangeError, thrown at the call, each naming the argument and the fix.
 */

/** A delay in ms: a finite number >= 0. */
export function checkDelay(where: string, name: string, ms: unknown): asserts ms is number {
  if (typeof ms !== "number") {
    throw new TypeError(`${where}: ${name} must be a number of milliseconds, got ${describe(ms)}`);
  }
  if (Number.isNaN(ms)) throw new RangeError(`${where}: ${name} is NaN; pass a number of milliseconds >= 0`);
  if (ms < 0) throw new RangeError(`${where}: ${name} must be >= 0 milliseconds, got ${ms}`);
  if (ms === Infinity) throw new RangeError(`${where}: ${name} must be finite, got Infinity`);
}

/**
 * An optional delay in ms: null or Infinity mean "no deadline" and give null; otherwise
 * a finite number >= 0.
 */
export function checkOptionalDelay(where: string, name: string, ms: unknown): number | null {
  if (ms === null || ms === Infinity) return null;
  if (typeof ms !== "number") {
    throw new TypeError(`${where}: ${name} must be a number of milliseconds, or null for no deadline, got ${describe(ms)}`);
  }
  if (Number.isNaN(ms)) throw new RangeError(`${where}: ${name} is NaN; pass a number of milliseconds >= 0, or null for no deadline`);
  if (ms < 0) throw new RangeError(`${where}: ${name} must be >= 0 milliseconds (or null for no deadline), got ${ms}`);
  return ms;
}

/** A loop time in ms: any finite number (a time in the past is allowed: it is due now). */
export function checkTime(where: string, name: string, when: unknown): asserts when is number {
  if (typeof when !== "number") throw new TypeError(`${where}: ${name} must be a loop time in milliseconds (see loop.time()), got ${describe(when)}`);
  if (Number.isNaN(when)) throw new RangeError(`${where}: ${name} is NaN; pass a loop time in milliseconds (see loop.time())`);
  if (!Number.isFinite(when)) throw new RangeError(`${where}: ${name} must be finite, got ${when}`);
}

/** An optional loop time: null or Infinity mean "no deadline" and give null. */
export function checkOptionalTime(where: string, name: string, when: unknown): number | null {
  if (when === null || when === Infinity) return null;
  if (typeof when !== "number") {
    throw new TypeError(`${where}: ${name} must be a loop time in milliseconds (see loop.time()), or null for no deadline, got ${describe(when)}`);
  }
  if (Number.isNaN(when)) throw new RangeError(`${where}: ${name} is NaN; pass a loop time in milliseconds, or null for no deadline`);
  if (when === -Infinity) throw new RangeError(`${where}: ${name} must be finite or null, got -Infinity`);
  return when;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  return typeof value;
}

/**
 * The source text of a function sent to workers. `toString` builds it anew each time,
 * which is cheap (tens of ns, about a twentieth of a round trip's own work); a cache per
 * function in a WeakMap, tried before, cost ten times that for the common
 * `toThread((n) => …, n)`, whose function is a new object at every call.
 */
export function functionSource(fn: object): string {
  return Function.prototype.toString.call(fn);
}

/**
 * The source text of functions sent to workers, kept per function: `toString` builds a new
 * string each time, and programs send the same few functions many times. Shared by the
 * check at the call and by the executor that sends the text.
 */
const sources = new WeakMap<object, string>();

export function functionSource(fn: object): string {
  let source = sources.get(fn);
  if (source === undefined) {
    source = Function.prototype.toString.call(fn);
    sources.set(fn, source);
  }
  return source;
}

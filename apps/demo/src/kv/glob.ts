/**
 * Glob matching for `KEYS pattern`, with the rules of Redis's `stringmatchlen`:
 * `*` any run of bytes, `?` one byte, `[abc]` `[^abc]` `[a-z]` a class (a reversed range
 * works; an unclosed `[` takes the rest of the pattern as its class), `\x` the byte `x`
 * literally. Case-sensitive.
 *
 * Unlike Redis's recursive matcher (exponential on patterns like `a*a*a*a*b`, which Redis
 * 7 bounds with an extra flag), this uses the classic backtrack-to-the-last-star
 * algorithm: O(pattern × subject) at worst, which is safe to expose to clients.
 */

/** True when the whole of `subject` matches `pattern` (both Latin-1 byte strings). */
export function globMatch(pattern: string, subject: string): boolean {
  let p = 0;
  let s = 0;
  // Where to resume after the last `*`: the pattern just past it, and the subject index it now covers up to.
  let starP = -1;
  let starS = 0;
  const pn = pattern.length;
  const sn = subject.length;
  while (s < sn) {
    if (p < pn) {
      const c = pattern.charCodeAt(p);
      if (c === 42 /* * */) {
        while (p < pn && pattern.charCodeAt(p) === 42) p++;
        if (p === pn) return true;
        starP = p;
        starS = s;
        continue;
      }
      const next = matchOne(pattern, p, subject.charCodeAt(s));
      if (next >= 0) {
        p = next;
        s++;
        continue;
      }
    }
    if (starP < 0) return false;
    // Let the last `*` swallow one more byte and retry from just after it.
    p = starP;
    s = ++starS;
  }
  while (p < pn && pattern.charCodeAt(p) === 42) p++;
  return p === pn;
}

/**
 * Matches the single-byte pattern element at `p` (a literal, `?`, `\x` or a class)
 * against `byte`: the index after the element if it matches, else -1.
 */
function matchOne(pattern: string, p: number, byte: number): number {
  const pn = pattern.length;
  const c = pattern.charCodeAt(p);
  if (c === 63 /* ? */) return p + 1;
  if (c === 92 /* \ */) {
    if (p + 1 < pn) return pattern.charCodeAt(p + 1) === byte ? p + 2 : -1;
    return byte === 92 ? p + 1 : -1;
  }
  if (c !== 91 /* [ */) return c === byte ? p + 1 : -1;
  let i = p + 1;
  const negate = i < pn && pattern.charCodeAt(i) === 94; /* ^ */
  if (negate) i++;
  let matched = false;
  while (i < pn) {
    const k = pattern.charCodeAt(i);
    if (k === 93 /* ] */) {
      i++;
      break;
    }
    if (k === 92 && i + 1 < pn) {
      if (pattern.charCodeAt(i + 1) === byte) matched = true;
      i += 2;
    } else if (i + 2 < pn && pattern.charCodeAt(i + 1) === 45 /* - */) {
      let low = k;
      let high = pattern.charCodeAt(i + 2);
      if (low > high) [low, high] = [high, low];
      if (byte >= low && byte <= high) matched = true;
      i += 3;
    } else {
      if (k === byte) matched = true;
      i++;
    }
  }
  return matched !== negate ? i : -1;
}

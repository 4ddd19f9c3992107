import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { latin1, utf8Bytes } from "../src/kv/bytes.js";
import { globMatch } from "../src/kv/glob.js";
import { Keyspace } from "../src/kv/keyspace.js";

/** A keyspace on a clock the test moves by hand. */
function keyspaceAt(start = 1000): { ks: Keyspace; clock: { now: number } } {
  const clock = { now: start };
  return { ks: new Keyspace(() => clock.now), clock };
}
const v = (text: string): Uint8Array => utf8Bytes(text);

describe("Keyspace", () => {
  it("stores, reads, overwrites and deletes values", () => {
    const { ks } = keyspaceAt();
    expect(ks.get("a")).toBeUndefined();
    ks.set("a", v("1"));
    ks.set("a", v("2"));
    expect(latin1(ks.get("a")!)).toBe("2");
    expect(ks.size).toBe(1);
    expect(ks.delete("a")).toBe(true);
    expect(ks.delete("a")).toBe(false);
    expect(ks.has("a")).toBe(false);
  });

  it("hides a key from every read once its deadline is reached (lazy expiry)", () => {
    const { ks, clock } = keyspaceAt(1000);
    ks.set("k", v("x"), 1500);
    clock.now = 1499.9;
    expect(ks.has("k")).toBe(true);
    clock.now = 1500;
    expect(ks.get("k")).toBeUndefined();
    expect(ks.deadline("k")).toBeUndefined();
    expect([...ks.keys()]).toEqual([]);
    expect(ks.size).toBe(0);
    expect(ks.expiredCount).toBe(1);
  });

  it("does not resurrect an expired key's deadline when the key is set again", () => {
    const { ks, clock } = keyspaceAt(0);
    ks.set("k", v("old"), 10);
    clock.now = 20;
    ks.set("k", v("new"), Infinity, true);
    expect(ks.deadline("k")).toBe(Infinity);
  });

  it("replaces the deadline on set, unless keepTtl", () => {
    const { ks } = keyspaceAt(0);
    ks.set("k", v("1"), 100);
    ks.set("k", v("2"), Infinity, true);
    expect(ks.deadline("k")).toBe(100);
    ks.set("k", v("3"));
    expect(ks.deadline("k")).toBe(Infinity);
    expect(ks.expiringSize).toBe(0);
  });

  it("expireAt sets a deadline, removes it with Infinity, and deletes at once for a past one", () => {
    const { ks } = keyspaceAt(50);
    expect(ks.expireAt("missing", 100)).toBe(false);
    ks.set("k", v("1"));
    expect(ks.expireAt("k", 100)).toBe(true);
    expect(ks.deadline("k")).toBe(100);
    expect(ks.expireAt("k", Infinity)).toBe(true);
    expect(ks.expiringSize).toBe(0);
    expect(ks.expireAt("k", 50)).toBe(true);
    expect(ks.has("k")).toBe(false);
  });

  it("sweep removes expired keys that nobody reads, and leaves the others", () => {
    const { ks, clock } = keyspaceAt(0);
    for (let i = 0; i < 10; i++) ks.set(`short${i}`, v("x"), 10);
    for (let i = 0; i < 10; i++) ks.set(`long${i}`, v("x"), 1000);
    ks.set("forever", v("x"));
    clock.now = 10;
    const removed = ks.sweep();
    expect(removed).toBe(10);
    expect(ks.size).toBe(11);
    expect(ks.expiringSize).toBe(10);
  });

  it("sweep keeps going while more than a quarter of a sample is expired, then stops", () => {
    const { ks, clock } = keyspaceAt(0);
    for (let i = 0; i < 200; i++) ks.set(`k${i}`, v("x"), 5);
    clock.now = 5;
    // 16 rounds of 20: the 200 expired keys go in one cycle.
    expect(ks.sweep()).toBe(200);
    expect(ks.size).toBe(0);
  });

  it("sweep looks at a bounded number of keys per call", () => {
    const { ks, clock } = keyspaceAt(0);
    for (let i = 0; i < 1000; i++) ks.set(`k${i}`, v("x"), 5);
    clock.now = 5;
    expect(ks.sweep()).toBe(16 * 20);
    expect(ks.sweep()).toBe(16 * 20);
  });

  it("sweep resumes where it stopped, so every expiring key is eventually visited", () => {
    const { ks, clock } = keyspaceAt(0);
    // Mostly long-lived keys: each call samples 20 of them and stops (few expired).
    for (let i = 0; i < 100; i++) ks.set(`long${i}`, v("x"), 1e9);
    ks.set("short", v("x"), 5);
    clock.now = 5;
    let calls = 0;
    while (ks.expiringSize > 100) {
      ks.sweep();
      calls++;
      expect(calls).toBeLessThanOrEqual(6);
    }
    expect(ks.size).toBe(100);
  });

  it("sweep on a keyspace without deadlines does nothing", () => {
    const { ks } = keyspaceAt();
    ks.set("a", v("1"));
    expect(ks.sweep()).toBe(0);
  });

  it("clear empties data and deadlines", () => {
    const { ks } = keyspaceAt();
    ks.set("a", v("1"), 5000);
    ks.set("b", v("1"));
    ks.clear();
    expect(ks.size).toBe(0);
    expect(ks.expiringSize).toBe(0);
    expect(ks.sweep()).toBe(0);
  });

  it("agrees with a model of live keys under any sequence of operations (property)", () => {
    type Op = { kind: "set" | "expire" | "delete" | "tick" | "sweep"; key: number; ms: number };
    const op = fc.record({
      kind: fc.constantFrom("set", "expire", "delete", "tick", "sweep"),
      key: fc.integer({ min: 0, max: 5 }),
      ms: fc.integer({ min: 0, max: 50 }),
    }) as fc.Arbitrary<Op>;
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const { ks, clock } = keyspaceAt(0);
        const model = new Map<string, number>(); // key -> deadline
        const live = (key: string): boolean => model.has(key) && model.get(key)! > clock.now;
        for (const { kind, key: n, ms } of ops) {
          const key = `k${n}`;
          if (kind === "set") {
            const deadline = ms === 0 ? Infinity : clock.now + ms;
            ks.set(key, v("x"), deadline);
            model.set(key, deadline);
          } else if (kind === "expire") {
            expect(ks.expireAt(key, clock.now + ms)).toBe(live(key));
            if (live(key)) model.set(key, clock.now + ms);
          } else if (kind === "delete") {
            expect(ks.delete(key)).toBe(live(key));
            model.delete(key);
          } else if (kind === "tick") {
            clock.now += ms;
          } else {
            ks.sweep();
          }
          for (let i = 0; i <= 5; i++) expect(ks.has(`k${i}`)).toBe(live(`k${i}`));
        }
      }),
    );
  });
});

describe("globMatch (KEYS patterns, Redis stringmatchlen)", () => {
  it.each([
    ["*", "", true],
    ["*", "anything", true],
    ["h?llo", "hello", true],
    ["h?llo", "hllo", false],
    ["h*llo", "hllo", true],
    ["h*llo", "heeeello", true],
    ["h[ae]llo", "hallo", true],
    ["h[ae]llo", "hillo", false],
    ["h[^e]llo", "hallo", true],
    ["h[^e]llo", "hello", false],
    ["h[a-c]llo", "hbllo", true],
    ["h[c-a]llo", "hbllo", true],
    ["h[a-c]llo", "hdllo", false],
    ["h\\*llo", "h*llo", true],
    ["h\\*llo", "hello", false],
    ["[\\]]", "]", true],
    ["user:*:name", "user:42:name", true],
    ["user:*:name", "user:42:email", false],
    ["*a*a*a*a*a*a*a*a*b", "a".repeat(40), false],
    ["abc", "ABC", false],
    ["a[bc", "ab", true],
    ["\\", "\\", true],
  ])("%s against %s: %s", (pattern, subject, expected) => {
    expect(globMatch(pattern, subject)).toBe(expected);
  });

  it("matches like a regular expression for patterns of literals, ? and * (property)", () => {
    const pattern = fc.array(fc.constantFrom("a", "b", "?", "*"), { maxLength: 8 }).map((p) => p.join(""));
    const subject = fc.array(fc.constantFrom("a", "b"), { maxLength: 10 }).map((s) => s.join(""));
    fc.assert(
      fc.property(pattern, subject, (p, s) => {
        const re = new RegExp(`^${p.replace(/\?/g, ".").replace(/\*/g, ".*")}$`, "s");
        expect(globMatch(p, s)).toBe(re.test(s));
      }),
    );
  });
});

describe("latin1 (byte strings as strings)", () => {
  const reference = (bytes: Uint8Array): string => Array.from(bytes, (b) => String.fromCharCode(b)).join("");

  it("is one char per byte for any bytes, short ones coming from the string table included", () => {
    // Short inputs from a small alphabet collide in the table's slots and repeat, so hits,
    // misses and replaced slots all happen; long ones take the chunked path.
    const short = fc.uint8Array({ maxLength: 40 }).map((b) => b.map((x) => x % 4));
    fc.assert(
      fc.property(fc.array(fc.oneof(short, fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ minLength: 9000, maxLength: 20000 })), { maxLength: 60 }), (inputs) => {
        for (const bytes of inputs) expect(latin1(bytes)).toBe(reference(bytes));
      }),
      { numRuns: 60 },
    );
  });

  it("hands back the same string for the same short bytes, and never a stale one after its slot is reused", () => {
    const key = new TextEncoder().encode("key:__rand_int__");
    const first = latin1(key);
    expect(latin1(key.slice())).toBe(first);
    // 20,000 keys of one length in 4,096 slots: slots are shared and reused, so reading
    // them all again must compare each slot's string with the bytes, not trust the length.
    const keys = Array.from({ length: 20000 }, (_, i) => new TextEncoder().encode(`key:${String(i).padStart(12, "0")}`));
    for (const k of keys) latin1(k);
    for (const k of keys) expect(latin1(k)).toBe(reference(k));
    expect(latin1(key)).toBe("key:__rand_int__");
    const views = new Uint8Array([0, 255, 128, 65]);
    expect(latin1(views.subarray(1, 3))).toBe("\u00ff\u0080");
  });
});

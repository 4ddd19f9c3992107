/**
 * The data: string keys to byte-string values, with expiry on the loop's clock.
 *
 * Expiry works as in Redis: lazily, a key whose deadline has passed is deleted when a
 * command touches it (`expireIfNeeded`), so no command ever sees it; and actively,
 * `sweep()` samples keys that have a deadline and deletes the expired ones, so that keys
 * nobody reads again do not stay in memory forever (`activeExpireCycle`, run by the
 * server every 100 ms like Redis's `hz 10`).
 *
 * The clock is injected (`() => loop.time()` in the server, a plain variable in tests): a
 * monotonic clock in milliseconds, so deadlines do not jump with the wall clock.
 */

/** A stored value and its deadline (`Infinity`: none). Mutated in place on overwrite. */
class Entry {
  constructor(
    public value: Uint8Array,
    public expiresAt: number,
  ) {}
}

/** How `sweep()` samples: Redis's `ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP` and its 25% rule. */
const SAMPLE_SIZE = 20;
const MAX_ROUNDS = 16;

export class Keyspace {
  private readonly entries = new Map<string, Entry>();
  /** The keys with a deadline (Redis's `expires` dict), which `sweep()` walks. */
  private readonly expiring = new Map<string, Entry>();
  /**
   * Where the sweep stopped last time. A Map iterator stays valid while the map changes
   * (deleted entries are skipped, new ones visited), so the sweep resumes in O(1) and
   * visits every expiring key in turn instead of sampling at random as Redis does.
   */
  private cursor: Iterator<[string, Entry]> | null = null;
  /** Keys removed because their deadline passed, lazily or by the sweep. */
  expiredCount = 0;

  constructor(readonly clock: () => number) {}

  /** Live keys (expired ones not yet removed are counted: Redis's DBSIZE does the same). */
  get size(): number {
    return this.entries.size;
  }

  /** Keys with a deadline, including expired ones not yet removed. */
  get expiringSize(): number {
    return this.expiring.size;
  }

  /** The value of a live key, or `undefined`. Deletes the key if it has expired. */
  get(key: string): Uint8Array | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt !== Infinity && this.expireIfNeeded(key, entry)) return undefined;
    return entry.value;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /**
   * Stores `value` (kept by reference: pass a copy of bytes that may change). The key's
   * deadline becomes `expiresAt` (loop time in ms; `Infinity` for none), or stays what it
   * was with `keepTtl`.
   */
  set(key: string, value: Uint8Array, expiresAt = Infinity, keepTtl = false): void {
    const entry = this.liveEntry(key);
    if (entry === undefined) {
      const created = new Entry(value, expiresAt);
      this.entries.set(key, created);
      if (expiresAt !== Infinity) this.expiring.set(key, created);
      return;
    }
    entry.value = value;
    if (!keepTtl) this.setDeadline(key, entry, expiresAt);
  }

  /** Deletes a live key; false if there was none. */
  delete(key: string): boolean {
    const entry = this.liveEntry(key);
    if (entry === undefined) return false;
    this.remove(key, entry);
    return true;
  }

  /**
   * The deadline of a live key: a loop time in ms, `Infinity` if it has none, `undefined`
   * if the key does not exist.
   */
  deadline(key: string): number | undefined {
    return this.liveEntry(key)?.expiresAt;
  }

  /**
   * Gives a live key the deadline `expiresAt` (`Infinity` removes it, as PERSIST does).
   * A deadline that has already passed deletes the key at once. False if there is no key.
   */
  expireAt(key: string, expiresAt: number): boolean {
    const entry = this.liveEntry(key);
    if (entry === undefined) return false;
    if (expiresAt <= this.clock()) {
      this.remove(key, entry);
      return true;
    }
    this.setDeadline(key, entry, expiresAt);
    return true;
  }

  /** The live keys, in insertion order; expired ones met on the way are removed. */
  *keys(): IterableIterator<string> {
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt !== Infinity && this.expireIfNeeded(key, entry)) continue;
      yield key;
    }
  }

  /** Deletes every key. */
  clear(): void {
    this.entries.clear();
    this.expiring.clear();
    this.cursor = null;
  }

  /**
   * One active-expiry cycle: looks at up to 20 keys that have a deadline, deletes those
   * past it, and goes on while more than a quarter of a sample was expired (so a burst of
   * expiries is cleared fast, and a keyspace of long-lived keys costs 20 checks), for at
   * most 16 samples. Returns how many keys it deleted.
   */
  sweep(): number {
    let removed = 0;
    const now = this.clock();
    for (let round = 0; round < MAX_ROUNDS && this.expiring.size > 0; round++) {
      let sampled = 0;
      let expired = 0;
      while (sampled < SAMPLE_SIZE) {
        this.cursor ??= this.expiring.entries();
        const step = this.cursor.next();
        if (step.done === true) {
          // The end of a pass: the next round starts the next pass, never revisiting a
          // key within one sample.
          this.cursor = null;
          break;
        }
        sampled++;
        const [key, entry] = step.value;
        if (entry.expiresAt <= now) {
          this.remove(key, entry);
          this.expiredCount++;
          expired++;
        }
      }
      removed += expired;
      if (expired * 4 <= sampled) break;
    }
    return removed;
  }

  /** The entry of `key` if it is live, after lazy expiry. */
  private liveEntry(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt !== Infinity && this.expireIfNeeded(key, entry)) return undefined;
    return entry;
  }

  /** Redis's `expireIfNeeded`: removes the key if its deadline has passed. */
  private expireIfNeeded(key: string, entry: Entry): boolean {
    if (entry.expiresAt > this.clock()) return false;
    this.remove(key, entry);
    this.expiredCount++;
    return true;
  }

  private setDeadline(key: string, entry: Entry, expiresAt: number): void {
    if (expiresAt === entry.expiresAt) return;
    if (expiresAt === Infinity) this.expiring.delete(key);
    else if (entry.expiresAt === Infinity) this.expiring.set(key, entry);
    entry.expiresAt = expiresAt;
  }

  private remove(key: string, entry: Entry): void {
    this.entries.delete(key);
    if (entry.expiresAt !== Infinity) this.expiring.delete(key);
  }
}

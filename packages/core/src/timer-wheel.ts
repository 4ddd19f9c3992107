import type { TimerHandle } from "./handle.js";

/** Slots per level: each level's buckets are `SLOTS` times as wide as the level's below. */
const LEVEL_BITS = 6;
const SLOTS = 2 ** LEVEL_BITS;
const SLOT_MASK = SLOTS - 1;
/** Level 0's buckets are 2^FINEST_BITS ms wide. */
const FINEST_BITS = 0;
/** The coarsest level; its buckets are 2^42 ms (139 years) wide or more, so nothing is out of range. */
const MAX_LEVEL = Math.ceil((42 - FINEST_BITS) / LEVEL_BITS);
/** `WIDTH[l]`: the width (ms) of a level-`l` bucket. All powers of two: dividing by one is exact. */
const WIDTH: readonly number[] = Array.from({ length: MAX_LEVEL + 1 }, (_, l) => 2 ** (FINEST_BITS + LEVEL_BITS * l));
/** `INVERSE[l]`: 1 / `WIDTH[l]`, exact. */
const INVERSE: readonly number[] = WIDTH.map((w) => 1 / w);
/** `SPAN[l]`: a timer due within this many ms of the reference time goes to level `l` or finer. */
const SPAN: readonly number[] = WIDTH.map((w) => w * SLOTS);
/** Buckets up to this size are sorted by insertion, larger ones by merging such runs. */
const SHORT_RUN = 16;

/**
 * The timers whose deadlines fall in one bucket of one level: `[start, start + WIDTH[level])`.
 *
 * Invariant: `items[head..]` holds the bucket's live timers (those whose `_bucket` is this
 * bucket) and `dead` timers cancelled since they were put there, which are skipped; a
 * cancel that leaves more dead than live entries compacts the bucket, so it never holds
 * more than twice its live timers and a cancelled timer is not kept alive for long.
 * Unsorted, the entries are in no order (`head` is 0); sorted (only a level-0 bucket that
 * reached the front of the wheel is sorted), in (deadline, sequence) order.
 */
export class TimerBucket {
  /** @internal */ readonly _wheel: TimerWheel;
  /** @internal */ readonly _level: number;
  /** @internal */ readonly _index: number;
  /** @internal */ readonly _start: number;
  /** @internal */ _items: TimerHandle[] = [];
  /** @internal */ _head = 0;
  /** @internal */ _dead = 0;
  /** @internal */ _sorted = false;

  /** @internal */
  constructor(wheel: TimerWheel, level: number, index: number) {
    this._wheel = wheel;
    this._level = level;
    this._index = index;
    this._start = index * (WIDTH[level] as number);
  }
}

/**
 * The loop's timers: a hierarchical timing wheel whose buckets are kept in a small
 * priority queue, as Kafka's purgatory keeps its wheel's buckets in a `DelayQueue`, so that
 * empty slots cost nothing and a clock that jumps an hour (virtual time) is one step.
 *
 * A timer goes into a bucket of the level its distance from the reference time (the `now`
 * of the last `popDue`) calls for: within 64 ms a 1 ms bucket, within 4 s a 64 ms one, and
 * so on by factors of 64. Scheduling is a map lookup and an append; cancelling removes the
 * timer from its bucket at once (a swap with the bucket's last timer), so a cancelled timer
 * never lingers and nothing needs compacting. Buckets are ordered by start, a coarser
 * bucket before a finer one that starts at the same time. When a coarse bucket reaches the
 * front its timers are spread over finer buckets (at most seven moves in a timer's life);
 * when a 1 ms bucket reaches the front it is sorted once by (deadline, sequence) and
 * drained from its head. Deadlines are kept exact: buckets only group timers, they never
 * round a deadline, so equal deadlines leave in scheduling order and `when()` is what was
 * asked for.
 *
 * Why not a heap of timers: popping a heap of a hundred thousand timers walks eight levels
 * of a structure larger than the CPU caches, a cache miss per level; here the due timers
 * are read from one small sorted array in order, and a burst of timers costs one sort of
 * each 1 ms bucket instead of a sift per timer.
 */
export class TimerWheel {
  /** How many timers are scheduled and not cancelled. */
  size = 0;
  /** Buckets in (start ascending, level descending) order, as a binary heap. */
  private readonly _queue: TimerBucket[] = [];
  /** `_buckets[l]` maps a level-`l` bucket's index to the bucket, for the buckets in `_queue`. */
  private readonly _buckets: Map<number, TimerBucket>[] = Array.from({ length: MAX_LEVEL + 1 }, () => new Map());
  /**
   * The wheel proper: `_slots[l * SLOTS + (index & SLOT_MASK)]` is the last level-`l` bucket
   * looked up whose index falls in that slot, or null. A cache in front of `_buckets`: the
   * buckets alive at one level usually span fewer indices than there are slots, so the
   * lookup is an array read; a collision (a bucket spread early, ahead of the clock) falls
   * back on the map.
   */
  private readonly _slots: (TimerBucket | null)[] = new Array<TimerBucket | null>((MAX_LEVEL + 1) * SLOTS).fill(null);
  /** Where new timers are placed from: the `now` of the last `popDue`. */
  private _reference = 0;

  /** Schedules `handle` at its `_when`. */
  push(handle: TimerHandle): void {
    this.size++;
    this._place(handle, this._reference);
  }

  /** Takes a cancelled timer out (from `TimerHandle.cancel`); `bucket` is its `_bucket`. */
  remove(handle: TimerHandle, bucket: TimerBucket): void {
    handle._bucket = null;
    this.size--;
    // Compacting costs the bucket's length, and the next one needs as many cancels again:
    // O(1) per cancel, amortised.
    if (++bucket._dead * 2 > bucket._items.length - bucket._head) compact(bucket);
  }

  /** The earliest deadline, or Infinity when no timer is scheduled. */
  nextDeadline(): number {
    const front = this._front();
    return front === null ? Infinity : (front._items[front._head] as TimerHandle)._when;
  }

  /**
   * Moves every timer due at `now` (deadline ≤ now) to `into`, earliest first, equal
   * deadlines in scheduling order; returns how many.
   */
  popDue(now: number, into: { push(handle: TimerHandle): void }): number {
    this._reference = now;
    let total = 0;
    for (;;) {
      const front = this._front();
      if (front === null || front._start > now) break;
      const items = front._items;
      const length = items.length;
      let i = front._head;
      for (; i < length; i++) {
        const handle = items[i] as TimerHandle;
        if (handle._bucket !== front) {
          front._dead--;
          continue;
        }
        if (handle._when > now) break;
        handle._bucket = null;
        into.push(handle);
        total++;
      }
      front._head = i;
      // Not fully drained: the rest are later than now. Drained: `_front` drops it next.
      if (i < length) break;
    }
    this.size -= total;
    return total;
  }

  /** Forgets every timer; each handle is left unscheduled. */
  clear(): void {
    for (const bucket of this._queue) {
      const items = bucket._items;
      for (let i = bucket._head; i < items.length; i++) {
        const handle = items[i] as TimerHandle;
        if (handle._bucket === bucket) handle._bucket = null;
      }
    }
    this._queue.length = 0;
    for (const map of this._buckets) map.clear();
    this._slots.fill(null);
    this.size = 0;
  }

  /**
   * The front bucket, made ready to drain: a sorted bucket whose head is the earliest live
   * timer. Spreads coarse buckets over finer ones and drops exhausted buckets on the way.
   */
  private _front(): TimerBucket | null {
    const queue = this._queue;
    while (queue.length > 0) {
      const front = queue[0] as TimerBucket;
      // A bucket that starts at Infinity holds only timers at Infinity: nothing to spread.
      if (front._level === 0 || front._start === Infinity) {
        if (!front._sorted) {
          if (front._dead > 0) compact(front);
          sortByDeadline(front._items, front._start, WIDTH[front._level] as number);
          front._sorted = true;
        }
        const items = front._items;
        let head = front._head;
        while (head < items.length && (items[head] as TimerHandle)._bucket !== front) {
          head++;
          front._dead--;
        }
        front._head = head;
        if (head < items.length) return front;
        this._dropFront();
        continue;
      }
      this._dropFront();
      // Measured from the bucket's own start every timer in it is closer than its width,
      // so each lands at least one level finer: spreading ends.
      const items = front._items;
      for (let i = 0; i < items.length; i++) {
        const handle = items[i] as TimerHandle;
        if (handle._bucket === front) this._place(handle, front._start);
      }
    }
    return null;
  }

  /** Puts `handle` in the bucket its deadline calls for, measured from `reference`. */
  private _place(handle: TimerHandle, reference: number): void {
    const when = handle._when;
    const distance = when - reference;
    let level = 0;
    // NaN (Infinity - Infinity) fails every comparison and lands in the coarsest level.
    while (level < MAX_LEVEL && !(distance < (SPAN[level] as number))) level++;
    const index = Math.floor(when * (INVERSE[level] as number));
    const slot = level * SLOTS + (index & SLOT_MASK);
    let bucket = this._slots[slot] as TimerBucket | null;
    if (bucket === null || bucket._index !== index) {
      const buckets = this._buckets[level] as Map<number, TimerBucket>;
      bucket = buckets.get(index) ?? null;
      if (bucket === null) {
        bucket = new TimerBucket(this, level, index);
        buckets.set(index, bucket);
        this._enqueue(bucket);
      }
      this._slots[slot] = bucket;
    }
    handle._bucket = bucket;
    const items = bucket._items;
    if (!bucket._sorted) {
      items.push(handle);
      return;
    }
    // The front bucket, already sorted: insert in order after its equals.
    const sequence = handle._sequence;
    let lo = bucket._head;
    let hi = items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const other = items[mid] as TimerHandle;
      if (other._when < when || (other._when === when && other._sequence < sequence)) lo = mid + 1;
      else hi = mid;
    }
    items.splice(lo, 0, handle);
  }

  private _enqueue(bucket: TimerBucket): void {
    const queue = this._queue;
    let i = queue.length;
    queue.push(bucket);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = queue[parent] as TimerBucket;
      if (!precedes(bucket, p)) break;
      queue[i] = p;
      i = parent;
    }
    queue[i] = bucket;
  }

  /** Takes the front bucket out of the queue and the map. */
  private _dropFront(): void {
    const queue = this._queue;
    const front = queue[0] as TimerBucket;
    (this._buckets[front._level] as Map<number, TimerBucket>).delete(front._index);
    const slot = front._level * SLOTS + (front._index & SLOT_MASK);
    if (this._slots[slot] === front) this._slots[slot] = null;
    const last = queue.pop() as TimerBucket;
    const length = queue.length;
    if (length === 0) return;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= length) break;
      const right = child + 1;
      if (right < length && precedes(queue[right] as TimerBucket, queue[child] as TimerBucket)) child = right;
      const c = queue[child] as TimerBucket;
      if (!precedes(c, last)) break;
      queue[i] = c;
      i = child;
    }
    queue[i] = last;
  }
}

/** Bucket order: by start; at equal starts the coarser first, so it is spread before a finer one drains. */
function precedes(a: TimerBucket, b: TimerBucket): boolean {
  return a._start < b._start || (a._start === b._start && a._level > b._level);
}

/** Drops the cancelled entries of `bucket`, keeping the order of the rest. */
function compact(bucket: TimerBucket): void {
  const items = bucket._items;
  let n = 0;
  for (let i = bucket._head; i < items.length; i++) {
    const handle = items[i] as TimerHandle;
    if (handle._bucket === bucket) items[n++] = handle;
  }
  items.length = n;
  bucket._head = 0;
  bucket._dead = 0;
}

function before(a: TimerHandle, b: TimerHandle): boolean {
  return a._when < b._when || (a._when === b._when && a._sequence < b._sequence);
}

// Scratch space of `sortByDeadline`, grown to the largest bucket sorted so far. Numbers
// only, so it keeps no timer alive.
let keys = new Float64Array(1024);
let order = new Int32Array(1024);
let keysOut = new Float64Array(1024);
let orderOut = new Int32Array(1024);
let bins = new Int32Array(1024);
let binEnds = new Int32Array(1025);

/**
 * Sorts the timers of a bucket that starts at `start` and is `width` wide by (deadline,
 * sequence), in O(n) when their deadlines are spread out: a counting pass distributes
 * them over about n sub-ranges of the bucket, and each sub-range, a couple of timers on
 * average, is sorted by comparisons. The deadlines are copied into a typed array with
 * the timers' indices riding along, so a comparison reads two adjacent numbers rather
 * than fields of two timers scattered in the heap; a sequence is read only to break a tie.
 */
function sortByDeadline(items: TimerHandle[], start: number, width: number): void {
  const n = items.length;
  if (n <= SHORT_RUN) {
    for (let i = 1; i < n; i++) {
      const h = items[i] as TimerHandle;
      let j = i - 1;
      while (j >= 0 && before(h, items[j] as TimerHandle)) {
        items[j + 1] = items[j] as TimerHandle;
        j--;
      }
      items[j + 1] = h;
    }
    return;
  }
  if (keys.length < n) {
    const size = 2 ** Math.ceil(Math.log2(n));
    keys = new Float64Array(size);
    order = new Int32Array(size);
    keysOut = new Float64Array(size);
    orderOut = new Int32Array(size);
    bins = new Int32Array(size);
    binEnds = new Int32Array(size + 1);
  }
  // A power of two, so the scaling below is exact; the sub-range of a deadline is then a
  // monotonic function of it, and sub-ranges in order hold deadlines in order.
  const count = 2 ** Math.floor(Math.log2(n));
  const scale = count / width;
  const k = keys;
  const b = bins;
  const ends = binEnds;
  ends.fill(0, 0, count + 1);
  for (let i = 0; i < n; i++) {
    const when = (items[i] as TimerHandle)._when;
    k[i] = when;
    // `| 0` sends NaN (a bucket at ±Infinity) to the first sub-range; the upper clamp
    // catches a subtraction rounded up to the width (negative deadlines).
    let bin = ((when - start) * scale) | 0;
    if (bin >= count) bin = count - 1;
    b[i] = bin;
    ends[bin + 1]++;
  }
  for (let i = 0; i < count; i++) (ends[i + 1] as number) += ends[i] as number;
  const kOut = keysOut;
  const oOut = orderOut;
  for (let i = 0; i < n; i++) {
    const at = (ends[b[i] as number] as number)++;
    kOut[at] = k[i] as number;
    oOut[at] = i;
  }
  // `ends[bin]` is now where sub-range `bin` ends.
  let begin = 0;
  for (let bin = 0; bin < count; bin++) {
    const end = ends[bin] as number;
    if (end - begin > 1) sortRange(items, kOut, oOut, begin, end);
    begin = end;
  }
  const unsorted = items.slice();
  for (let i = 0; i < n; i++) items[i] = unsorted[oOut[i] as number] as TimerHandle;
}

/** Sorts `k[lo..hi)` with `o` riding along: insertion sort of short runs, then merges through the scratch arrays. */
function sortRange(items: TimerHandle[], k: Float64Array, o: Int32Array, lo: number, hi: number): void {
  for (let run = lo; run < hi; run += SHORT_RUN) {
    const end = run + SHORT_RUN < hi ? run + SHORT_RUN : hi;
    for (let i = run + 1; i < end; i++) {
      const key = k[i] as number;
      const index = o[i] as number;
      let j = i - 1;
      while (j >= run && precedesIndexed(items, key, index, k[j] as number, o[j] as number)) {
        k[j + 1] = k[j] as number;
        o[j + 1] = o[j] as number;
        j--;
      }
      k[j + 1] = key;
      o[j + 1] = index;
    }
  }
  if (hi - lo <= SHORT_RUN) return;
  // Merge passes alternate between (k, o) and the scratch (keys, order); a range sorted
  // here never overlaps the scratch in use, because the caller's arrays are the other pair.
  let fromK: Float64Array = k;
  let fromO: Int32Array = o;
  let toK: Float64Array = keys;
  let toO: Int32Array = order;
  for (let width = SHORT_RUN; width < hi - lo; width *= 2) {
    for (let left = lo; left < hi; left += 2 * width) {
      const mid = left + width < hi ? left + width : hi;
      const right = left + 2 * width < hi ? left + 2 * width : hi;
      let i = left;
      let j = mid;
      let out = left;
      while (i < mid && j < right) {
        const ki = fromK[i] as number;
        const kj = fromK[j] as number;
        if (precedesIndexed(items, kj, fromO[j] as number, ki, fromO[i] as number)) {
          toK[out] = kj;
          toO[out++] = fromO[j++] as number;
        } else {
          toK[out] = ki;
          toO[out++] = fromO[i++] as number;
        }
      }
      while (i < mid) {
        toK[out] = fromK[i] as number;
        toO[out++] = fromO[i++] as number;
      }
      while (j < right) {
        toK[out] = fromK[j] as number;
        toO[out++] = fromO[j++] as number;
      }
    }
    const swapK = fromK;
    fromK = toK;
    toK = swapK;
    const swapO = fromO;
    fromO = toO;
    toO = swapO;
  }
  if (fromK !== k) {
    k.set(fromK.subarray(lo, hi), lo);
    o.set(fromO.subarray(lo, hi), lo);
  }
}

/** Whether the timer at `items[ia]` (deadline `ka`) comes before the one at `items[ib]`. */
function precedesIndexed(items: TimerHandle[], ka: number, ia: number, kb: number, ib: number): boolean {
  return ka < kb || (ka === kb && (items[ia] as TimerHandle)._sequence < (items[ib] as TimerHandle)._sequence);
}

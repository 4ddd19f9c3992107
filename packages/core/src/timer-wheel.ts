import type { TimerHandle } from "./handle.js";

/** Slots of the wheel: a bucket is found by its index modulo this (see `TimerWheel._slots`). */
const SLOTS = 1024;
const SLOT_MASK = SLOTS - 1;
/** Buckets up to this size are sorted by insertion, larger ones by merging such runs. */
const SHORT_RUN = 16;

/**
 * The timers whose deadlines fall in one millisecond: `[index, index + 1)`.
 *
 * Invariant: `items[head..]` holds the bucket's live timers (those whose `_bucket` is this
 * bucket) and `dead` timers cancelled since they were put there, which are skipped; a
 * cancel that leaves more dead than live entries compacts the bucket, so it never holds
 * more than twice its live timers and a cancelled timer is not kept alive for long.
 * Unsorted, the entries are in scheduling order (`head` is 0); sorted (only the bucket at
 * the front of the wheel is sorted), in deadline order, equal deadlines in scheduling
 * order. Every step keeps that relative order: appending, compacting, the stable sort,
 * and inserting into the sorted bucket after its equals (a new timer is the latest
 * scheduled). So no timer needs a sequence number to break ties.
 */
export class TimerBucket {
  /** @internal */ readonly _wheel: TimerWheel;
  /** @internal The millisecond: `Math.floor` of every deadline in the bucket. */ readonly _index: number;
  /** @internal True while `_slots` holds the bucket; false while `_overflow` does. */ readonly _inSlot: boolean;
  /** @internal */ _items: TimerHandle[] = [];
  /** @internal */ _head = 0;
  /** @internal */ _dead = 0;
  /** @internal */ _sorted = false;

  /** @internal */
  constructor(wheel: TimerWheel, index: number, inSlot: boolean) {
    this._wheel = wheel;
    this._index = index;
    this._inSlot = inSlot;
  }
}

/**
 * The loop's timers: a hashed timing wheel of 1 ms buckets whose non-empty buckets are
 * kept in a small priority queue by start, as Kafka's purgatory keeps its wheel's buckets
 * in a `DelayQueue`: empty slots cost nothing, and a clock that jumps an hour (virtual
 * time) is one step.
 *
 * Scheduling finds the bucket of the timer's millisecond (an array read) and appends to
 * it; cancelling is O(1) and never touches another timer. When a bucket reaches the front
 * it is sorted once by deadline, stably, by a counting pass over its sub-ranges, and
 * drained from its head. Deadlines are kept exact: buckets only group timers, they never
 * round a deadline, so equal deadlines leave in scheduling order and `when()` is what was
 * asked for.
 *
 * Why not a heap of timers: popping a heap of a hundred thousand timers walks eight levels
 * of a structure larger than the CPU caches, a cache miss per level; here a burst of
 * timers costs an append each and one near-linear sort per millisecond, and the due
 * timers are read in order from one small array. The queue orders buckets, not timers:
 * it holds as many entries as there are distinct milliseconds among the deadlines.
 */
export class TimerWheel {
  /** How many timers are scheduled and not cancelled. */
  size = 0;
  /** The buckets, a binary min-heap by index. */
  private readonly _queue: TimerBucket[] = [];
  /**
   * The wheel proper: `_slots[index & SLOT_MASK]` is the bucket of that index, or null.
   * The buckets alive at once usually span fewer milliseconds than there are slots, so a
   * bucket is found by one array read; one created while another holds its slot (a
   * deadline far ahead) goes to `_overflow`, a map by index.
   */
  private readonly _slots: (TimerBucket | null)[] = new Array<TimerBucket | null>(SLOTS).fill(null);
  private readonly _overflow = new Map<number, TimerBucket>();

  /** Schedules `handle` at its `_when`. */
  push(handle: TimerHandle): void {
    this.size++;
    const when = handle._when;
    const index = Math.floor(when);
    const slot = index & SLOT_MASK;
    let bucket = this._slots[slot] as TimerBucket | null;
    if (bucket === null || bucket._index !== index) bucket = this._bucket(index, slot, bucket === null);
    handle._bucket = bucket;
    const items = bucket._items;
    if (!bucket._sorted) {
      items.push(handle);
      return;
    }
    // The front bucket, already sorted: insert in order after its equals, which were all
    // scheduled earlier.
    let lo = bucket._head;
    let hi = items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((items[mid] as TimerHandle)._when <= when) lo = mid + 1;
      else hi = mid;
    }
    items.splice(lo, 0, handle);
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
    let total = 0;
    for (;;) {
      const front = this._front();
      if (front === null || front._index > now) break;
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
    this._slots.fill(null);
    this._overflow.clear();
    this.size = 0;
  }

  /** The bucket of `index`, created if need be; `slot` is its slot, `free` whether that is empty. */
  private _bucket(index: number, slot: number, free: boolean): TimerBucket {
    const overflow = this._overflow;
    // A bucket created while its slot was taken stays in the map after the slot frees up.
    if (overflow.size > 0) {
      const bucket = overflow.get(index);
      if (bucket !== undefined) return bucket;
    }
    const bucket = new TimerBucket(this, index, free);
    if (free) this._slots[slot] = bucket;
    else overflow.set(index, bucket);
    this._enqueue(bucket);
    return bucket;
  }

  /**
   * The front bucket, made ready to drain: a sorted bucket whose head is the earliest live
   * timer. Drops exhausted buckets on the way.
   */
  private _front(): TimerBucket | null {
    const queue = this._queue;
    while (queue.length > 0) {
      const front = queue[0] as TimerBucket;
      if (!front._sorted) {
        sortBucket(front);
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
    }
    return null;
  }

  private _enqueue(bucket: TimerBucket): void {
    const queue = this._queue;
    const index = bucket._index;
    let i = queue.length;
    queue.push(bucket);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = queue[parent] as TimerBucket;
      if (p._index <= index) break;
      queue[i] = p;
      i = parent;
    }
    queue[i] = bucket;
  }

  /** Takes the front bucket out of the queue and the wheel. */
  private _dropFront(): void {
    const queue = this._queue;
    const front = queue[0] as TimerBucket;
    if (front._inSlot) this._slots[front._index & SLOT_MASK] = null;
    else this._overflow.delete(front._index);
    const last = queue.pop() as TimerBucket;
    const length = queue.length;
    if (length === 0) return;
    const index = last._index;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= length) break;
      const right = child + 1;
      if (right < length && (queue[right] as TimerBucket)._index < (queue[child] as TimerBucket)._index) child = right;
      const c = queue[child] as TimerBucket;
      if (index <= c._index) break;
      queue[i] = c;
      i = child;
    }
    queue[i] = last;
  }
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

// Scratch space of `sortBucket`, grown to the largest bucket sorted so far. Numbers
// only, so it keeps no timer alive.
let keys = new Float64Array(1024);
let order = new Int32Array(1024);
let keysOut = new Float64Array(1024);
let orderOut = new Int32Array(1024);
let bins = new Int32Array(1024);
let binEnds = new Int32Array(1025);

/**
 * Sorts the live timers of `bucket` by deadline, stably (equal deadlines keep their
 * scheduling order), and drops its cancelled entries, in O(n) when the deadlines are
 * spread out: a counting pass distributes them over about n sub-ranges of the bucket,
 * and each sub-range, a couple of timers on average, is sorted by comparisons. The
 * deadlines are copied into a typed array with the timers' indices riding along, so that
 * a comparison reads two adjacent numbers rather than fields of two timers scattered in
 * the heap. Each timer is read once, on the pass that also drops the cancelled ones.
 */
function sortBucket(bucket: TimerBucket): void {
  const items = bucket._items;
  const length = items.length;
  if (keys.length < length) {
    const size = 2 ** Math.ceil(Math.log2(length));
    keys = new Float64Array(size);
    order = new Int32Array(size);
    keysOut = new Float64Array(size);
    orderOut = new Int32Array(size);
    bins = new Int32Array(size);
    binEnds = new Int32Array(size + 1);
  }
  const k = keys;
  let n = 0;
  for (let i = bucket._head; i < length; i++) {
    const handle = items[i] as TimerHandle;
    if (handle._bucket !== bucket) continue;
    items[n] = handle;
    k[n++] = handle._when;
  }
  items.length = n;
  bucket._head = 0;
  bucket._dead = 0;
  if (n <= SHORT_RUN) {
    for (let i = 1; i < n; i++) {
      const h = items[i] as TimerHandle;
      let j = i - 1;
      const when = h._when;
      while (j >= 0 && when < (items[j] as TimerHandle)._when) {
        items[j + 1] = items[j] as TimerHandle;
        j--;
      }
      items[j + 1] = h;
    }
    return;
  }
  // A power of two, so the scaling below is exact (the bucket is 1 ms wide); the sub-range
  // of a deadline is then a monotonic function of it, and sub-ranges in order hold
  // deadlines in order.
  const count = 2 ** Math.floor(Math.log2(n));
  const start = bucket._index;
  const b = bins;
  const ends = binEnds;
  ends.fill(0, 0, count + 1);
  for (let i = 0; i < n; i++) {
    // `| 0` sends NaN (a bucket at ±Infinity) to the first sub-range; the upper clamp
    // catches a subtraction rounded up to the width (negative deadlines).
    let bin = (((k[i] as number) - start) * count) | 0;
    if (bin >= count) bin = count - 1;
    b[i] = bin;
    (ends[bin + 1] as number)++;
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
    if (end - begin > SHORT_RUN) sortRange(kOut, oOut, begin, end);
    else if (end - begin > 1) insertionSort(kOut, oOut, begin, end);
    begin = end;
  }
  // Position i takes the timer at `oOut[i]`: apply the permutation cycle by cycle, in place.
  for (let i = 0; i < n; i++) {
    if ((oOut[i] as number) < 0) continue;
    const first = items[i] as TimerHandle;
    let j = i;
    for (;;) {
      const from = oOut[j] as number;
      oOut[j] = -1;
      if (from === i) break;
      items[j] = items[from] as TimerHandle;
      j = from;
    }
    items[j] = first;
  }
}

/** Sorts the short range `k[lo..hi)` stably, with `o` riding along. */
function insertionSort(k: Float64Array, o: Int32Array, lo: number, hi: number): void {
  for (let i = lo + 1; i < hi; i++) {
    const key = k[i] as number;
    const index = o[i] as number;
    let j = i - 1;
    while (j >= lo && key < (k[j] as number)) {
      k[j + 1] = k[j] as number;
      o[j + 1] = o[j] as number;
      j--;
    }
    k[j + 1] = key;
    o[j + 1] = index;
  }
}

/** Sorts `k[lo..hi)` stably with `o` riding along: insertion sort of short runs, then merges through the scratch arrays. */
function sortRange(k: Float64Array, o: Int32Array, lo: number, hi: number): void {
  for (let run = lo; run < hi; run += SHORT_RUN) insertionSort(k, o, run, run + SHORT_RUN < hi ? run + SHORT_RUN : hi);
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
        // Strictly earlier: on a tie the left run, scheduled first, goes first.
        if (kj < ki) {
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

import type { TimerHandle } from "./handle.js";

/** Slots of the wheel: a bucket is found by its index modulo this (see `TimerWheel._slots`). */
const SLOTS = 1024;
const SLOT_MASK = SLOTS - 1;
/** Buckets up to this size are sorted by insertion, larger ones by merging such runs. */
const SHORT_RUN = 16;
/** A bucket's first block holds this many timers, each further block twice as many as the one before, up to `BLOCK_MAX`. */
const BLOCK_MIN = 8;
const BLOCK_MAX = 256;

const NO_BLOCKS: TimerBlock[] = [];
const NO_TIMERS: TimerHandle[] = [];

/**
 * A stretch of one bucket's timers in scheduling order, with their deadlines beside them.
 * A position in a block never changes, so a timer finds its deadline at `_whens[_pos]` of
 * its `_run` for its whole life, fired or cancelled too (`TimerHandle.when()`).
 *
 * Why deadlines live here and not in the handle: a number field that is not a small
 * integer is a separate 16-byte box in V8, and at 100,000 pending timers the boxes were a
 * fifth of the bytes every young-generation collection copied. `_whens` is an array of
 * doubles, stored unboxed. Runs are allocated at their final size (a bucket grows by
 * adding blocks, not by copying an array), so scheduling allocates the handle and little
 * else.
 */
export class TimerBlock {
  /** @internal The bucket; null once the bucket left the wheel. */ _bucket: TimerBucket | null;
  /**
   * @internal The timers at their positions, null where one was cancelled; null for the
   * whole block once its bucket is sorted (the bucket's `_order` holds them from then on).
   */
  _items: (TimerHandle | null)[] | null;
  /** @internal The deadline of each position: doubles, unboxed. Never cleared: `when()` reads it. */ readonly _whens: number[];
  /** @internal Positions used. */ _length = 0;

  /** @internal */
  constructor(bucket: TimerBucket | null, capacity: number, sorted: boolean) {
    this._bucket = bucket;
    this._items = sorted ? null : new Array<TimerHandle | null>(capacity);
    this._whens = doubles(capacity);
  }
}

/**
 * The timers whose deadlines fall in one millisecond: `[index, index + 1)`.
 *
 * Invariants. Unsorted (`_order` null), `_blocks` holds the bucket's timers in scheduling
 * order: its `_live` live timers and `_dead` entries cancelled since they were put there
 * (null); a cancel that leaves more dead than live entries compacts the blocks, so they
 * never hold more than twice the live timers plus one. Sorted (only a bucket that reached
 * the front of the wheel is), `_order[_head..]` holds its live timers by deadline, equal
 * deadlines in scheduling order, and `_dead` cancelled ones, which are skipped; a cancel
 * that leaves them the majority compacts `_order`. Every step keeps the scheduling order
 * of equal deadlines: appending, compacting, the stable sort, and inserting into the
 * sorted bucket after its equals (a new timer is the latest scheduled). So no timer needs
 * a sequence number to break ties.
 */
export class TimerBucket {
  /** @internal */ readonly _wheel: TimerWheel;
  /** @internal The millisecond: `Math.floor` of every deadline in the bucket. */ readonly _index: number;
  /** @internal True while `_slots` holds the bucket; false while `_overflow` does. */ readonly _inSlot: boolean;
  /** @internal In scheduling order. */ _blocks: TimerBlock[];
  /** @internal The last of `_blocks`, where timers are appended. */ _last: TimerBlock;
  /** @internal */ _live = 0;
  /** @internal */ _dead = 0;
  /** @internal Once sorted: the timers by deadline. */ _order: TimerHandle[] | null = null;
  /** @internal */ _head = 0;

  /** @internal */
  constructor(wheel: TimerWheel, index: number, inSlot: boolean) {
    this._wheel = wheel;
    this._index = index;
    this._inSlot = inSlot;
    this._last = new TimerBlock(this, BLOCK_MIN, false);
    this._blocks = [this._last];
  }
}

/** The `_last` of a bucket whose blocks were let go: full, so the next timer adds a block. */
const EMPTY_BLOCK = new TimerBlock(null, 0, true);

/**
 * The loop's timers: a hashed timing wheel of 1 ms buckets whose non-empty buckets are
 * kept in a small priority queue by start, as Kafka's purgatory keeps its wheel's buckets
 * in a `DelayQueue`: empty slots cost nothing, and a clock that jumps an hour (virtual
 * time) is one step.
 *
 * Scheduling finds the bucket of the timer's millisecond (an array read) and appends the
 * timer and its deadline to the bucket's last block; cancelling is O(1) and never touches
 * another timer. When a bucket reaches the front it is sorted once by deadline, stably,
 * by a counting pass over its sub-ranges that reads the deadlines from the blocks, and
 * drained from its head. Deadlines are kept exact: buckets only group timers, they never
 * round a deadline, so equal deadlines leave in scheduling order and `when()` is what was
 * asked for.
 *
 * Why not a heap of timers: popping a heap of a hundred thousand timers walks eight levels
 * of a structure larger than the CPU caches, a cache miss per level; here a burst of
 * timers costs an append each and one near-linear sort per millisecond, and the due
 * timers are read in order from one small array. The queue orders buckets, not timers:
 * it holds as many entries as there are distinct milliseconds among the deadlines.
 *
 * A timer's state is its `_pos`: a position in its `_run` while scheduled, the complement
 * of that position (negative) once it fired, was cancelled or was dropped.
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

  /**
   * Schedules `handle` (not scheduled yet) at `when`. Kept small enough for V8 to inline
   * into `callLater`: a number that is not a small integer passed to a call that is not
   * inlined is boxed, 16 bytes per timer.
   */
  push(handle: TimerHandle, when: number): void {
    this.size++;
    const index = Math.floor(when);
    let bucket = this._slots[index & SLOT_MASK] as TimerBucket | null;
    if (bucket === null || bucket._index !== index) bucket = this._bucket(index);
    bucket._live++;
    let block = bucket._last;
    if (block._length === block._whens.length) block = addBlock(bucket);
    const pos = block._length++;
    block._whens[pos] = when;
    handle._block = block;
    handle._pos = pos;
    const items = block._items;
    if (items !== null) items[pos] = handle;
    else insertSorted(bucket, handle, when);
  }

  /** Takes a scheduled timer out (from `TimerHandle.cancel`). */
  remove(handle: TimerHandle): void {
    const block = handle._block as TimerBlock;
    const pos = handle._pos;
    handle._pos = ~pos;
    this.size--;
    const bucket = block._bucket as TimerBucket;
    bucket._live--;
    // Compacting costs the bucket's length, and the next one needs as many cancels again:
    // O(1) per cancel, amortised.
    const items = block._items;
    if (items !== null) {
      // A cancelled entry keeps no timer alive, only its deadline (8 bytes) and slot:
      // compacting (which copies, the positions being fixed) waits until the dead
      // outnumber the live twice over, or the last live timer goes.
      items[pos] = null;
      ++bucket._dead;
      if (bucket._live === 0) emptyBlocks(bucket);
      else if (bucket._dead > 2 * bucket._live) compactBlocks(bucket);
    } else if (++bucket._dead * 2 > (bucket._order as TimerHandle[]).length - bucket._head) {
      compactOrder(bucket);
    }
  }

  /** The earliest deadline, or Infinity when no timer is scheduled. */
  nextDeadline(): number {
    const front = this._front();
    return front === null ? Infinity : deadline((front._order as TimerHandle[])[front._head] as TimerHandle);
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
      const order = front._order as TimerHandle[];
      const length = order.length;
      let i = front._head;
      for (; i < length; i++) {
        const handle = order[i] as TimerHandle;
        const pos = handle._pos;
        if (pos < 0) {
          front._dead--;
          continue;
        }
        if (((handle._block as TimerBlock)._whens[pos] as number) > now) break;
        handle._pos = ~pos;
        into.push(handle);
        total++;
      }
      front._live -= total;
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
      const order = bucket._order;
      if (order !== null) {
        for (let i = bucket._head; i < order.length; i++) unschedule(order[i] as TimerHandle);
      } else {
        for (const block of bucket._blocks) {
          const items = block._items as (TimerHandle | null)[];
          for (let i = 0; i < block._length; i++) {
            const handle = items[i] as TimerHandle | null;
            if (handle !== null) unschedule(handle);
          }
        }
      }
      release(bucket);
    }
    this._queue.length = 0;
    this._slots.fill(null);
    this._overflow.clear();
    this.size = 0;
  }

  /** The bucket of `index`, created if need be. */
  private _bucket(index: number): TimerBucket {
    const slot = index & SLOT_MASK;
    const free = this._slots[slot] === null;
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
      const order = front._order ?? sortBucket(front);
      let head = front._head;
      while (head < order.length && (order[head] as TimerHandle)._pos < 0) {
        head++;
        front._dead--;
      }
      front._head = head;
      if (head < order.length) return front;
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
    release(front);
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

/** Adds a block to `bucket` when its last one is full: twice as large, up to `BLOCK_MAX`. */
function addBlock(bucket: TimerBucket): TimerBlock {
  const block = new TimerBlock(bucket, Math.min(Math.max(BLOCK_MIN, bucket._last._whens.length * 2), BLOCK_MAX), bucket._order !== null);
  bucket._blocks.push(block);
  bucket._last = block;
  return block;
}

/**
 * Puts `handle` into the sorted `_order` of the front bucket, after its equals: they were
 * all scheduled earlier.
 */
function insertSorted(bucket: TimerBucket, handle: TimerHandle, when: number): void {
  const order = bucket._order as TimerHandle[];
  let lo = bucket._head;
  let hi = order.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (deadline(order[mid] as TimerHandle) <= when) lo = mid + 1;
    else hi = mid;
  }
  order.splice(lo, 0, handle);
}

/** The deadline of a timer that was scheduled. */
function deadline(handle: TimerHandle): number {
  const pos = handle._pos;
  return (handle._block as TimerBlock)._whens[pos < 0 ? ~pos : pos] as number;
}

function unschedule(handle: TimerHandle): void {
  if (handle._pos >= 0) handle._pos = ~handle._pos;
}

/**
 * Lets go of a bucket that left the wheel: fired and cancelled handles keep their blocks
 * (for `when()`), and through them the bucket, which must not keep other timers alive.
 */
function release(bucket: TimerBucket): void {
  for (const block of bucket._blocks) {
    block._bucket = null;
    block._items = null;
  }
  bucket._blocks = NO_BLOCKS;
  bucket._order = NO_TIMERS;
}

/**
 * Moves the live timers of an unsorted bucket into one new block, in order. The old blocks
 * stay with the cancelled handles that point into them (for `when()`), emptied of timers.
 */
function compactBlocks(bucket: TimerBucket): void {
  const blocks = bucket._blocks;
  const block = new TimerBlock(bucket, Math.max(BLOCK_MIN, 2 ** Math.ceil(Math.log2(bucket._live + 1))), false);
  const items = block._items as (TimerHandle | null)[];
  const whens = block._whens;
  let n = 0;
  for (const old of blocks) {
    const oldItems = old._items as (TimerHandle | null)[];
    const oldWhens = old._whens;
    for (let i = 0; i < old._length; i++) {
      const handle = oldItems[i] as TimerHandle | null;
      if (handle === null) continue;
      items[n] = handle;
      whens[n] = oldWhens[i] as number;
      handle._block = block;
      handle._pos = n++;
    }
    old._bucket = null;
    old._items = null;
  }
  block._length = n;
  bucket._blocks = [block];
  bucket._last = block;
  bucket._dead = 0;
}

/** Lets go of the blocks of an unsorted bucket left with no live timer. */
function emptyBlocks(bucket: TimerBucket): void {
  for (const old of bucket._blocks) {
    old._bucket = null;
    old._items = null;
  }
  bucket._blocks = [];
  bucket._last = EMPTY_BLOCK;
  bucket._dead = 0;
}

/** Drops the cancelled entries of a sorted bucket's `_order`, keeping the order of the rest. */
function compactOrder(bucket: TimerBucket): void {
  const order = bucket._order as TimerHandle[];
  let n = 0;
  for (let i = bucket._head; i < order.length; i++) {
    const handle = order[i] as TimerHandle;
    if (handle._pos >= 0) order[n++] = handle;
  }
  order.length = n;
  bucket._head = 0;
  bucket._dead = 0;
}

// Arrays of doubles of each power-of-two length up to `BLOCK_MAX`, copied to make a block's
// `_whens`: a copy is born with unboxed double elements, where `new Array(n)` would be
// made for tagged values first and converted on the first write of a fraction.
const doubleTemplates: number[][] = [];

function doubles(capacity: number): number[] {
  if (capacity === 0) return [];
  if (capacity > BLOCK_MAX) return new Array<number>(capacity).fill(0.5);
  const log = 31 - Math.clz32(capacity);
  let template = doubleTemplates[log];
  if (template === undefined) {
    template = new Array<number>(capacity).fill(0.5);
    doubleTemplates[log] = template;
  }
  return template.slice();
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
 * Sorts the live timers of an unsorted `bucket` by deadline into its `_order`, stably
 * (equal deadlines keep their scheduling order), leaving its cancelled entries behind, in
 * O(n) when the deadlines are spread out: a counting pass distributes them over about n
 * sub-ranges of the bucket, and each sub-range, a couple of timers on average, is sorted
 * by comparisons. The deadlines are read from the blocks into a typed array with the
 * timers' indices riding along, so that a comparison reads two adjacent numbers and no
 * timer is touched until the permutation is applied.
 */
function sortBucket(bucket: TimerBucket): TimerHandle[] {
  const length = bucket._live;
  if (keys.length < length) {
    const size = 2 ** Math.ceil(Math.log2(length));
    keys = new Float64Array(size);
    order = new Int32Array(size);
    keysOut = new Float64Array(size);
    orderOut = new Int32Array(size);
    bins = new Int32Array(size);
    binEnds = new Int32Array(size + 1);
  }
  const items = new Array<TimerHandle>(length);
  const k = keys;
  let n = 0;
  for (const block of bucket._blocks) {
    const blockItems = block._items as (TimerHandle | null)[];
    const whens = block._whens;
    for (let i = 0; i < block._length; i++) {
      const handle = blockItems[i] as TimerHandle | null;
      if (handle === null) continue;
      items[n] = handle;
      k[n++] = whens[i] as number;
    }
    // From now on `_order` holds the timers; the block keeps the deadlines.
    block._items = null;
  }
  bucket._order = items;
  bucket._head = 0;
  bucket._dead = 0;
  if (n <= SHORT_RUN) {
    for (let i = 1; i < n; i++) {
      const h = items[i] as TimerHandle;
      const when = k[i] as number;
      let j = i - 1;
      while (j >= 0 && when < (k[j] as number)) {
        items[j + 1] = items[j] as TimerHandle;
        k[j + 1] = k[j] as number;
        j--;
      }
      items[j + 1] = h;
      k[j + 1] = when;
    }
    return items;
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
  return items;
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

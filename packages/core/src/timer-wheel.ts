import type { Callback, Runnable } from "./types.js";

/** Slots of the wheel: a bucket is found by its index modulo this (see `TimerWheel._slots`). */
const SLOTS = 1024;
const SLOT_MASK = SLOTS - 1;
/** Buckets up to this size are sorted by insertion, larger ones by merging such runs. */
const SHORT_RUN = 16;
/** A bucket's first block holds this many timers, each further block twice as many as the one before, up to `BLOCK_MAX`. */
const BLOCK_MIN = 8;
const BLOCK_MAX = 256;

/** What a scheduled timer runs: its bare callback, or its `TimerCallHandle` (arguments, a context, debug mode). */
export type TimerItem = Callback | Runnable;

/** A position whose timer compaction moved on: see `TimerBlock._next`. */
const MOVED: unique symbol = Symbol("moved");
/** A position whose timer was pending when the wheel was cleared (the loop closed). */
const DROPPED: unique symbol = Symbol("dropped");

/**
 * What a position of a block holds: the timer's item while it is scheduled; null once it
 * is cancelled; once it fired, the absolute position in the ready queue it was moved to
 * (so that cancelling it before it runs still takes it out); `MOVED` or `DROPPED`.
 */
export type TimerSlotValue = TimerItem | number | null | typeof MOVED | typeof DROPPED;

/** The ready queue, as far as the wheel needs it (`RingQueue`). */
export interface TimerReadyQueue {
  push(item: TimerItem): void;
  readonly headPosition: number;
  readonly tailPosition: number;
  readonly length: number;
  set(offset: number, item: null): void;
}

/** What a `TimerHandle` holds: where its timer is. */
export interface TimerPlace {
  /** @internal */ _block: TimerBlock | null;
  /** @internal */ _pos: number;
}

/**
 * A stretch of one bucket's timers in scheduling order, with their deadlines beside them.
 * A position never changes meaning, so a `TimerHandle` is only its block and position: its
 * deadline is `_whens[_pos]` for its whole life, and `_items[_pos]` tells whether it is
 * scheduled, fired or cancelled.
 *
 * The wheel keeps no handle: a block holds what a timer runs (the bare callback, for most
 * timers) and its deadline, as a double in an array of doubles, unboxed. So a handle the
 * caller drops dies young, however long its timer waits, and firing a timer touches no
 * handle. Blocks are allocated at their final size (a bucket grows by adding blocks, not
 * by copying an array).
 */
export class TimerBlock {
  /** @internal */ readonly _wheel: TimerWheel | null;
  /** @internal The bucket; null once the block left it. */ _bucket: TimerBucket | null;
  /** @internal */ readonly _items: TimerSlotValue[];
  /** @internal The deadline of each position: doubles, unboxed. Never cleared: `when()` reads it. */ readonly _whens: number[];
  /** @internal Positions used. */ _length = 0;
  /** @internal Where compaction moved this block's scheduled timers (their positions say `MOVED`), or null. */ _next: TimerBlock | null = null;
  /** @internal The position in `_next` of each `MOVED` position. */ _moved: number[] | null = null;

  /** @internal */
  constructor(wheel: TimerWheel | null, bucket: TimerBucket | null, capacity: number) {
    this._wheel = wheel;
    this._bucket = bucket;
    // Stryker disable next-line ArrayDeclaration: positions are written in order from 0, so an array grown on write holds the same items; the capacity check reads `_whens`
    this._items = new Array<TimerSlotValue>(capacity);
    this._whens = doubles(capacity);
  }
}

/**
 * The timers whose deadlines fall in one millisecond: `[index, index + 1)`.
 *
 * Invariants. `_live` timers are scheduled in the bucket's `_blocks`, in scheduling order;
 * unsorted, `_dead` of the positions used hold cancelled timers (null). A cancel that
 * leaves more than twice as many dead as live positions compacts the blocks into one (the
 * old positions say `MOVED`), and one that leaves none live lets them go, so they never
 * hold more than three times the live timers. Sorted (only a bucket that reached the front
 * of the wheel is), `_sortedBlocks`/`_sortedPos`/`_sortedWhens` from `_head` on name its
 * live timers by deadline, equal deadlines in scheduling order, and `_dead` cancelled
 * ones, which are skipped; a cancel that leaves them the majority compacts those arrays.
 * Every step keeps the scheduling order of equal deadlines: appending, compacting, the
 * stable sort, and inserting into the sorted bucket after its equals (a new timer is the
 * latest scheduled). So no timer needs a sequence number to break ties.
 */
export class TimerBucket {
  /** @internal */ readonly _wheel: TimerWheel;
  /** @internal The millisecond: `Math.floor` of every deadline in the bucket. */ readonly _index: number;
  /** @internal True while `_slots` holds the bucket; false while `_overflow` does. */ readonly _inSlot: boolean;
  /** @internal In scheduling order. */ _blocks: TimerBlock[];
  /** @internal The last of `_blocks`, where timers are appended. */ _last: TimerBlock;
  /** @internal */ _live = 0;
  /** @internal */ _dead = 0;
  /** @internal Once sorted: the timers by deadline, as (block, position, deadline). */ _sortedBlocks: TimerBlock[] | null = null;
  /** @internal */ _sortedPos: number[] = NO_NUMBERS;
  /** @internal */ _sortedWhens: number[] = NO_NUMBERS;
  /** @internal */ _head = 0;

  /** @internal */
  constructor(wheel: TimerWheel, index: number, inSlot: boolean) {
    this._wheel = wheel;
    this._index = index;
    this._inSlot = inSlot;
    this._last = new TimerBlock(wheel, this, BLOCK_MIN);
    this._blocks = [this._last];
  }
}

const NO_NUMBERS: number[] = [];
const NO_BLOCKS: TimerBlock[] = [];
/** The `_last` of a bucket whose blocks were let go: full, so the next timer adds a block. */
const EMPTY_BLOCK = new TimerBlock(null, null, 0);

/**
 * The loop's timers: a hashed timing wheel of 1 ms buckets whose non-empty buckets are
 * kept in a small priority queue by start, as Kafka's purgatory keeps its wheel's buckets
 * in a `DelayQueue`: empty slots cost nothing, and a clock that jumps an hour (virtual
 * time) is one step.
 *
 * Scheduling finds the bucket of the timer's millisecond (an array read) and appends what
 * the timer runs and its deadline to the bucket's last block; cancelling is O(1) and never
 * touches another timer. When a bucket reaches the front it is sorted once by deadline,
 * stably, by a counting pass over its sub-ranges that reads the deadlines from the blocks,
 * and drained from its head into the ready queue. Deadlines are kept exact: buckets only
 * group timers, they never round a deadline, so equal deadlines leave in scheduling order
 * and `when()` is what was asked for.
 *
 * Why not a heap of timers: popping a heap of a hundred thousand timers walks eight levels
 * of a structure larger than the CPU caches, a cache miss per level; here a burst of
 * timers costs an append each and one near-linear sort per millisecond, and the due
 * timers are read in order from small arrays. The queue orders buckets, not timers: it
 * holds as many entries as there are distinct milliseconds among the deadlines.
 */
export class TimerWheel {
  /** How many timers are scheduled and not cancelled. */
  size = 0;
  /** @internal Where due timers go (the loop's ready queue). */ readonly _ready: TimerReadyQueue;
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

  constructor(ready: TimerReadyQueue) {
    this._ready = ready;
  }

  /**
   * Schedules `item` at `when` and tells `place` (its handle) where it is. Kept small
   * enough for V8 to inline into `callLater`: a number that is not a small integer passed
   * to a call that is not inlined is boxed, 16 bytes per timer.
   */
  push(item: TimerItem, when: number, place: TimerPlace): void {
    this.size++;
    const index = Math.floor(when);
    let bucket = this._slots[index & SLOT_MASK] as TimerBucket | null;
    if (bucket === null || bucket._index !== index) bucket = this._bucket(index);
    bucket._live++;
    let block = bucket._last;
    if (block._length === block._whens.length) block = addBlock(bucket);
    const pos = block._length++;
    block._whens[pos] = when;
    block._items[pos] = item;
    place._block = block;
    place._pos = pos;
    if (bucket._sortedBlocks !== null) insertSorted(bucket, block, pos, when);
  }

  /** Cancels the timer at `pos` of `block`, wherever it is in its life (`TimerHandle.cancel`). */
  cancel(block: TimerBlock, pos: number): void {
    const items = block._items;
    const item = items[pos];
    items[pos] = null;
    if (item === null || item === DROPPED) return;
    if (typeof item === "number") {
      // Due and moved to the ready queue, maybe not run yet: take it out there.
      const ready = this._ready;
      const offset = item - ready.headPosition;
      if (offset >= 0 && offset < ready.length) ready.set(offset, null);
      return;
    }
    this.size--;
    const bucket = block._bucket as TimerBucket;
    bucket._live--;
    ++bucket._dead;
    // Compacting costs the bucket's length, and the next one needs as many cancels again:
    // O(1) per cancel, amortised. A cancelled position keeps no timer alive, only its
    // deadline and slot (16 bytes), so compaction waits for twice as many dead as live.
    if (bucket._sortedBlocks === null) {
      if (bucket._live === 0) emptyBlocks(bucket);
      else if (bucket._dead > 2 * bucket._live) compactBlocks(bucket);
    } else if (bucket._dead * 2 > bucket._sortedPos.length - bucket._head) {
      compactSorted(bucket);
    }
  }

  /** The earliest deadline, or Infinity when no timer is scheduled. */
  nextDeadline(): number {
    const front = this._front();
    return front === null ? Infinity : (front._sortedWhens[front._head] as number);
  }

  /**
   * Moves every timer due at `now` (deadline ≤ now) to the ready queue, earliest first,
   * equal deadlines in scheduling order; returns how many.
   */
  popDue(now: number): number {
    const ready = this._ready;
    let total = 0;
    for (;;) {
      const front = this._front();
      if (front === null || front._index > now) break;
      const blocks = front._sortedBlocks as TimerBlock[];
      const positions = front._sortedPos;
      const whens = front._sortedWhens;
      const length = positions.length;
      let moved = 0;
      let i = front._head;
      for (; i < length; i++) {
        if ((whens[i] as number) > now) break;
        const items = (blocks[i] as TimerBlock)._items;
        const pos = positions[i] as number;
        const item = items[pos] as TimerItem | null;
        if (item === null) {
          front._dead--;
          continue;
        }
        items[pos] = ready.tailPosition;
        ready.push(item);
        moved++;
      }
      front._live -= moved;
      total += moved;
      front._head = i;
      // Not fully drained: the rest are later than now. Drained: `_front` drops it next.
      if (i < length) break;
    }
    this.size -= total;
    return total;
  }

  /** Forgets every timer: each one left scheduled is dropped, neither run nor cancelled. */
  clear(): void {
    for (const bucket of this._queue) {
      for (const block of bucket._blocks) {
        const items = block._items;
        for (let i = 0; i < block._length; i++) {
          const item = items[i];
          if (item !== null && typeof item !== "number") items[i] = DROPPED;
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
      const blocks = front._sortedBlocks ?? sortBucket(front);
      const positions = front._sortedPos;
      let head = front._head;
      while (head < positions.length && (blocks[head] as TimerBlock)._items[positions[head] as number] === null) {
        head++;
        front._dead--;
      }
      front._head = head;
      if (head < positions.length) return front;
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

/**
 * Where a handle's timer is now: follows the moves of compaction from the block and
 * position the handle was given, and remembers the end for next time.
 */
export function locate(place: TimerPlace): TimerBlock {
  let block = place._block as TimerBlock;
  let pos = place._pos;
  if (block._items[pos] !== MOVED) return block;
  do {
    pos = (block._moved as number[])[pos] as number;
    block = block._next as TimerBlock;
  } while (block._items[pos] === MOVED);
  place._block = block;
  place._pos = pos;
  return block;
}

/** Whether the value of a position is a scheduled timer. */
export function isScheduled(value: TimerSlotValue): value is TimerItem {
  return value !== null && value !== MOVED && value !== DROPPED && typeof value !== "number";
}

/** Adds a block to `bucket` when its last one is full: twice as large, up to `BLOCK_MAX`. */
function addBlock(bucket: TimerBucket): TimerBlock {
  const block = new TimerBlock(bucket._wheel, bucket, Math.min(Math.max(BLOCK_MIN, bucket._last._whens.length * 2), BLOCK_MAX));
  bucket._blocks.push(block);
  bucket._last = block;
  return block;
}

/**
 * Puts the timer at `pos` of `block` into the sorted arrays of the front bucket, after its
 * equals: they were all scheduled earlier.
 */
function insertSorted(bucket: TimerBucket, block: TimerBlock, pos: number, when: number): void {
  const whens = bucket._sortedWhens;
  let lo = bucket._head;
  let hi = whens.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((whens[mid] as number) <= when) lo = mid + 1;
    else hi = mid;
  }
  (bucket._sortedBlocks as TimerBlock[]).splice(lo, 0, block);
  bucket._sortedPos.splice(lo, 0, pos);
  whens.splice(lo, 0, when);
}

/** Lets go of a bucket that left the wheel; its blocks stay with the handles that point into them. */
function release(bucket: TimerBucket): void {
  for (const block of bucket._blocks) block._bucket = null;
  bucket._blocks = NO_BLOCKS;
  bucket._sortedBlocks = NO_BLOCKS;
  bucket._sortedPos = NO_NUMBERS;
  bucket._sortedWhens = NO_NUMBERS;
}

/** Lets go of the blocks of an unsorted bucket left with no live timer. */
function emptyBlocks(bucket: TimerBucket): void {
  for (const old of bucket._blocks) old._bucket = null;
  bucket._blocks = [];
  bucket._last = EMPTY_BLOCK;
  bucket._dead = 0;
}

/**
 * Moves the live timers of an unsorted bucket into one new block, in order. Their old
 * positions say `MOVED` and the old blocks say where to (`locate`); they stay with the
 * handles that point into them.
 */
function compactBlocks(bucket: TimerBucket): void {
  const block = new TimerBlock(bucket._wheel, bucket, Math.max(BLOCK_MIN, 2 ** Math.ceil(Math.log2(bucket._live + 1))));
  const items = block._items;
  const whens = block._whens;
  let n = 0;
  for (const old of bucket._blocks) {
    const oldItems = old._items;
    const oldWhens = old._whens;
    // Stryker disable next-line ArrayDeclaration: written by index for every position read later (`locate` reads only MOVED positions, each written)
    const moved = new Array<number>(old._length);
    for (let i = 0; i < old._length; i++) {
      const item = oldItems[i] as TimerSlotValue;
      if (item === null) continue;
      items[n] = item;
      whens[n] = oldWhens[i] as number;
      oldItems[i] = MOVED;
      moved[i] = n++;
    }
    old._bucket = null;
    old._next = block;
    old._moved = moved;
  }
  block._length = n;
  bucket._blocks = [block];
  bucket._last = block;
  bucket._dead = 0;
}

/** Drops the cancelled entries of a sorted bucket's arrays, keeping the order of the rest. */
function compactSorted(bucket: TimerBucket): void {
  const blocks = bucket._sortedBlocks as TimerBlock[];
  const positions = bucket._sortedPos;
  const whens = bucket._sortedWhens;
  let n = 0;
  for (let i = bucket._head; i < positions.length; i++) {
    const block = blocks[i] as TimerBlock;
    const pos = positions[i] as number;
    if (block._items[pos] === null) continue;
    blocks[n] = block;
    positions[n] = pos;
    whens[n++] = whens[i] as number;
  }
  blocks.length = n;
  positions.length = n;
  whens.length = n;
  bucket._head = 0;
  bucket._dead = 0;
}

// Arrays of doubles of each power-of-two length up to `BLOCK_MAX`, copied to make a block's
// `_whens` and a sorted bucket's deadlines: a copy is born with unboxed double elements, where `new Array(n)` would be
// made for tagged values first and converted on the first write of a fraction.
const doubleTemplates: number[][] = [];

/** An array of `length` doubles, unboxed. */
function doubles(length: number): number[] {
  if (length === 0) return [];
  // Stryker disable next-line ConditionalExpression,EqualityOperator,ArrayDeclaration: either path returns `length` copies of 0.5 (or writes them by index); only how the array is stored differs
  if (length > BLOCK_MAX) return new Array<number>(length).fill(0.5);
  // Stryker disable next-line ArithmeticOperator: a larger template is sliced to `length`; the contents are the same
  const log = 32 - Math.clz32(length - 1);
  let template = doubleTemplates[log];
  if (template === undefined) {
    template = new Array<number>(2 ** log).fill(0.5);
    doubleTemplates[log] = template;
  }
  return template.length === length ? template.slice() : template.slice(0, length);
}

// Scratch space of `sortBucket`, grown to the largest bucket sorted so far. Numbers
// only, so it keeps no timer alive.
let keys = new Float64Array(1024);
let order = new Int32Array(1024);
let keysOut = new Float64Array(1024);
let orderOut = new Int32Array(1024);
let bins = new Int32Array(1024);
let binEnds = new Int32Array(1025);
let gatherBlock = new Int32Array(1024);
let gatherPos = new Int32Array(1024);

/**
 * Sorts the live timers of an unsorted `bucket` by deadline into its sorted arrays,
 * stably (equal deadlines keep their scheduling order), leaving its cancelled positions
 * behind, in O(n) when the deadlines are spread out: a counting pass distributes them over
 * about n sub-ranges of the bucket, and each sub-range, a couple of timers on average, is
 * sorted by comparisons. The deadlines are read from the blocks into a typed array with
 * the timers' indices riding along, so that a comparison reads two adjacent numbers.
 */
function sortBucket(bucket: TimerBucket): TimerBlock[] {
  const length = bucket._live;
  if (keys.length < length) {
    const size = 2 ** Math.ceil(Math.log2(length));
    keys = new Float64Array(size);
    order = new Int32Array(size);
    keysOut = new Float64Array(size);
    orderOut = new Int32Array(size);
    bins = new Int32Array(size);
    binEnds = new Int32Array(size + 1);
    gatherBlock = new Int32Array(size);
    gatherPos = new Int32Array(size);
  }
  const blocks = bucket._blocks;
  const k = keys;
  const kOut = keysOut;
  const oOut = orderOut;
  let n = 0;
  for (let b = 0; b < blocks.length; b++) {
    const block = blocks[b] as TimerBlock;
    const items = block._items;
    const whens = block._whens;
    for (let i = 0; i < block._length; i++) {
      if (items[i] === null) continue;
      gatherBlock[n] = b;
      gatherPos[n] = i;
      k[n++] = whens[i] as number;
    }
  }
  bucket._head = 0;
  bucket._dead = 0;
  // Stryker disable next-line ConditionalExpression,EqualityOperator: both sorts are stable and complete at any size; the threshold only picks the faster one
  if (n <= SHORT_RUN) {
    for (let i = 0; i < n; i++) {
      kOut[i] = k[i] as number;
      oOut[i] = i;
    }
    insertionSort(kOut, oOut, 0, n);
  } else {
    sortKeys(bucket._index, n);
  }
  // Stryker disable next-line ArrayDeclaration: every index below n is written just below
  const sortedBlocks = new Array<TimerBlock>(n);
  // Stryker disable next-line ArrayDeclaration: every index below n is written just below
  const sortedPos = new Array<number>(n);
  const sortedWhens = doubles(n);
  for (let i = 0; i < n; i++) {
    const from = oOut[i] as number;
    sortedBlocks[i] = blocks[gatherBlock[from] as number] as TimerBlock;
    sortedPos[i] = gatherPos[from] as number;
    sortedWhens[i] = kOut[i] as number;
  }
  bucket._sortedBlocks = sortedBlocks;
  bucket._sortedPos = sortedPos;
  bucket._sortedWhens = sortedWhens;
  return sortedBlocks;
}

/** Sorts `keys[0..n)` into `keysOut`, with their indices into `orderOut`, for a bucket starting at `start`. */
function sortKeys(start: number, n: number): void {
  const k = keys;
  // A power of two, so the scaling below is exact (the bucket is 1 ms wide); the sub-range
  // of a deadline is then a monotonic function of it, and sub-ranges in order hold
  // deadlines in order.
  const count = 2 ** Math.floor(Math.log2(n));
  const b = bins;
  const ends = binEnds;
  ends.fill(0, 0, count + 1);
  // Stryker disable next-line BlockStatement: the counting pass only splits the work; with it gone every deadline stays in sub-range 0 (the bins are never written) and the one merge sort of the whole bucket gives the same stable order
  for (let i = 0; i < n; i++) {
    // `| 0` sends NaN (a bucket at ±Infinity) to the first sub-range; the upper clamp
    // catches a subtraction rounded up to the width (negative deadlines).
    let bin = (((k[i] as number) - start) * count) | 0;
    if (bin >= count) bin = count - 1;
    b[i] = bin;
    // Written out, not `(ends[…] as number)++`: Stryker's instrumenter prints an update of
    // an `as` expression without its parentheses, which no TypeScript parser accepts.
    ends[bin + 1] = (ends[bin + 1] as number) + 1;
  }
  for (let i = 0; i < count; i++) ends[i + 1] = (ends[i + 1] as number) + (ends[i] as number);
  const kOut = keysOut;
  const oOut = orderOut;
  for (let i = 0; i < n; i++) {
    const bin = b[i] as number;
    const at = ends[bin] as number;
    ends[bin] = at + 1;
    kOut[at] = k[i] as number;
    oOut[at] = i;
  }
  // `ends[bin]` is now where sub-range `bin` ends.
  let begin = 0;
  for (let bin = 0; bin < count; bin++) {
    const end = ends[bin] as number;
    // Stryker disable next-line ConditionalExpression,EqualityOperator,ArithmeticOperator: insertion sort and the merge sort are both stable and complete; the threshold only picks the faster one
    if (end - begin > SHORT_RUN) sortRange(kOut, oOut, begin, end);
    // Stryker disable next-line ArithmeticOperator: `end + begin > 1` only also insertion-sorts ranges of 0 or 1 deadlines, which leaves them as they are
    else if (end - begin > 1) insertionSort(kOut, oOut, begin, end);
    begin = end;
  }
}

/** Sorts the short range `k[lo..hi)` stably, with `o` riding along. */
function insertionSort(k: Float64Array, o: Int32Array, lo: number, hi: number): void {
  // Stryker disable next-line ArithmeticOperator: starting at lo - 1, the inner loop stops at `j >= lo` and writes k[lo - 1] back unchanged
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
  // Stryker disable next-line ArithmeticOperator: extra passes with a width of the whole range only copy it, sorted, between the pairs; the final copy-back restores it
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

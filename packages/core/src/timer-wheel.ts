import type { TimerHandle } from "./handle.js";

/** Slots per level: level `l` groups deadlines into buckets `64^l` ms wide. */
const LEVEL_BITS = 6;
/** The coarsest level; its buckets are 2^42 ms (139 years) wide, so nothing is out of range. */
const MAX_LEVEL = 7;
/** `WIDTH[l]`: the width (ms) of a level-`l` bucket. All powers of two: dividing by one is exact. */
const WIDTH: readonly number[] = Array.from({ length: MAX_LEVEL + 1 }, (_, l) => 2 ** (LEVEL_BITS * l));
/** `INVERSE[l]`: 1 / `WIDTH[l]`, exact. */
const INVERSE: readonly number[] = WIDTH.map((w) => 1 / w);
/** `SPAN[l]`: a timer due within this many ms of the reference time goes to level `l` or finer. */
const SPAN: readonly number[] = WIDTH.map((w) => w * 2 ** LEVEL_BITS);
/** Buckets up to this size are sorted by insertion, larger ones by merging such runs. */
const SHORT_RUN = 16;

/**
 * The timers whose deadlines fall in one bucket of one level: `[start, start + WIDTH[level])`.
 *
 * Invariant: while unsorted, `items` holds exactly the live timers of the bucket in no
 * order, each knowing its `_position` in it, so a cancel swaps the last one into its
 * place (O(1)). Once sorted (only a level-0 bucket that reached the front of the wheel is
 * sorted), `items[head..]` is in (deadline, sequence) order and positions are not kept:
 * a timer cancelled there stays in place, its `_bucket` cleared, and is skipped when the
 * front reaches it.
 */
export class TimerBucket {
  /** @internal */ readonly _wheel: TimerWheel;
  /** @internal */ readonly _level: number;
  /** @internal */ readonly _index: number;
  /** @internal */ readonly _start: number;
  /** @internal */ _items: TimerHandle[] = [];
  /** @internal */ _head = 0;
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
    if (bucket._sorted) return;
    const items = bucket._items;
    const last = items.pop() as TimerHandle;
    if (last !== handle) {
      const position = handle._position;
      items[position] = last;
      last._position = position;
    }
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
        if (handle._bucket !== front) continue; // cancelled in place
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
          sortByDeadline(front._items);
          front._sorted = true;
        }
        const items = front._items;
        let head = front._head;
        while (head < items.length && (items[head] as TimerHandle)._bucket !== front) head++;
        front._head = head;
        if (head < items.length) return front;
        this._dropFront();
        continue;
      }
      this._dropFront();
      // Measured from the bucket's own start every timer in it is closer than its width,
      // so each lands at least one level finer: spreading ends.
      const items = front._items;
      for (let i = 0; i < items.length; i++) this._place(items[i] as TimerHandle, front._start);
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
    const buckets = this._buckets[level] as Map<number, TimerBucket>;
    let bucket = buckets.get(index);
    if (bucket === undefined) {
      bucket = new TimerBucket(this, level, index);
      buckets.set(index, bucket);
      this._enqueue(bucket);
    }
    handle._bucket = bucket;
    const items = bucket._items;
    if (!bucket._sorted) {
      handle._position = items.length;
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

function before(a: TimerHandle, b: TimerHandle): boolean {
  return a._when < b._when || (a._when === b._when && a._sequence < b._sequence);
}

/**
 * Sorts timers by (deadline, sequence): insertion sort of short runs, then bottom-up
 * merges. Written out rather than `Array.prototype.sort` with a comparator, whose call per
 * comparison costs more than the comparison.
 */
function sortByDeadline(items: TimerHandle[]): void {
  const n = items.length;
  for (let start = 0; start < n; start += SHORT_RUN) {
    const end = Math.min(start + SHORT_RUN, n);
    for (let i = start + 1; i < end; i++) {
      const h = items[i] as TimerHandle;
      let j = i - 1;
      while (j >= start && before(h, items[j] as TimerHandle)) {
        items[j + 1] = items[j] as TimerHandle;
        j--;
      }
      items[j + 1] = h;
    }
  }
  if (n <= SHORT_RUN) return;
  let from = items;
  let to: TimerHandle[] = new Array<TimerHandle>(n);
  for (let width = SHORT_RUN; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n);
      const hi = Math.min(lo + 2 * width, n);
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) {
        const a = from[i] as TimerHandle;
        const b = from[j] as TimerHandle;
        if (before(b, a)) {
          to[k++] = b;
          j++;
        } else {
          to[k++] = a;
          i++;
        }
      }
      while (i < mid) to[k++] = from[i++] as TimerHandle;
      while (j < hi) to[k++] = from[j++] as TimerHandle;
    }
    const swap = from;
    from = to;
    to = swap;
  }
  if (from !== items) for (let i = 0; i < n; i++) items[i] = from[i] as TimerHandle;
}

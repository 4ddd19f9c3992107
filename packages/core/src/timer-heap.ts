import type { TimerHandle } from "./handle.js";

const INITIAL_CAPACITY = 64;

/**
 * A 4-ary min-heap of timer handles ordered by (deadline, scheduling sequence).
 * Cancelled handles are not removed when cancelled — that would cost a search — but
 * skipped when they reach the top, and the loop rebuilds the heap when they outnumber
 * the live ones (see `EventLoop._dropCancelledTimers`), as asyncio's `_run_once` does.
 *
 * The keys live in a typed array beside the handles: sifting compares numbers in
 * contiguous memory instead of reading a field of a handle scattered in the heap at
 * every level, which with a million timers is a cache miss per comparison. Four
 * children per node halve the depth, and their keys share a cache line.
 *
 * Pushes append without ordering; the new handles are put in order at the next `peek`,
 * `pop` or `settle`. The loop settles once per turn and leaves out the handles cancelled
 * meanwhile: a timer set and cancelled within one turn (a timeout around an operation
 * that finished at once) never costs a heap operation, and a burst of timers is
 * heapified in O(n) instead of sifted in one by one.
 */
export class TimerHeap {
  /** @internal The handles, in heap order. */ readonly _items: TimerHandle[] = [];
  /**
   * Invariant: for i < size, `_keys[2i] === _items[i]._when` and `_keys[2i + 1] ===
   * _items[i]._sequence`: a node's two keys, and four siblings' keys, share a cache line.
   */
  private _keys = new Float64Array(2 * INITIAL_CAPACITY);
  /** Invariant: `_items[0.._ordered]` is in heap order; the handles after it were pushed since. */
  private _ordered = 0;

  get size(): number {
    return this._items.length;
  }

  peek(): TimerHandle | undefined {
    if (this._ordered !== this._items.length) this.settle(null);
    return this._items[0];
  }

  push(handle: TimerHandle): void {
    const index = this._items.length;
    if (2 * index === this._keys.length) this._grow();
    this._items.push(handle);
    this._keys[2 * index] = handle._when;
    this._keys[2 * index + 1] = handle._sequence;
  }

  /**
   * Puts the handles pushed since the last settle in heap order, leaving out those for
   * which `drop` returns true. Returns how many were dropped.
   */
  settle(drop: ((handle: TimerHandle) => boolean) | null): number {
    const items = this._items;
    const keys = this._keys;
    const ordered = this._ordered;
    let n = ordered;
    let dropped = 0;
    for (let i = ordered; i < items.length; i++) {
      const h = items[i] as TimerHandle;
      if (drop !== null && drop(h)) {
        dropped++;
        continue;
      }
      items[n] = h;
      keys[2 * n] = keys[2 * i] as number;
      keys[2 * n + 1] = keys[2 * i + 1] as number;
      n++;
    }
    items.length = n;
    this._ordered = n;
    // Sifting a handle up costs O(1) on average but O(log n) for deadlines that keep
    // getting earlier; rebuilding costs O(n). Rebuild when the newcomers outnumber the rest.
    if (n - ordered > ordered) this._heapify();
    else for (let i = ordered; i < n; i++) this._siftUp(i, items[i] as TimerHandle, keys[2 * i] as number, keys[2 * i + 1] as number);
    return dropped;
  }

  pop(): TimerHandle | undefined {
    if (this._ordered !== this._items.length) this.settle(null);
    const items = this._items;
    const top = items[0];
    const last = items.pop();
    const length = items.length;
    this._ordered = length;
    if (length > 0 && last !== undefined) this._siftDown(0, last, this._keys[2 * length] as number, this._keys[2 * length + 1] as number);
    return top;
  }

  /** Keeps only the handles for which `keep` is true and restores the heap order in O(n). */
  retain(keep: (handle: TimerHandle) => boolean): void {
    const items = this._items;
    const keys = this._keys;
    let n = 0;
    for (let i = 0; i < items.length; i++) {
      const h = items[i] as TimerHandle;
      if (keep(h)) {
        items[n] = h;
        keys[2 * n] = keys[2 * i] as number;
        keys[2 * n + 1] = keys[2 * i + 1] as number;
        n++;
      }
    }
    items.length = n;
    this._heapify();
  }

  clear(): void {
    this._items.length = 0;
    this._ordered = 0;
  }

  /** Restores the heap order of all the handles in O(n) (Floyd's construction). */
  private _heapify(): void {
    const items = this._items;
    const keys = this._keys;
    for (let i = (items.length - 2) >> 2; i >= 0; i--) this._siftDown(i, items[i] as TimerHandle, keys[2 * i] as number, keys[2 * i + 1] as number);
    this._ordered = items.length;
  }

  /** Moves `handle` (keys `w`, `s`) from the hole at `index` up to its place. */
  private _siftUp(index: number, handle: TimerHandle, w: number, s: number): void {
    const items = this._items;
    const keys = this._keys;
    while (index > 0) {
      const parent = (index - 1) >> 2;
      const pw = keys[2 * parent] as number;
      const ps = keys[2 * parent + 1] as number;
      if (pw < w || (pw === w && ps < s)) break;
      items[index] = items[parent] as TimerHandle;
      keys[2 * index] = pw;
      keys[2 * index + 1] = ps;
      index = parent;
    }
    items[index] = handle;
    keys[2 * index] = w;
    keys[2 * index + 1] = s;
  }

  /** Moves `handle` (keys `w`, `s`) from the hole at `index` down to its place. */
  private _siftDown(index: number, handle: TimerHandle, w: number, s: number): void {
    const items = this._items;
    const keys = this._keys;
    const length = items.length;
    for (;;) {
      const first = 4 * index + 1;
      if (first >= length) break;
      let child = first;
      let cw = keys[2 * first] as number;
      let cs = keys[2 * first + 1] as number;
      const end = first + 4 < length ? first + 4 : length;
      for (let c = first + 1; c < end; c++) {
        const ow = keys[2 * c] as number;
        if (ow < cw || (ow === cw && (keys[2 * c + 1] as number) < cs)) {
          child = c;
          cw = ow;
          cs = keys[2 * c + 1] as number;
        }
      }
      if (w < cw || (w === cw && s < cs)) break;
      items[index] = items[child] as TimerHandle;
      keys[2 * index] = cw;
      keys[2 * index + 1] = cs;
      index = child;
    }
    items[index] = handle;
    keys[2 * index] = w;
    keys[2 * index + 1] = s;
  }

  private _grow(): void {
    const keys = new Float64Array(this._keys.length * 2);
    keys.set(this._keys);
    this._keys = keys;
  }
}

import type { TimerHandle } from "./handle.js";

/**
 * A binary min-heap of timer handles ordered by (deadline, scheduling sequence).
 * Cancelled handles are not removed when cancelled — that would cost a search — but
 * skipped when they reach the top, and the loop rebuilds the heap when they outnumber
 * the live ones (see `EventLoop._dropCancelledTimers`), as asyncio's `_run_once` does.
 */
export class TimerHeap {
  /** @internal */ readonly _items: TimerHandle[] = [];

  get size(): number {
    return this._items.length;
  }

  peek(): TimerHandle | undefined {
    return this._items[0];
  }

  push(handle: TimerHandle): void {
    const items = this._items;
    items.push(handle);
    this._siftUp(items.length - 1);
  }

  pop(): TimerHandle | undefined {
    const items = this._items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      this._siftDown(0);
    }
    return top;
  }

  /** Keeps only the handles for which `keep` is true and restores the heap order in O(n). */
  retain(keep: (handle: TimerHandle) => boolean): void {
    const items = this._items;
    let n = 0;
    for (let i = 0; i < items.length; i++) {
      const h = items[i] as TimerHandle;
      if (keep(h)) items[n++] = h;
    }
    items.length = n;
    for (let i = (n >> 1) - 1; i >= 0; i--) this._siftDown(i);
  }

  clear(): void {
    this._items.length = 0;
  }

  private _siftUp(index: number): void {
    const items = this._items;
    const item = items[index] as TimerHandle;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = items[parentIndex] as TimerHandle;
      if (!before(item, parent)) break;
      items[index] = parent;
      index = parentIndex;
    }
    items[index] = item;
  }

  private _siftDown(index: number): void {
    const items = this._items;
    const length = items.length;
    const item = items[index] as TimerHandle;
    for (;;) {
      let child = 2 * index + 1;
      if (child >= length) break;
      const right = child + 1;
      if (right < length && before(items[right] as TimerHandle, items[child] as TimerHandle)) child = right;
      const childItem = items[child] as TimerHandle;
      if (!before(childItem, item)) break;
      items[index] = childItem;
      index = child;
    }
    items[index] = item;
  }
}

function before(a: TimerHandle, b: TimerHandle): boolean {
  return a._when < b._when || (a._when === b._when && a._sequence < b._sequence);
}

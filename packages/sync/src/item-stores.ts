/**
 * Where a queue keeps its items: asyncio's `_init/_put/_get` hooks as small classes.
 * `size` is a plain field so that the queue's hot path reads it without a call.
 */
export interface ItemStore<T> {
  size: number;
  put(item: T): void;
  take(): T;
  clear(): void;
  /** The items in the order `take()` would give them out (for `toString`). */
  snapshot(): T[];
}

/**
 * First in, first out, in a growable ring buffer: O(1) at both ends without moving the
 * other items (`Array.shift` does), and no allocation once grown to the working size.
 */
export class RingBuffer<T> implements ItemStore<T> {
  size = 0;
  // Stryker disable next-line ArrayDeclaration: a JS array grows on write, so starting empty instead of with 16 holes changes no item or order
  private _buffer: (T | undefined)[] = new Array<T | undefined>(16).fill(undefined);
  private _mask = 15;
  private _head = 0;

  put(item: T): void {
    // Stryker disable next-line EqualityOperator: growing one put early keeps every item and its order; only the capacity differs
    if (this.size > this._mask) this._grow();
    this._buffer[(this._head + this.size) & this._mask] = item;
    this.size++;
  }

  take(): T {
    const head = this._head;
    const item = this._buffer[head] as T;
    this._buffer[head] = undefined; // let the item be collected
    this._head = (head + 1) & this._mask;
    this.size--;
    return item;
  }

  clear(): void {
    this._buffer.fill(undefined);
    this._head = 0;
    this.size = 0;
  }

  snapshot(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.size; i++) out.push(this._buffer[(this._head + i) & this._mask] as T);
    return out;
  }

  private _grow(): void {
    const old = this._buffer;
    const next = new Array<T | undefined>(old.length * 2).fill(undefined);
    // Stryker disable next-line EqualityOperator: the one extra slot <= copies is next[size], which the put() that asked to grow overwrites at once
    for (let i = 0; i < this.size; i++) next[i] = old[(this._head + i) & this._mask];
    this._buffer = next;
    this._mask = next.length - 1;
    this._head = 0;
  }
}

/** Last in, first out. */
export class Stack<T> implements ItemStore<T> {
  size = 0;
  // Stryker disable next-line ArrayDeclaration: take() pops within `size`, so a stray first element is never taken (only the unused snapshot() would list it)
  private readonly _items: T[] = [];

  put(item: T): void {
    this._items.push(item);
    this.size++;
  }

  take(): T {
    this.size--;
    return this._items.pop() as T;
  }

  clear(): void {
    this._items.length = 0;
    this.size = 0;
  }

  snapshot(): T[] {
    return this._items.slice().reverse();
  }
}

/**
 * A binary min-heap ordered by `compare`, ties broken by insertion order — so, unlike
 * asyncio's `heapq`, equal priorities come out first in, first out. The insertion
 * numbers live in a parallel array: no wrapper object per item.
 */
export class Heap<T> implements ItemStore<T> {
  size = 0;
  // Stryker disable next-line ArrayDeclaration: put() writes index `size` (0 first) and take() truncates to `size`, so a stray first element is never read
  private readonly _items: T[] = [];
  // Stryker disable next-line ArrayDeclaration: as for _items
  private readonly _order: number[] = [];
  private _sequence = 0;

  constructor(private readonly _compare: (a: T, b: T) => number) {}

  put(item: T): void {
    const order = this._sequence++;
    // Find the place first and move items only afterwards: a compare function that
    // throws then leaves the heap as it was.
    let hole = this.size;
    while (hole > 0) {
      const parent = (hole - 1) >> 1;
      if (!this._precedes(item, order, this._items[parent] as T, this._order[parent] as number)) break;
      hole = parent;
    }
    let i = this.size;
    // Stryker disable next-line EqualityOperator: with >= the loop copies one parent into `hole`, which the line after the loop overwrites with the new item
    while (i > hole) {
      const parent = (i - 1) >> 1;
      this._items[i] = this._items[parent] as T;
      this._order[i] = this._order[parent] as number;
      i = parent;
    }
    this._items[hole] = item;
    this._order[hole] = order;
    this.size++;
  }

  take(): T {
    const items = this._items;
    const orders = this._order;
    const top = items[0] as T;
    const last = this.size - 1;
    const item = items[last] as T;
    const order = orders[last] as number;
    items.length = last;
    orders.length = last;
    this.size = last;
    if (last > 0) {
      let hole = 0;
      for (;;) {
        let child = 2 * hole + 1;
        if (child >= last) break;
        if (child + 1 < last && this._precedes(items[child + 1] as T, orders[child + 1] as number, items[child] as T, orders[child] as number)) child++;
        if (!this._precedes(items[child] as T, orders[child] as number, item, order)) break;
        items[hole] = items[child] as T;
        orders[hole] = orders[child] as number;
        hole = child;
      }
      items[hole] = item;
      orders[hole] = order;
    }
    return top;
  }

  clear(): void {
    this._items.length = 0;
    this._order.length = 0;
    this.size = 0;
  }

  snapshot(): T[] {
    const indices = this._items.map((_, i) => i);
    indices.sort((a, b) => (this._precedes(this._items[a] as T, this._order[a] as number, this._items[b] as T, this._order[b] as number) ? -1 : 1));
    return indices.map((i) => this._items[i] as T);
  }

  /** True when `a` (inserted as number `aOrder`) comes out before `b`. */
  private _precedes(a: T, aOrder: number, b: T, bOrder: number): boolean {
    const c = this._compare(a, b);
    if (c < 0) return true;
    if (c > 0) return false;
    // Stryker disable next-line EqualityOperator: insertion numbers are unique and an item is never compared with itself, so < and <= agree
    return aOrder < bOrder; // equal (or NaN): first in, first out
  }
}

/**
 * The order a `PriorityQueue` uses without a compare function: numbers, strings and
 * bigints by `<`, and arrays element by element — Python's tuple order, so that
 * `[priority, job]` entries work as `(priority, job)` tuples do in asyncio.
 */
export function naturalOrder(a: unknown, b: unknown): number {
  const ta = typeof a;
  if (ta === typeof b && (ta === "number" || ta === "string" || ta === "bigint")) {
    return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const c = naturalOrder(a[i], b[i]);
      if (c !== 0) return c;
    }
    return a.length - b.length;
  }
  throw new TypeError(
    `PriorityQueue: cannot order ${describe(a)} and ${describe(b)}; pass a compare function: new PriorityQueue(maxsize, (a, b) => a.priority - b.priority)`,
  );
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return `an object (${(value as object).constructor?.name ?? "Object"})`;
  return `a ${typeof value}`;
}

/**
 * A growable ring buffer: the loop's ready queue. `push` and `shift` are O(1) with no
 * allocation once the buffer has grown to the working size — an array with `shift()`
 * would move every element, and a linked list would allocate a node per callback.
 * The capacity is always a power of two so that wrapping is a mask, not a modulo.
 */
export class RingQueue<T> {
  private _buffer: (T | undefined)[];
  private _mask: number;
  private _head = 0;
  private _length = 0;

  constructor(initialCapacity = 1024) {
    let capacity = 16;
    while (capacity < initialCapacity) capacity *= 2;
    this._buffer = new Array<T | undefined>(capacity).fill(undefined);
    this._mask = capacity - 1;
  }

  get length(): number {
    return this._length;
  }

  push(item: T): void {
    if (this._length > this._mask) this._grow();
    this._buffer[(this._head + this._length) & this._mask] = item;
    this._length++;
  }

  /** Removes and returns the oldest item; the caller checks `length` first. */
  shift(): T {
    const index = this._head;
    const item = this._buffer[index] as T;
    this._buffer[index] = undefined; // drop the reference so that finished work can be collected
    this._head = (index + 1) & this._mask;
    this._length--;
    return item;
  }

  /** The item `offset` places from the head, without removing it. */
  peek(offset = 0): T | undefined {
    if (offset < 0 || offset >= this._length) return undefined;
    return this._buffer[(this._head + offset) & this._mask];
  }

  /** Replaces the item `offset` places from the head (0 <= offset < length). */
  set(offset: number, item: T): void {
    if (offset < 0 || offset >= this._length) throw new RangeError(`RingQueue.set(offset): offset ${offset} is out of range`);
    this._buffer[(this._head + offset) & this._mask] = item;
  }

  clear(): void {
    this._buffer.fill(undefined);
    this._head = 0;
    this._length = 0;
  }

  /** Reorders the items `from`..`from+count` in place with `swap` decisions made by `random` (used by seeded shuffles in tests). */
  shuffleRange(from: number, count: number, random: () => number): void {
    for (let i = count - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      const a = (this._head + from + i) & this._mask;
      const b = (this._head + from + j) & this._mask;
      const tmp = this._buffer[a];
      this._buffer[a] = this._buffer[b];
      this._buffer[b] = tmp;
    }
  }

  *[Symbol.iterator](): Generator<T, void, undefined> {
    for (let i = 0; i < this._length; i++) yield this._buffer[(this._head + i) & this._mask] as T;
  }

  private _grow(): void {
    const old = this._buffer;
    const capacity = old.length * 2;
    const next = new Array<T | undefined>(capacity).fill(undefined);
    for (let i = 0; i < this._length; i++) next[i] = old[(this._head + i) & this._mask];
    this._buffer = next;
    this._mask = capacity - 1;
    this._head = 0;
  }
}

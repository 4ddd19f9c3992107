/**
 * The loop's ready queue: a FIFO of fixed-size segments (Node's `FixedQueue` is the same
 * idea). `push` and `shift` are O(1) and allocate nothing until a segment fills up — an
 * array with `shift()` would move every element, and a linked list would allocate a node
 * per callback.
 *
 * Why segments rather than one growing ring buffer: a burst of a million callbacks would
 * grow the ring to a million slots, an array so large that V8 puts it in old space at
 * once, and every young handle stored into it then costs a remembered-set entry that each
 * scavenge must walk. Segments are small young arrays that age along with the handles in
 * them; measured on 1,000,000 `callSoon`s, about a sixth less CPU.
 *
 * The segment size is a power of two so that locating an item is a shift and a mask.
 */
export class RingQueue<T> {
  /** The segments from the head's to the tail's; `_segments[0]` holds the head. */
  private _segments: (T | undefined)[][];
  private readonly _shift: number;
  private readonly _mask: number;
  /** Index of the head within `_segments[0]`. */
  private _head = 0;
  private _length = 0;
  /** How many items have ever left the head (`clear` counts as leaving): with `length`, it gives each item an absolute position. */
  private _shifted = 0;
  /** An emptied segment kept for the next one needed, so a queue that hovers around a boundary allocates nothing. */
  private _spare: (T | undefined)[] | null = null;

  constructor(segmentSize = 1024) {
    let shift = 4;
    while (1 << shift < segmentSize) shift++;
    this._shift = shift;
    this._mask = (1 << shift) - 1;
    // Stryker disable next-line ArrayDeclaration: starting with no segment is the same queue: the first push adds one (its index equals segments.length), and peek and set check length before they index
    this._segments = [this._newSegment()];
  }

  get length(): number {
    return this._length;
  }

  /**
   * The absolute position the next `push` gets. Positions never repeat, so a position
   * taken at `push` still names that item for as long as it is queued: its offset from
   * the head is `position - headPosition`.
   */
  get tailPosition(): number {
    return this._shifted + this._length;
  }

  /** The absolute position of the head item. */
  get headPosition(): number {
    return this._shifted;
  }

  push(item: T): void {
    const position = this._head + this._length;
    const segments = this._segments;
    const index = position >>> this._shift;
    if (index === segments.length) segments.push(this._newSegment());
    (segments[index] as (T | undefined)[])[position & this._mask] = item;
    this._length++;
  }

  /** Removes and returns the oldest item; the caller checks `length` first. */
  shift(): T {
    const segment = this._segments[0] as (T | undefined)[];
    const index = this._head;
    const item = segment[index] as T;
    segment[index] = undefined; // drop the reference so that finished work can be collected
    this._length--;
    this._shifted++;
    if (index === this._mask) {
      this._head = 0;
      // The head segment is used up: the next one becomes the head.
      // Stryker disable next-line ConditionalExpression,EqualityOperator: parking the only segment as the spare leaves none, and the next push takes that same array back: the same items and the same allocations
      if (this._segments.length > 1) this._spare = this._segments.shift() as (T | undefined)[];
    } else if (this._length === 0) {
      this._head = 0; // empty: start the segment over instead of moving on
    } else {
      this._head = index + 1;
    }
    return item;
  }

  /** The item `offset` places from the head, without removing it. */
  peek(offset = 0): T | undefined {
    if (offset < 0 || offset >= this._length) return undefined;
    const position = this._head + offset;
    return (this._segments[position >>> this._shift] as (T | undefined)[])[position & this._mask];
  }

  /** Replaces the item `offset` places from the head (0 <= offset < length). */
  set(offset: number, item: T): void {
    if (offset < 0 || offset >= this._length) throw new RangeError(`RingQueue.set(offset): offset ${offset} is out of range`);
    const position = this._head + offset;
    (this._segments[position >>> this._shift] as (T | undefined)[])[position & this._mask] = item;
  }

  clear(): void {
    this._shifted += this._length;
    // Stryker disable next-line ArrayDeclaration: an empty queue without a segment is the same queue: the next push adds one (its index equals segments.length)
    this._segments = [this._newSegment()];
    this._head = 0;
    this._length = 0;
  }

  *[Symbol.iterator](): Generator<T, void, undefined> {
    for (let i = 0; i < this._length; i++) yield this.peek(i) as T;
  }

  private _newSegment(): (T | undefined)[] {
    const spare = this._spare;
    if (spare !== null) {
      this._spare = null;
      return spare;
    }
    // Stryker disable next-line ArrayDeclaration,ArithmeticOperator: sizing the array up front only saves its backing store growing on later writes; a shorter one grows and reads undefined past its end, so the items, their order and the segments allocated are the same
    return new Array<T | undefined>(this._mask + 1).fill(undefined);
  }
}

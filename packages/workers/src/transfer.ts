import type { MessagePort } from "node:worker_threads";

// piscina's Transferable protocol. The symbols are registered (Symbol.for), so a value
// marked here is recognised in any thread and by any copy of the package, and a value
// marked by piscina's own `move()` works too.
const TRANSFERABLE = Symbol.for("Piscina.transferable");
const VALUE = Symbol.for("Piscina.valueOf");

/** What can be moved to another thread instead of copied. */
export type TransferItem = ArrayBuffer | MessagePort;

/**
 * A value marked by `transfer()`: it crosses to the other thread by moving the listed
 * buffers, not by copying them.
 */
export interface Transfer<T> {
  /** The objects moved to the other thread. */
  readonly [TRANSFERABLE]: readonly TransferItem[];
  /** The value sent. */
  readonly [VALUE]: T;
}

/** An argument list where each argument may also be given as `transfer(argument)`. */
export type TransferableArgs<A extends readonly unknown[]> = { [K in keyof A]: A[K] | Transfer<A[K]> };

/**
 * Marks `value` to be moved, not copied, to the other thread: the `list`ed buffers (by
 * default the value itself when it is an `ArrayBuffer`, or its buffer when it is a typed
 * array or `DataView`) are detached here and appear there, whatever their size. Use it
 * for an argument of `runInWorker`/`toThread`/`runInExecutor`, or for the result a worker
 * function returns.
 * @example
 * const pixels = new Uint8Array(1 << 24);
 * const histogram = yield* runInWorker(imageModule, "histogram", transfer(pixels));
 * // pixels.byteLength === 0 now: the 16 MiB moved, nothing was copied
 */
export function transfer<T>(value: T, list?: readonly TransferItem[]): Transfer<T> {
  let items: readonly TransferItem[];
  if (list !== undefined) {
    if (!Array.isArray(list)) throw new TypeError("transfer(value, list): list must be an array of ArrayBuffers or MessagePorts");
    items = list;
  } else if (value instanceof ArrayBuffer) {
    items = [value];
  } else if (ArrayBuffer.isView(value)) {
    const buffer = value.buffer;
    if (!(buffer instanceof ArrayBuffer)) {
      throw new TypeError("transfer(view): the view's buffer is a SharedArrayBuffer, which is shared with workers as it is and cannot be moved");
    }
    items = [buffer];
  } else {
    throw new TypeError(
      "transfer(value): value is not an ArrayBuffer, typed array or DataView; pass the buffers to move as the second argument, transfer(value, [buffer])",
    );
  }
  return { [TRANSFERABLE]: items, [VALUE]: value };
}

/** The argument list to send and the buffers to move with it; `args` itself is left alone. */
export function unwrapTransfers(args: readonly unknown[]): { args: readonly unknown[]; transfer: readonly unknown[] } {
  let unwrapped: unknown[] | null = null;
  let moved: unknown[] = NOTHING_MOVED;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === null || typeof arg !== "object" || !(TRANSFERABLE in arg) || !(VALUE in arg)) continue;
    unwrapped ??= args.slice();
    unwrapped[i] = (arg as Transfer<unknown>)[VALUE];
    const items = (arg as Transfer<unknown>)[TRANSFERABLE];
    if (moved === NOTHING_MOVED) moved = [];
    if (Array.isArray(items)) moved.push(...(items as unknown[]));
    else moved.push(items);
  }
  return { args: unwrapped ?? args, transfer: moved };
}

const NOTHING_MOVED: unknown[] = [];

/**
 * What a job runs — a module export, or a function's source text — named once and
 * then referred to by a small integer. The names live in a SharedArrayBuffer that every
 * WorkerPoolExecutor of this thread hands its workers (in `workerData`), so a job
 * message carries `[id, args]` instead of the module URL and export name (or the whole
 * source text) every time, and a worker finds out what an id means by reading the
 * buffer, once per id, without a message to ask. A worker started later (one that
 * replaces a terminated thread, or one a pool adds as it grows) reads the same buffer,
 * so ids never need to be sent again.
 *
 * Layout (worker/entry.mjs reads it): two Int32 header slots, then records. Header [0]
 * is the number of records published, [1] the byte offset where the next record goes.
 * Record `id` is the id-th record: a Uint32 byte length, then that many bytes of UTF-8
 * JSON (`["module", url, exportName]` or `["source", text]`), padded to 4 bytes. Only
 * this thread writes, and a record is written and published before any job that
 * names it is posted, so a worker always finds it.
 *
 * The buffer grows up to `MAX_BYTES`; past that (or for one very long source text),
 * jobs are sent as before, with their names in the message: slower, never wrong.
 */

const HEADER_BYTES = 8;
const INITIAL_BYTES = 16 * 1024;
const MAX_BYTES = 4 * 1024 * 1024;
/** Source texts longer than this travel in the message: a registry is for the few functions sent often. */
const MAX_RECORD_BYTES = 64 * 1024;

/** What a job's message names when there is no id for it. */
export const NO_ID = -1;

interface Registry {
  readonly buffer: SharedArrayBuffer;
  readonly header: Int32Array;
  readonly bytes: Uint8Array;
  readonly modules: Map<string, Map<string, number>>;
  readonly sources: Map<string, number>;
}

let registry: Registry | null = null;
const encoder = new TextEncoder();

interface GrowableSharedArrayBuffer extends SharedArrayBuffer {
  readonly growable?: boolean;
  readonly maxByteLength?: number;
  grow?(newByteLength: number): void;
}

function open(): Registry {
  if (registry === null) {
    // A growable buffer (Node.js 20+); an engine without them gives a fixed one, which
    // simply fills up sooner.
    const Shared = SharedArrayBuffer as unknown as new (length: number, opts?: { maxByteLength: number }) => SharedArrayBuffer;
    const buffer = new Shared(INITIAL_BYTES, { maxByteLength: MAX_BYTES });
    const header = new Int32Array(buffer, 0, 2);
    header[1] = HEADER_BYTES;
    registry = { buffer, header, bytes: new Uint8Array(buffer), modules: new Map(), sources: new Map() };
  }
  return registry;
}

/** The buffer to give the workers of a new executor (`workerData`). */
export function registryBuffer(): SharedArrayBuffer {
  return open().buffer;
}

/** The id of module `url`'s export `exportName`, registered on first use; NO_ID if the registry is full. */
export function moduleId(url: string, exportName: string): number {
  const reg = open();
  let exports = reg.modules.get(url);
  let id = exports?.get(exportName);
  if (id !== undefined) return id;
  id = publish(reg, JSON.stringify(["module", url, exportName]));
  if (id !== NO_ID) {
    if (exports === undefined) reg.modules.set(url, (exports = new Map()));
    exports.set(exportName, id);
  }
  return id;
}

/** The id of a function's source text, registered on first use; NO_ID if it does not fit. */
export function sourceId(source: string): number {
  const reg = open();
  const id = reg.sources.get(source);
  if (id !== undefined) return id;
  if (source.length > MAX_RECORD_BYTES) return NO_ID;
  const published = publish(reg, JSON.stringify(["source", source]));
  if (published !== NO_ID) reg.sources.set(source, published);
  return published;
}

function publish(reg: Registry, json: string): number {
  const encoded = encoder.encode(json);
  if (encoded.length > MAX_RECORD_BYTES) return NO_ID;
  const start = reg.header[1] as number;
  const end = start + 4 + ((encoded.length + 3) & ~3);
  if (end > reg.buffer.byteLength && !grow(reg, end)) return NO_ID;
  new DataView(reg.buffer).setUint32(start, encoded.length, true);
  reg.bytes.set(encoded, start + 4);
  reg.header[1] = end;
  // Published last: a reader that sees the count sees the record.
  const id = reg.header[0] as number;
  Atomics.store(reg.header, 0, id + 1);
  return id;
}

function grow(reg: Registry, needed: number): boolean {
  const buffer = reg.buffer as GrowableSharedArrayBuffer;
  if (buffer.growable !== true || typeof buffer.grow !== "function") return false;
  const max = buffer.maxByteLength ?? buffer.byteLength;
  if (needed > max) return false;
  let size = buffer.byteLength;
  while (size < needed) size *= 2;
  // `bytes` and the workers' views were made without a length: they follow the growth.
  buffer.grow(Math.min(size, max));
  return true;
}

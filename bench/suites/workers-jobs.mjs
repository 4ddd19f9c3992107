// Worker-side functions for suites/workers.bench.ts, loaded both by @loop/workers and by
// piscina directly. Plain JavaScript so that a worker thread loads it with Node alone.
import { createHash } from "node:crypto";

const BLOCK_BYTES = 64 * 1024;

/**
 * CPU-bound work: the SHA-256 of `blocks` blocks of 64 KiB filled from `text`, streamed
 * through one hash, as hashing a file does. One hash per job, not one per round: creating
 * a hash takes a lock inside OpenSSL 3, and with a hash made per 64-byte digest two
 * threads spend their time waiting on each other (measured here: 1.1x the speed of one
 * thread on two cores, against 1.8-1.95x for streamed hashing or plain JavaScript).
 */
export function sha(text, blocks) {
  const block = Buffer.alloc(BLOCK_BYTES, text);
  const hash = createHash("sha256");
  for (let i = 0; i < blocks; i++) hash.update(block);
  return hash.digest("hex");
}

/** piscina's calling convention: one argument. */
export function shaTask(task) {
  return sha(task.text, task.blocks);
}

/** A trivial job: the cost of a round trip is all there is. */
export function inc(x) {
  return x + 1;
}

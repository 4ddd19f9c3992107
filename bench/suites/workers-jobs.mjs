// Worker-side functions for suites/workers.bench.ts, loaded both by @loop/workers and by
// piscina directly. Plain JavaScript so that a worker thread loads it with Node alone.
import { createHash } from "node:crypto";

/** CPU-bound work: `rounds` chained SHA-256 digests of `text`. */
export function sha(text, rounds) {
  let digest = text;
  for (let i = 0; i < rounds; i++) digest = createHash("sha256").update(digest).digest("hex");
  return digest;
}

/** piscina's calling convention: one argument. */
export function shaTask(task) {
  return sha(task.text, task.rounds);
}

/** A trivial job: the cost of a round trip is all there is. */
export function inc(x) {
  return x + 1;
}

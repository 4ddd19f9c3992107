// Every test file of this package: no file descriptor outlives it (/proc/self/fd is
// counted before the file's first test and after its last).
import { afterAll, beforeAll, expect } from "vitest";
import { fdCountHolds, openFds } from "./fds.js";

let atStart = 0;
beforeAll(() => {
  atStart = openFds();
});
afterAll(async () => {
  if (!fdCountHolds) return;
  // Handle closes finish in Node's close phase: a bounded number of macrotask turns.
  for (let i = 0; i < 50 && openFds() > atStart; i++) await new Promise((resolve) => setImmediate(resolve));
  expect(openFds(), "file descriptors left open by this test file").toBeLessThanOrEqual(atStart);
});

import { readdirSync, readlinkSync } from "node:fs";
import { isMainThread } from "node:worker_threads";

/**
 * The open file descriptors of this process (Linux: /proc/self/fd), epoll sets left out:
 * libuv's and each thread's selector set live as long as their thread, not as a test.
 */
export function openFds(): number {
  let count = 0;
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) !== "anon_inode:[eventpoll]") count++;
    } catch {
      // Closed while we looked (the directory's own descriptor, for one).
    }
  }
  return count;
}

/**
 * Whether a count of this process's descriptors says anything about one test file: not in a
 * worker thread (Stryker runs the tests in a thread pool), where other files' threads open
 * and close descriptors in the same table. A failing afterAll would also make Stryker drop
 * the file's coverage. The selector's own count (`stats()`) is per thread and still holds.
 */
export const fdCountHolds = isMainThread;

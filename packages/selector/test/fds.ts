import { readdirSync, readlinkSync } from "node:fs";

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

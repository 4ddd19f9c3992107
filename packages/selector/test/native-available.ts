import { readdirSync } from "node:fs";
import { SelectorPoller, selectorAvailable, selectorUnavailableReason } from "../src/index.js";

/**
 * Tests of the native selector skip, saying why, only when the addon could not be built
 * here; CI sets LOOP_SELECTOR_REQUIRE_NATIVE=1, which turns that into a failure.
 */
export const available = selectorAvailable();
if (!available) {
  const reason = `@loop/selector: the native addon is not available (${selectorUnavailableReason()}); build it with \`pnpm --filter @loop/selector build:native\``;
  if (process.env.LOOP_SELECTOR_REQUIRE_NATIVE === "1") throw new Error(reason);
  console.warn(`skipping native selector tests: ${reason}`);
}

/**
 * The number of open file descriptors of this process (Linux: /proc/self/fd). The thread's
 * epoll descriptor is made first: it lives as long as the thread, not as a test.
 */
export function openFds(): number {
  if (available) new SelectorPoller().close();
  return readdirSync("/proc/self/fd").length;
}

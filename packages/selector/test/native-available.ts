import { selectorAvailable, selectorUnavailableReason } from "../src/index.js";

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

export { openFds } from "./fds.js";

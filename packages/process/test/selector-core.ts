/**
 * `@loop/core` as the "process-selector" test project sees it (vitest.selector.config.ts
 * aliases the package name here): the same module, except that `run()` without a poller
 * runs on a `SelectorPoller`, so this package's tests drive its native `processes` driver
 * instead of `node:child_process`.
 */
// First: @loop/selector imports @loop/core (this module) in turn, and must find it complete.
export * from "../../core/src/index.js";
import { run as runOnDefault, type Coroutine, type RunOptions } from "../../core/src/index.js";
import { SelectorPoller } from "@loop/selector";

export function run<T>(main: Coroutine<T> | (() => Coroutine<T>), opts?: RunOptions): Promise<T> {
  if (opts?.poller !== undefined) return runOnDefault(main, opts);
  const poller = new SelectorPoller();
  // Without the driver these tests would quietly test node:child_process again.
  if (poller.processes === undefined) throw new Error("SelectorPoller offers no processes here: build the addon (pnpm --filter @loop/selector build:native) on Linux 5.4 or later");
  return runOnDefault(main, { ...opts, poller });
}

import { describe, expect, it, vi } from "vitest";
import { available } from "./native-available.js";

// As if the kernel had no pidfd_open (Linux before 5.3): the addon loads, its spawn probe says no.
vi.mock("../src/native.js", async (importOriginal) => {
  const real = await importOriginal<typeof import("../src/native.js")>();
  // The addon's functions are not enumerable: the stand-in inherits them and overrides one.
  const native = real.native === null ? null : Object.create(real.native, { spawnSupport: { value: () => "the kernel has no pidfd_open (Linux 5.3 or later is needed)" } });
  return { ...real, native };
});

const { SelectorPoller, processesUnavailableReason } = await import("../src/index.js");

describe.skipIf(!available)("where the system cannot spawn natively", () => {
  it("SelectorPoller offers no processes (so @loop/process uses node:child_process) and says why", () => {
    const poller = new SelectorPoller();
    try {
      expect(poller.native).toBe(true);
      expect(poller.processes).toBeUndefined();
      expect(poller.net).toBeDefined();
      expect(processesUnavailableReason()).toMatch(/pidfd_open/);
    } finally {
      poller.close();
    }
  });
});

import { describe, expect, it, vi } from "vitest";

// As if node-gyp had failed on install: the addon is not there.
vi.mock("../src/native.js", async (importOriginal) => ({
  ...(await importOriginal<typeof import("../src/native.js")>()),
  native: null,
  nativeLoadError: new Error("Could not locate the bindings file"),
}));

const { SelectorPoller } = await import("../src/index.js");

describe("SelectorPoller without the native addon says what it is", () => {
  it("its name, its backend and its warning's code tell the fallback apart", () => {
    const warn = vi.spyOn(process, "emitWarning").mockImplementation(() => {});
    try {
      const poller = new SelectorPoller();
      expect(poller.name).toBe("selector(fallback: default)");
      expect(poller.backend).toBeNull();
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0]![1]).toEqual({ code: "LOOP_SELECTOR_FALLBACK" });
      // Nothing to unwatch on the fallback: false, as for a descriptor never watched.
      expect(poller.removeReader(0)).toBe(false);
      expect(poller.removeWriter(0)).toBe(false);
      poller.close();
    } finally {
      warn.mockRestore();
    }
  });
});

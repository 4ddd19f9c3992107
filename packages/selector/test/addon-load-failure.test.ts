import { describe, expect, it, vi } from "vitest";

// node-gyp-build as it fails where nothing was built: what it throws is up to it.
let thrown: unknown = null;
vi.mock("node:module", async (importOriginal) => ({
  ...(await importOriginal<typeof import("node:module")>()),
  createRequire: () => () => () => {
    throw thrown;
  },
}));

async function loadNative(): Promise<typeof import("../src/native.js")> {
  vi.resetModules();
  return import("../src/native.js");
}

describe("when the addon cannot be loaded", () => {
  it("native is null and nativeLoadError is what the loader threw, or an Error saying it", async () => {
    const error = new Error("No native build was found for platform=linux");
    thrown = error;
    const failed = await loadNative();
    expect(failed.native).toBe(null);
    expect(failed.nativeLoadError).toBe(error);
    thrown = "not an Error";
    const odd = await loadNative();
    expect(odd.native).toBe(null);
    expect(odd.nativeLoadError).toBeInstanceOf(Error);
    expect(odd.nativeLoadError?.message).toBe("not an Error");
  });
});

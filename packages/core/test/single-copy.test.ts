import { readFileSync } from "node:fs";
import { afterEach, describe, expect, test } from "vitest";
import "../src/index.js";
import { claimSingleCopy } from "../src/single-copy.js";
import { VERSION } from "../src/version.js";

// The slot the core under test claimed when it loaded; every test puts it back.
const SLOT = Symbol.for("@loop/core:loaded");
const slots = globalThis as unknown as Record<symbol, unknown>;
const loaded = slots[SLOT];

afterEach(() => {
  slots[SLOT] = loaded;
});

describe("one @loop/core per process", () => {
  test("loading core claimed the slot with this copy's version and module URL", () => {
    expect(loaded).toEqual({ version: VERSION, url: expect.stringMatching(/\/state\.(ts|js)$/) });
  });

  test("a second copy from another path throws, naming both versions, both paths and the fix", () => {
    slots[SLOT] = { version: "0.1.0", url: "file:///app/node_modules/@loop/core/dist/state.js" };
    const second = "file:///app/node_modules/x/node_modules/@loop/core/dist/state.js";
    expect(() => claimSingleCopy(second, "0.2.0")).toThrowError(
      new Error(
        "@loop/core is loaded twice in this process: 0.1.0 from " +
          "file:///app/node_modules/@loop/core/dist/state.js and 0.2.0 from " +
          "file:///app/node_modules/x/node_modules/@loop/core/dist/state.js. Each copy has its own " +
          "event loop state and its own Future and Task classes, so tasks, futures and " +
          "getRunningLoop() would not work across the two. Make every @loop package share one " +
          "core: align the @loop package versions so that their peer ranges of @loop/core " +
          "overlap, then run `npm dedupe` (or `pnpm dedupe`); `npm ls @loop/core` shows which " +
          "package brings which copy.",
      ),
    );
    // The first copy keeps the slot.
    expect(slots[SLOT]).toEqual({ version: "0.1.0", url: "file:///app/node_modules/@loop/core/dist/state.js" });
  });

  test("two copies of the same version are still two copies", () => {
    slots[SLOT] = { version: VERSION, url: "file:///a/state.js" };
    expect(() => claimSingleCopy("file:///b/state.js")).toThrowError(/loaded twice.*file:\/\/\/a\/state\.js.*file:\/\/\/b\/state\.js/);
  });

  test("the same module evaluated again (a fresh module graph) is not a second copy", () => {
    slots[SLOT] = { version: VERSION, url: "file:///a/state.js" };
    expect(() => claimSingleCopy("file:///a/state.js")).not.toThrow();
  });

  test("src/version.ts says the version in package.json", () => {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
    expect(VERSION).toBe(pkg.version);
  });
});

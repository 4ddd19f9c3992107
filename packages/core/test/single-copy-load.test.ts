import { expect, test } from "vitest";
import { VERSION } from "../src/version.js";

// Core is imported inside the test, not at the top of this file: an error thrown while
// core loads then fails this test, where a failed top-level import fails the file before
// any test exists (and a mutation-testing runner sees no failing test at all).
const SLOT = Symbol.for("@loop/core:loaded");
const slots = globalThis as unknown as Record<symbol, unknown>;

test("loading core where no copy has claimed the slot yet claims it, with this copy's version and module URL", async () => {
  const before = slots[SLOT];
  delete slots[SLOT];
  try {
    const core = await import("../src/index.js");
    expect(typeof core.getRunningLoop).toBe("function");
    expect(slots[SLOT]).toEqual({ version: VERSION, url: expect.stringMatching(/\/state\.(ts|js)$/) });
  } finally {
    if (before !== undefined) slots[SLOT] = before;
  }
});

import { expect, test } from "vitest";
import * as testing from "../src/index.js";

test("the public surface holds the virtual-time tools and the conformance kit", () => {
  const names = Object.keys(testing);
  for (const name of ["runVirtual", "VirtualPoller", "VirtualClock", "VirtualSignals", "DeadlockError", "seededShuffle", "pollerConformance"]) {
    expect(names).toContain(name);
  }
});

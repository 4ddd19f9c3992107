import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pollerConformance } from "@loop/testing";
import { SelectorPoller } from "../src/index.js";
import { available, openFds } from "./native-available.js";
import { fdCountHolds } from "./fds.js";

describe.skipIf(!available)("the selector poller", () => {
  let fdsBefore = 0;
  beforeAll(() => {
    fdsBefore = openFds();
  });
  afterAll(() => {
    if (fdCountHolds) expect(openFds()).toBe(fdsBefore);
  });
  pollerConformance(() => new SelectorPoller(), { describe, it });
});

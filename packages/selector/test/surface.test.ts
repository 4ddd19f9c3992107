import { describe, expect, it } from "vitest";
import * as selector from "../src/index.js";

describe("the public surface of @loop/selector", () => {
  it("exports exactly these names", () => {
    expect(Object.keys(selector).sort()).toEqual(
      [
        "SelectorNetDriver",
        "SelectorPoller",
        "SelectorProcessDriver",
        "SelectorTransport",
        "addReader",
        "addWriter",
        "processesUnavailableReason",
        "removeReader",
        "removeWriter",
        "selectorAvailable",
        "selectorUnavailableReason",
      ].sort(),
    );
  });

  it("the fd functions check their arguments at the call", () => {
    expect(() => selector.addReader(-1, () => {})).toThrow(RangeError);
    expect(() => selector.removeWriter(1.5)).toThrow(RangeError);
    expect(() => selector.addWriter("1" as unknown as number, () => {})).toThrow(TypeError);
  });
});

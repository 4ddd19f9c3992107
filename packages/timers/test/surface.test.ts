import { expect, expectTypeOf, test } from "vitest";
import type { Coroutine } from "@loop/core";
import * as timers from "../src/index.js";

test("the public surface is exactly the documented names", () => {
  expect(Object.keys(timers).sort()).toEqual(["Ticker", "Timeout", "interval", "sleep", "sleepUntil", "timeout", "timeoutAt", "waitFor"]);
});

test("result types flow through timeout and waitFor", () => {
  expectTypeOf(timers.timeout(10, function* () {
    return 42;
  })).toEqualTypeOf<Coroutine<number>>();
  expectTypeOf(timers.waitFor(timers.sleep(1, "x"), 10)).toEqualTypeOf<Coroutine<string>>();
  expectTypeOf(timers.sleep(1)).toEqualTypeOf<Coroutine<void>>();
});

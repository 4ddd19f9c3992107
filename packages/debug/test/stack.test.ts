import { expect, test } from "vitest";
import { coroutineFrame, frameFunction, frameLocation, shortenPath, userFrame } from "../src/stack.js";

const stack = [
  "Error",
  "    at captureStack (/home/dev/loop/packages/core/src/handle.ts:101:17)",
  "    at FutureIterator.next (/home/dev/loop/packages/core/src/future.ts:343:70)",
  "    at sleepFor (/home/dev/loop/packages/timers/src/sleep.ts:40:10)",
  "    at sleepFor.next (<anonymous>)",
  "    at fetchOne (file:///srv/app/src/fetch.ts:4:5)",
  "    at fetchOne.next (<anonymous>)",
  "    at main (file:///srv/app/src/main.ts:12:7)",
  "    at main.next (<anonymous>)",
  "    at Task._run (/home/dev/loop/packages/core/src/task.ts:199:30)",
  "    at EventLoop._runReadyCallbacks (/home/dev/loop/packages/core/src/loop.ts:206:42)",
].join("\n");

test("the user's frame is the first one outside @loop and the engine", () => {
  expect(userFrame(stack)).toBe("fetchOne (file:///srv/app/src/fetch.ts:4:5)");
  expect(userFrame(undefined)).toBeUndefined();
  expect(userFrame("Error\n    at Task._run (/x/packages/core/src/task.ts:1:1)")).toBeUndefined();
});

test("the coroutine is the outermost generator frame that Task._run resumed", () => {
  expect(coroutineFrame(stack)).toBe("main (file:///srv/app/src/main.ts:12:7)");
  expect(coroutineFrame("Error\n    at f (/a.ts:1:1)")).toBeUndefined();
});

test("frames split into function and location", () => {
  expect(frameFunction("main (file:///srv/app/src/main.ts:12:7)")).toBe("main");
  expect(frameFunction("file:///srv/app/src/main.ts:12:7")).toBeUndefined();
  expect(frameLocation("main (file:///srv/app/src/main.ts:12:7)")).toBe("/srv/app/src/main.ts:12:7");
  expect(shortenPath(`${process.cwd()}/src/x.ts:1:2`)).toBe("src/x.ts:1:2");
});

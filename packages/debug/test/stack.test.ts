import type { StackFrame } from "@loop/core";
import { expect, test } from "vitest";
import { frameDescription, runningAt, shortenPath } from "../src/stack.js";

const main: StackFrame = {
  functionName: "main",
  location: `file://${process.cwd()}/src/main.ts:12:7`,
  file: `file://${process.cwd()}/src/main.ts`,
  native: false,
  text: `main (file://${process.cwd()}/src/main.ts:12:7)`,
};

test("a frame shows its function and its location relative to the working directory", () => {
  expect(frameDescription(main)).toBe("main (src/main.ts:12:7)");
  expect(frameDescription({ ...main, functionName: null })).toBe("src/main.ts:12:7");
  expect(runningAt(main)).toBe("main running at src/main.ts:12:7");
  expect(runningAt({ ...main, functionName: null })).toBe("<anonymous> running at src/main.ts:12:7");
});

test("paths outside the working directory stay whole", () => {
  expect(shortenPath(`${process.cwd()}/src/x.ts:1:2`)).toBe("src/x.ts:1:2");
  expect(shortenPath("file:///srv/app/src/x.ts:1:2")).toBe("/srv/app/src/x.ts:1:2");
});

test("a frame without a location shows its text, and a sibling directory sharing the working directory's prefix stays whole", () => {
  const native: StackFrame = { functionName: "next", location: null, file: null, native: true, text: "native" };
  expect(frameDescription(native)).toBe("next (native)");
  expect(runningAt({ ...native, functionName: null })).toBe("<anonymous> running at native");
  expect(shortenPath(`${process.cwd()}-old/src/x.ts:1:2`)).toBe(`${process.cwd()}-old/src/x.ts:1:2`);
  expect(shortenPath(`file://${process.cwd()}/a.ts:1:2`)).toBe("a.ts:1:2");
});

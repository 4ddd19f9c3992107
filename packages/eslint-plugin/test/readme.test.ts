import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";
import { checkSnippet } from "../examples/check-file.js";
import { PROGRAM_TIMEOUT } from "./rule-tester.js";

test("the README's example flags a floating coroutine and a yield without star", async () => {
  const root = fileURLToPath(new URL("./fixtures", import.meta.url));
  const code = [
    'import type { Coroutine } from "@loop/core";',
    "function* fetchOne(): Coroutine<string> { yield; return 'x'; }",
    "export function* main(): Coroutine<void> {",
    "  fetchOne();",
    "  yield fetchOne();",
    "}",
  ].join("\n");
  expect(await checkSnippet(code, root)).toEqual(["4: @loop/no-floating-coroutine", "5: @loop/no-yield-without-star"]);
}, PROGRAM_TIMEOUT);

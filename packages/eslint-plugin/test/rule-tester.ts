import { RuleTester } from "@typescript-eslint/rule-tester";
import { fileURLToPath } from "node:url";
import { afterAll, describe, it } from "vitest";

RuleTester.afterAll = afterAll;
RuleTester.describe = describe;
RuleTester.it = it;
RuleTester.itOnly = it.only;

/** The fixture project the type-aware cases are checked in (real @loop/core types). */
export const fixtures = fileURLToPath(new URL("./fixtures", import.meta.url));

/** A RuleTester with type information: every case is `fixtures/file.ts`. */
export function typedTester(): RuleTester {
  return new RuleTester({
    languageOptions: {
      parserOptions: {
        project: "./tsconfig.json",
        tsconfigRootDir: fixtures,
      },
    },
  });
}

/** The imports most cases need, as a prefix. */
export const imports = `import { createTask, ensureFuture, getRunningLoop, run, taskGroup, CancelledError, type Coroutine } from "@loop/core";\n`;

import { RuleTester } from "@typescript-eslint/rule-tester";
import { fileURLToPath } from "node:url";
import { afterAll, describe, it } from "vitest";

/**
 * A type-aware test builds a TypeScript program (the fixture project with @loop/core's
 * sources) before its first case: seconds on a busy machine. Each test says so itself, so
 * that any config running it (`vitest.mutation.config.ts` among them) allows the time.
 */
export const TYPED_TEST_TIMEOUT = 60_000;

RuleTester.afterAll = afterAll;
RuleTester.describe = describe;
RuleTester.it = (name, body) => it(name, body, TYPED_TEST_TIMEOUT);
RuleTester.itOnly = (name, body) => it.only(name, body, TYPED_TEST_TIMEOUT);

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

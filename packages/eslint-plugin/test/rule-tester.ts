import { RuleTester } from "@typescript-eslint/rule-tester";
import { fileURLToPath } from "node:url";
import { afterAll, describe, it } from "vitest";

/**
 * A case's timeout, set here rather than only in vitest.config.ts: Stryker's Vitest config
 * does not read the package's, and the first case of a file builds a TypeScript program,
 * which takes more than Vitest's default 5 s on a busy machine.
 */
export const PROGRAM_TIMEOUT = 60_000;

RuleTester.afterAll = afterAll;
RuleTester.describe = describe;
RuleTester.it = (name: string, fn: () => void) => it(name, fn, PROGRAM_TIMEOUT);
RuleTester.itOnly = (name: string, fn: () => void) => it.only(name, fn, PROGRAM_TIMEOUT);

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

import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ESLint, type Linter } from "eslint";
import tsParser from "@typescript-eslint/parser";
import { describe, expect, test } from "vitest";
import loop from "../src/index.js";
import { PROGRAM_TIMEOUT } from "./rule-tester.js";

/**
 * `test/mistakes/` holds one file per mistake: the newcomer mistakes the rules exist for,
 * and the ones found in this repository's own history (the README's example and the demo's
 * flaky-network client swallowed cancellations). Each file is named after the rule that
 * must flag it (`<rule>.ts` or `<rule>-<case>.ts`), and no other @loop rule may fire.
 */
const folder = fileURLToPath(new URL("./mistakes", import.meta.url));
const files = readdirSync(folder).filter((f) => f.endsWith(".ts"));
const rules = Object.keys(loop.rules);

const eslint = new ESLint({
  cwd: folder,
  overrideConfigFile: true,
  overrideConfig: [
    {
      files: ["**/*.ts"],
      languageOptions: { parser: tsParser, parserOptions: { project: "./tsconfig.json", tsconfigRootDir: folder } },
    },
    loop.configs.strict as Linter.Config,
  ],
});

describe("the mistakes folder", () => {
  test("has a file for every rule", () => {
    for (const rule of rules) expect(files.some((f) => f === `${rule}.ts` || f.startsWith(`${rule}-`))).toBe(true);
  });

  test.each(files)("%s is flagged by the rule it is named after, and only by it", async (file) => {
    const expected = rules.find((rule) => file === `${rule}.ts` || file.startsWith(`${rule}-`));
    expect(expected).toBeDefined();
    const [result] = await eslint.lintFiles([`${folder}/${file}`]);
    const fatal = result?.messages.filter((m) => m.fatal) ?? [];
    expect(fatal).toEqual([]);
    const fired = new Set(result?.messages.map((m) => m.ruleId));
    expect([...fired]).toEqual([`@loop/${expected}`]);
  }, PROGRAM_TIMEOUT);
});

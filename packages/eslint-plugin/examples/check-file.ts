/**
 * The README's example: lint a snippet with the plugin's `recommended` config from code
 * (`ESLint` is what editors and `eslint .` use underneath). Run by `test/readme.test.ts`.
 */
import { ESLint, type Linter } from "eslint";
import tsParser from "@typescript-eslint/parser";
import loop from "@loop/eslint-plugin";

export async function checkSnippet(code: string, tsconfigRootDir: string): Promise<string[]> {
  const eslint = new ESLint({
    cwd: tsconfigRootDir,
    overrideConfigFile: true,
    overrideConfig: [
      {
        files: ["**/*.ts"],
        languageOptions: { parser: tsParser, parserOptions: { projectService: true, tsconfigRootDir } },
      },
      loop.configs.recommended as Linter.Config,
    ],
  });
  const [result] = await eslint.lintText(code, { filePath: `${tsconfigRootDir}/file.ts` });
  return (result?.messages ?? []).map((m) => `${m.line}: ${m.ruleId}`);
}

/**
 * @loop/eslint-plugin — the mistakes generator coroutines make easy, caught while typing:
 * a coroutine called and never run, `yield` where `yield*` was meant, Promises and
 * blocking calls inside coroutines, and `catch` blocks that swallow cancellation.
 *
 * @example
 * // eslint.config.js
 * import loop from "@loop/eslint-plugin";
 * import tseslint from "typescript-eslint";
 * export default [
 *   ...tseslint.configs.recommended,
 *   { languageOptions: { parserOptions: { projectService: true } } },
 *   loop.configs.recommended,
 * ];
 */
import type { TSESLint } from "@typescript-eslint/utils";
import { noAwaitInCoroutine } from "./rules/no-await-in-coroutine.js";
import { noBlockingInCoroutine } from "./rules/no-blocking-in-coroutine.js";
import { noFloatingCoroutine } from "./rules/no-floating-coroutine.js";
import { noPromiseInCoroutine } from "./rules/no-promise-in-coroutine.js";
import { noSwallowedCancel } from "./rules/no-swallowed-cancel.js";
import { noYieldWithoutStar } from "./rules/no-yield-without-star.js";
import { preferTaskGroup } from "./rules/prefer-task-group.js";

const VERSION = "0.1.0";

/** Every rule, by name (without the `@loop/` prefix). */
export const rules = {
  "no-floating-coroutine": noFloatingCoroutine,
  "no-yield-without-star": noYieldWithoutStar,
  "no-promise-in-coroutine": noPromiseInCoroutine,
  "no-await-in-coroutine": noAwaitInCoroutine,
  "no-swallowed-cancel": noSwallowedCancel,
  "no-blocking-in-coroutine": noBlockingInCoroutine,
  "prefer-task-group": preferTaskGroup,
} satisfies Record<string, TSESLint.RuleModule<string, readonly unknown[]>>;

/**
 * The name of one of the plugin's rules, without the `@loop/` prefix that ESLint
 * configs put before it (`"no-floating-coroutine"`, `"no-swallowed-cancel"`, ...).
 */
export type RuleName = keyof typeof rules;

/** The rules that need type information (`parserOptions.projectService`). */
export const typeAwareRules: readonly RuleName[] = ["no-floating-coroutine", "no-promise-in-coroutine"];

/** The plugin object: its name and version, its rules, and its two flat configs. */
interface Plugin {
  meta: { name: string; version: string };
  rules: typeof rules;
  configs: { recommended: TSESLint.FlatConfig.Config; strict: TSESLint.FlatConfig.Config };
}

/**
 * The plugin, as ESLint's flat config takes it: `meta` (name and version), `rules`, and
 * `configs.recommended` and `configs.strict`, ready-made flat configs that register the
 * plugin under `@loop` and set the level of each rule (`strict` adds `prefer-task-group`).
 * The type-aware rules also need `parserOptions.projectService` (see `typeAwareRules`).
 */
const plugin: Plugin = {
  meta: { name: "@loop/eslint-plugin", version: VERSION },
  rules,
  configs: {} as Plugin["configs"],
};

function config(name: string, level: Partial<Record<RuleName, "error" | "warn" | "off">>): TSESLint.FlatConfig.Config {
  const ruleLevels: Record<string, "error" | "warn" | "off"> = {};
  for (const [rule, value] of Object.entries(level)) ruleLevels[`@loop/${rule}`] = value;
  return { name: `@loop/${name}`, plugins: { "@loop": plugin as unknown as TSESLint.FlatConfig.Plugin }, rules: ruleLevels };
}

/** Every rule that has no false positives in ordinary code; `prefer-task-group` is left to `strict`. */
const recommendedLevels: Record<RuleName, "error" | "off"> = {
  "no-floating-coroutine": "error",
  "no-yield-without-star": "error",
  "no-promise-in-coroutine": "error",
  "no-await-in-coroutine": "error",
  "no-swallowed-cancel": "error",
  "no-blocking-in-coroutine": "error",
  "prefer-task-group": "off",
};
plugin.configs.recommended = config("recommended", recommendedLevels);

/** `recommended`, plus structured concurrency: no task without an owner. */
plugin.configs.strict = config("strict", { ...recommendedLevels, "prefer-task-group": "error" });

export default plugin;

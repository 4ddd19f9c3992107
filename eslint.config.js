// @ts-check
import js from "@eslint/js";
import { defineConfig, globalIgnores } from "eslint/config";
import globals from "globals";
import tseslint from "typescript-eslint";

// Non-type-checked rules on purpose: lint stays fast and needs no build. `pnpm typecheck`
// is where types are checked.
export default defineConfig(
  globalIgnores([
    "**/dist/**",
    "**/coverage/**",
    "**/.turbo/**",
    "**/test-artifacts/**",
    "**/node_modules/**",
    // Generated: the API reference site (pnpm docs:build) and the Node.js binaries CI caches.
    "docs-site/**",
    ".cache/**",
  ]),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: "module" },
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        {
          argsIgnorePattern: "^_",
          varsIgnorePattern: "^_",
          caughtErrorsIgnorePattern: "^_",
          destructuredArrayIgnorePattern: "^_",
        },
      ],
      // Coroutines are generator functions; one that never suspends is still a coroutine.
      "require-yield": "off",
      "@typescript-eslint/no-non-null-assertion": "warn",
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["@loop/*/*", "!@loop/*/package.json"],
              message: "No deep imports across packages: import from the package entry point.",
            },
          ],
        },
      ],
    },
  },
  {
    // Core runs in browsers (docs/design.md#time-errors-and-other-fixed-details), so no Node built-ins there.
    files: ["packages/core/src/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["node:*"],
              message: "@loop/core must not import Node built-ins (it runs in browsers).",
            },
            { group: ["@loop/*"], message: "@loop/core depends on nothing." },
          ],
          paths: [
            "assert",
            "async_hooks",
            "buffer",
            "child_process",
            "crypto",
            "events",
            "fs",
            "net",
            "os",
            "path",
            "perf_hooks",
            "process",
            "stream",
            "timers",
            "tls",
            "url",
            "util",
            "worker_threads",
          ].map((name) => ({ name, message: "@loop/core must not import Node built-ins." })),
        },
      ],
    },
  },
  {
    files: ["**/test/**/*.ts", "tests/**/*.ts", "**/*.test.ts"],
    rules: { "@typescript-eslint/no-non-null-assertion": "off" },
  },
  {
    files: [
      "**/*.js",
      "**/*.mjs",
      "**/*.cjs",
      "scripts/**",
      "bench/**",
      "**/*.config.ts",
      "tests/**",
    ],
    languageOptions: { globals: { ...globals.node } },
  },
);

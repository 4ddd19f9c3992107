// @ts-check
import js from "@eslint/js";
import { defineConfig, globalIgnores } from "eslint/config";
import globals from "globals";
import tseslint from "typescript-eslint";
import loop from "@loop/eslint-plugin";
import { createProgram } from "@typescript-eslint/parser";
import ts from "typescript";

// The TypeScript projects that hold each package's sources and tests: the type-aware rules
// of @loop/eslint-plugin read types from them.
const typedProjects = ["tsconfig.eslint.json"];

// For a single `eslint` run (the CLI without --fix, or CI: typescript-eslint's own test)
// the program is built here rather than by typescript-eslint, which as of 8.74 builds it
// parsing every JSDoc comment: the rules read types, never documentation, and JSDoc is
// needed only in JavaScript files, where it carries types. About a sixteenth of the run's
// CPU time (packages/eslint-plugin/README.md, "Performance"). An editor keeps `project`,
// whose watch program follows edits; --fix too, since fixing changes files under the program;
// --cache and --print-config too, since they serialize the config, and a Program cannot be.
const singleRun =
  (process.env.CI === "true" ||
    /node_modules[\\/](\.bin[\\/]eslint|eslint[\\/]bin[\\/]eslint\.js)$/.test(
      process.argv[1] ?? "",
    )) &&
  !process.argv.some(
    (arg) => arg.startsWith("--fix") || arg === "--cache" || arg === "--print-config",
  );
/** Built on first use, so that a run linting no TypeScript builds none. */
const singleRunPrograms = new Proxy(/** @type {ts.Program[]} */ ([]), {
  get(programs, key, receiver) {
    if (programs.length === 0) {
      programs.push(
        createProgram(typedProjects[0], import.meta.dirname, ts.JSDocParsingMode.ParseForTypeInfo),
      );
    }
    return Reflect.get(programs, key, receiver);
  },
});
const typedParserOptions = singleRun
  ? { programs: singleRunPrograms }
  : {
      project: typedProjects,
      tsconfigRootDir: import.meta.dirname,
      jsDocParsingMode: /** @type {const} */ ("type-info"),
    };

// typescript-eslint's rules stay non-type-checked on purpose (`pnpm typecheck` is where
// types are checked); @loop/eslint-plugin's coroutine rules are on everywhere, and its
// type-aware ones read the packages' own TypeScript projects.
export default defineConfig(
  globalIgnores([
    "**/dist/**",
    "**/coverage/**",
    "**/.turbo/**",
    "**/test-artifacts/**",
    "**/node_modules/**",
    // @loop/eslint-plugin's test inputs: mistakes on purpose, linted by its own tests.
    "packages/eslint-plugin/test/mistakes/**",
    // Generated: the API reference site (pnpm docs:build) and the Node.js binaries CI caches.
    "docs-site/**",
    ".cache/**",
    // Mutation testing (pnpm test:mutation): its reports and Stryker's copy of the repository.
    "reports/**",
    ".stryker-tmp/**",
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
    files: ["**/*.ts"],
    ignores: ["packages/eslint-plugin/test/fixtures/**"],
    languageOptions: {
      parserOptions: typedParserOptions,
    },
    ...loop.configs.recommended,
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

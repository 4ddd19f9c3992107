import { defineConfig } from "vitest/config";
import { sourceConditions } from "./vitest.shared.ts";

// `pnpm exec vitest run` (what `npm test` runs) runs every project below; `--project core`
// picks one. Coverage is opt-in: `pnpm coverage`.
export default defineConfig({
  test: {
    passWithNoTests: true,
    projects: [
      "packages/*",
      // @loop/selector's tests again on its per-descriptor uv_poll backend.
      "packages/selector/vitest.uv-poll.config.ts",
      // @loop/process's tests again, on SelectorPoller's native processes driver.
      "packages/process/vitest.selector.config.ts",
      "apps/*",
      {
        // Packs every published package, installs the tarballs with plain npm into an
        // empty folder outside the workspace and imports them. Needs `pnpm build` first.
        ssr: { resolve: { conditions: sourceConditions } },
        test: {
          name: "pack",
          include: ["tests/**/*.test.ts"],
          environment: "node",
          testTimeout: 240_000,
          hookTimeout: 240_000,
        },
      },
    ],
    coverage: {
      provider: "v8",
      include: ["packages/*/src/**/*.ts", "apps/*/src/**/*.ts"],
      exclude: ["**/*.d.ts", "**/test/**"],
      reporter: ["text-summary", "html", "lcov"],
      reportsDirectory: "coverage",
    },
  },
});

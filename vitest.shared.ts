import { defineProject } from "vitest/config";

/**
 * "@loop/source" comes first so that a test importing another workspace package gets
 * that package's TypeScript sources (exports["."]["@loop/source"]): no build step, and
 * coverage maps to src/. The rest are Vite's defaults, which setting the option replaces.
 */
export const sourceConditions = ["@loop/source", "module", "node", "development|production"];
const clientConditions = ["@loop/source", "module", "browser", "development|production"];

/** The Vitest project of one workspace package; `name` is its directory name. */
export function loopProject(name: string) {
  return defineProject({
    resolve: { conditions: clientConditions },
    ssr: { resolve: { conditions: sourceConditions } },
    test: {
      name,
      include: ["test/**/*.test.ts"],
      environment: "node",
    },
  });
}

import { defineProject, mergeConfig } from "vitest/config";
import { loopProject } from "../../vitest.shared.ts";

// Type-aware rule tests build a TypeScript program for their first case: give it time on a busy machine.
export default mergeConfig(loopProject("eslint-plugin"), defineProject({ test: { testTimeout: 60_000 } }));

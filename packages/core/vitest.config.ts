import { defineProject, mergeConfig } from "vitest/config";
import { loopProject } from "../../vitest.shared.ts";

// --expose-gc: the tests of "the loop holds pending tasks strongly" and "Task exception was
// never retrieved" force garbage collections with globalThis.gc().
export default mergeConfig(
  loopProject("core"),
  defineProject({ test: { execArgv: ["--expose-gc"] } }),
);

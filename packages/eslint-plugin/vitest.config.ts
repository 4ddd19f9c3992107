import { loopProject } from "../../vitest.shared.ts";

// Type-aware tests give themselves time to build a TypeScript program (test/rule-tester.ts).
export default loopProject("eslint-plugin");

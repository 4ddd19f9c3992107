import { fileURLToPath } from "node:url";
import { loopProject } from "../../vitest.shared.ts";

/**
 * This package's tests once more, with every `run()` on a `SelectorPoller`: its
 * `processes` driver (posix_spawn, pidfds, pipes on epoll) must do all that the Node
 * driver does. `pnpm exec vitest run --project process-selector`.
 */
const project = loopProject("process-selector");
project.resolve = { ...project.resolve, alias: [{ find: /^@loop\/core$/, replacement: fileURLToPath(new URL("test/selector-core.ts", import.meta.url)) }] };
project.test = {
  ...project.test,
  // The fake processes of @loop/testing and the export list do not depend on the poller;
  // selector-driver.test.ts names its pollers itself.
  exclude: ["test/fake-processes.test.ts", "test/surface.test.ts", "test/selector-driver.test.ts"],
  env: { LOOP_PROCESS_DRIVER: "selector" },
};

export default project;

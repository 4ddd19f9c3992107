import { configDefaults } from "vitest/config";
import { loopProject } from "../../vitest.shared.ts";

// The selector's tests, @loop/net's stream suite among them, once more on the portable
// backend: a libuv uv_poll_t per descriptor instead of the private epoll set
// (LOOP_SELECTOR_BACKEND, read when a thread's first SelectorPoller is made). The files
// that never reach a backend run once, in the "selector" project.
const project = loopProject("selector");
project.test = {
  ...project.test,
  name: "selector-uv_poll",
  setupFiles: ["test/setup.ts"],
  env: { LOOP_SELECTOR_BACKEND: "uv_poll" },
  exclude: [...configDefaults.exclude, "test/fallback.test.ts", "test/surface.test.ts", "test/readme.test.ts"],
};

export default project;

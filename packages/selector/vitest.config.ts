import { loopProject } from "../../vitest.shared.ts";

const project = loopProject("selector");
project.test = { ...project.test, setupFiles: ["test/setup.ts"] };

export default project;

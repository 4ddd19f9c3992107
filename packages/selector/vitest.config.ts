import { loopProject } from "../../vitest.shared.ts";

export default loopProject("selector");

/**
 * The Node.js versions the packages claim (`engines`) are the ones CI tests (.ci/run: the
 * Node.js it starts with, 20, then the majors it fetches) and the ones the README names.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { root, workspacePackages } from "../scripts/publishable.mjs";

test("engines, CI and the README agree on Node.js 20, 22 and 24", () => {
  const ci = readFileSync(join(root, ".ci", "run"), "utf8");
  const extra = /extra_majors="\$\{LOOP_CI_NODE_MAJORS-([\d ]+)\}"/.exec(ci)?.[1]?.split(" ").map(Number);
  const majors = [20, ...(extra ?? [])];
  expect(majors).toEqual([20, 22, 24]);
  const range = majors.map((m) => `^${m}.0.0`).join(" || ");
  const rootManifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { engines: { node: string } };
  expect(rootManifest.engines.node).toBe(range);
  for (const pkg of workspacePackages()) {
    const node = (pkg.manifest as { engines?: { node?: string } }).engines?.node;
    if (node !== undefined || !pkg.private) expect(node, `${pkg.name} engines.node`).toBe(range);
  }
  expect(readFileSync(join(root, "README.md"), "utf8")).toContain("Node.js 20, 22 and 24");
});

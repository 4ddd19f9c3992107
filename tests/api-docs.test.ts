/**
 * Every public name has JSDoc: API Extractor writes an `ae-undocumented` line into a
 * package's API report (api/*.public.api.md, `pnpm api:update`) for each public name or
 * member without a doc comment, and this test lists them.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { publishablePackages } from "../scripts/publishable.mjs";

it.each(publishablePackages().map((p) => [p.name, p] as const))("%s documents every public name", (name, pkg) => {
  const short = name.replace(/^@[^/]+\//, "");
  const report = join(pkg.dir, "api", `${short}.public.api.md`);
  expect(existsSync(report), `${report} is missing: run pnpm api:update`).toBe(true);
  const undocumented = readFileSync(report, "utf8")
    .split("\n")
    .filter((line) => line.includes("(ae-undocumented)"))
    .map((line) => line.replace(/^\/\/ /, `${short}/`));
  expect(undocumented).toEqual([]);
});

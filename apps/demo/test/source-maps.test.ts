import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, test } from "vitest";

const demo = fileURLToPath(new URL("..", import.meta.url));
const repo = fileURLToPath(new URL("../../..", import.meta.url));

test("every way of starting the built demo turns source maps on", () => {
  expect(readFileSync(`${demo}src/main.ts`, "utf8").split("\n")[0]).toBe("#!/usr/bin/env -S node --enable-source-maps");
  const pkg = JSON.parse(readFileSync(`${demo}package.json`, "utf8")) as { scripts: Record<string, string> };
  expect(pkg.scripts["start"]).toBe("node --enable-source-maps dist/main.js");
  expect(readFileSync(`${repo}scripts/quickstart.mjs`, "utf8")).toContain('["--enable-source-maps", join(root, "apps/demo/dist/main.js")');
});

test("the built demo's stack frames name the TypeScript sources, not dist/*.js", async () => {
  if (!existsSync(`${demo}dist/main.js`)) throw new Error("apps/demo/dist/main.js is missing: run `pnpm build` first");
  // In debug mode the tour's task tree says where each task waits, read from stack frames;
  // without source maps they would say dist/scenarios/debug.js.
  const { stdout } = await promisify(execFile)(process.execPath, ["--enable-source-maps", "dist/main.js", "--debug", "debug"], {
    cwd: demo,
    encoding: "utf8",
  });
  expect(stdout).toMatch(/waiting on sleep\(300\) at fetchOne \(src\/scenarios\/debug\.ts:\d+:\d+\)/);
  expect(stdout).not.toMatch(/dist\/scenarios\/debug\.js/);
}, 60_000);

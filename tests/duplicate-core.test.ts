/**
 * Two versions of @loop/core installed side by side, as a version skew between @loop
 * packages would install them: core is packed, a second tarball with another version is
 * made from it, and plain npm installs both (one under an alias) into an empty folder. A
 * program that loads both must fail at once with the error that names both copies and the
 * fix (packages/core/src/single-copy.ts). Needs `pnpm build` first.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { assertBuilt, publishablePackages } from "../scripts/publishable.mjs";
import { sh, shFailing } from "./shell.ts";

const core = publishablePackages().find((p) => p.name === "@loop/core")!;
const work = mkdtempSync(join(tmpdir(), "loop-two-cores-"));

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

test("a program that loads two versions of @loop/core fails at load, naming both and the fix", async () => {
  assertBuilt([core]);
  const first = core.version;
  const [major, minor, patch] = first.split(/[.-]/).map(Number) as [number, number, number];
  const second = `${major}.${minor}.${patch + 1}`;

  // The first tarball as pnpm publishes it; the second made from it with the next version.
  await sh("pnpm", ["pack", "--pack-destination", work], core.dir);
  const tarball = readdirSync(work).find((f) => f.endsWith(".tgz"))!;
  const unpacked = join(work, "second");
  mkdirSync(unpacked);
  await sh("tar", ["xzf", join(work, tarball), "-C", unpacked], work);
  const pkgDir = join(unpacked, "package");
  const manifest = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8")) as { version: string };
  writeFileSync(join(pkgDir, "package.json"), JSON.stringify({ ...manifest, version: second }, null, 2));
  const versionJs = join(pkgDir, "dist", "version.js");
  const before = readFileSync(versionJs, "utf8");
  expect(before).toContain(`"${first}"`);
  writeFileSync(versionJs, before.replace(`"${first}"`, `"${second}"`));
  const secondTarball = (await sh("npm", ["pack", "--pack-destination", work, "--loglevel=error"], pkgDir)).trim().split("\n").at(-1)!;

  const app = join(work, "app");
  mkdirSync(app);
  writeFileSync(
    join(app, "package.json"),
    JSON.stringify({
      name: "app",
      private: true,
      type: "module",
      dependencies: { "@loop/core": `file:../${tarball}`, "other-core": `file:../${secondTarball}` },
    }),
  );
  await sh("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], app);
  writeFileSync(join(app, "main.mjs"), 'await import("@loop/core");\nawait import("other-core");\nconsole.log("both loaded");\n');

  const result = await shFailing(process.execPath, ["main.mjs"], app);
  expect(result.code).toBe(1);
  expect(result.stdout).not.toContain("both loaded");
  const message = /^Error: (.*)$/m.exec(result.stderr)?.[1];
  expect(message).toBe(
    `@loop/core is loaded twice in this process: ${first} from ` +
      `file://${app}/node_modules/@loop/core/dist/state.js and ${second} from ` +
      `file://${app}/node_modules/other-core/dist/state.js. Each copy has its own event loop ` +
      "state and its own Future and Task classes, so tasks, futures and getRunningLoop() would " +
      "not work across the two. Make every @loop package share one core: align the @loop " +
      "package versions so that their peer ranges of @loop/core overlap, then run `npm dedupe` " +
      "(or `pnpm dedupe`); `npm ls @loop/core` shows which package brings which copy.",
  );

  // One copy alone loads and runs.
  writeFileSync(join(app, "one.mjs"), 'const { run } = await import("other-core");\nconsole.log(await run(function* () { yield; return "ran"; }));\n');
  expect((await sh(process.execPath, ["one.mjs"], app)).trim()).toBe("ran");
}, 240_000);

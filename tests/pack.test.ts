/**
 * What users install is what we test: every published package is packed with pnpm (which
 * rewrites `workspace:^` to real versions), installed with plain npm into an empty folder
 * outside the workspace together with the tarballs of its @loop dependencies, and
 * imported from a plain .mjs file. Third-party dependencies (piscina) come from the
 * registry. Needs `pnpm build` first; `npm test` builds before testing.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, loopClosure, publishablePackages } from "../scripts/publishable.mjs";

/**
 * Names each package must export once installed. Placeholders check only that the import
 * succeeds; add each package's public names here as it is written (SPEC.md §2).
 */
const expectedExports: Record<string, string[]> = {
  "@loop/core": ["run", "EventLoop"],
};
/** Names that must not be exported (they belong to another package). */
const forbiddenExports: Record<string, string[]> = {
  "@loop/core": ["sleep"],
};

const packages = publishablePackages();
const isWindows = process.platform === "win32";
const keep = process.env["LOOP_KEEP_PACK_DIR"] === "1";
let work = "";
const tarballs = new Map<string, string>();

/** Environment for npm in the consumer folder: nothing inherited from the workspace's pnpm/npm run. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    const k = key.toLowerCase();
    if (
      k.startsWith("npm_") &&
      !/^npm_config_(registry|cache|userconfig|.*proxy|cafile|strict_ssl)$/.test(k)
    )
      continue;
    if (k.startsWith("pnpm_") || k === "node_options" || k.startsWith("vitest")) continue;
    env[key] = value;
  }
  return env;
}

const execFileAsync = promisify(execFile);

/** Runs a command (asynchronously, so that the packages install in parallel); returns stdout. */
async function sh(cmd: string, args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await execFileAsync(cmd, args, {
      cwd,
      env: cleanEnv(),
      encoding: "utf8",
      shell: isWindows,
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `${cmd} ${args.join(" ")} failed in ${cwd}\n${e.stdout ?? ""}\n${e.stderr ?? e.message}`,
      {
        cause: error,
      },
    );
  }
}

beforeAll(async () => {
  assertBuilt(packages);
  work = mkdtempSync(join(tmpdir(), "loop-pack-"));
  await Promise.all(
    packages.map(async (pkg) => {
      const dest = join(work, "tarballs", pkg.name.replace("/", "-").replace("@", ""));
      mkdirSync(dest, { recursive: true });
      await sh("pnpm", ["pack", "--pack-destination", dest], pkg.dir);
      const [file] = readdirSync(dest).filter((f) => f.endsWith(".tgz"));
      if (file === undefined) throw new Error(`pnpm pack produced no tarball for ${pkg.name}`);
      tarballs.set(pkg.name, join(dest, file));
    }),
  );
});

afterAll(() => {
  if (work && !keep) rmSync(work, { recursive: true, force: true });
});

describe("published packages install and import with plain npm", () => {
  it.concurrent.each(packages.map((p) => [p.name, p] as const))("%s", async (name, pkg) => {
    const consumer = join(work, "consumers", name.replace("/", "-").replace("@", ""));
    mkdirSync(consumer, { recursive: true });
    writeFileSync(
      join(consumer, "package.json"),
      JSON.stringify(
        { name: "consumer", version: "0.0.0", private: true, type: "module" },
        null,
        2,
      ),
    );
    const needed = [name, ...loopClosure(name, packages)].map((n) => tarballs.get(n)!);
    await sh(
      "npm",
      ["install", "--no-audit", "--no-fund", "--loglevel=error", ...needed],
      consumer,
    );

    const expected = expectedExports[name] ?? [];
    const forbidden = forbiddenExports[name] ?? [];
    writeFileSync(
      join(consumer, "check.mjs"),
      `const m = await import(${JSON.stringify(name)});
const missing = ${JSON.stringify(expected)}.filter((n) => !(n in m));
const leaked = ${JSON.stringify(forbidden)}.filter((n) => n in m);
if (missing.length || leaked.length) {
  console.error(JSON.stringify({ missing, leaked, exports: Object.keys(m) }));
  process.exit(1);
}
console.log(JSON.stringify(Object.keys(m).sort()));
`,
    );
    const out = await sh(process.execPath, ["check.mjs"], consumer);
    const exported = JSON.parse(out.trim().split("\n").pop()!) as string[];
    expect(exported).toEqual(expect.arrayContaining(expected));
    expect(pkg.version).toMatch(/^\d+\.\d+\.\d+/);
  });
});

/**
 * Every published package's README: an install line that brings core along, a link into
 * the API reference, and a runnable example that runs. The example is the first ```ts
 * block after the install line; it runs as a user's program would, in a scratch folder
 * whose node_modules holds the @loop packages it imports (the workspace's sources, through
 * the @loop/source condition: no build needed), with `node --import tsx`.
 */
import { execFile } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { publishablePackages, root } from "../scripts/publishable.mjs";
import { cleanEnv } from "./shell.ts";

/** Where the reference site is published; typedoc.config.mjs says the same (hostedBaseUrl). */
const REFERENCE = "https://loop-dev.github.io/loop/";
const packages = publishablePackages();
const work = mkdtempSync(join(tmpdir(), "loop-readmes-"));
const tsx = import.meta.resolve("tsx");

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

/** The README's first ```sh block with an `npm install`, and the first ```ts block after it. */
function sections(readme: string): { install: string | undefined; example: string | undefined } {
  const install = /```sh\n(npm install [^\n]*)\n```/.exec(readme);
  if (!install) return { install: undefined, example: undefined };
  const after = readme.slice(install.index + install[0].length);
  const example = /```ts\n([\s\S]*?)```/.exec(after)?.[1];
  return { install: install[1], example };
}

describe("each package README", () => {
  it.concurrent.each(packages.map((p) => [p.name, p] as const))(
    "%s: install line, reference link, runnable example",
    async (name, pkg) => {
      const readme = readFileSync(join(pkg.dir, "README.md"), "utf8");
      const { install, example } = sections(readme);
      expect(
        install,
        `${name}/README.md needs \`npm install ${name} @loop/core\` in a sh block`,
      ).toBeDefined();
      const installed = install!
        .replace(/^npm install\s+/, "")
        .split(/\s+/)
        .filter((w) => !w.startsWith("-"));
      expect(installed).toContain(name);
      // A package built on core says to install it too: it is a peer dependency.
      if (
        (pkg.manifest as { peerDependencies?: Record<string, string> }).peerDependencies?.[
          "@loop/core"
        ] !== undefined
      ) {
        expect(installed).toContain("@loop/core");
      }

      const short = name.replace(/^@[^/]+\//, "");
      const links = [
        ...readme.matchAll(new RegExp(`\\]\\((${REFERENCE.replace(/[./]/g, "\\$&")}[^)#]*)`, "g")),
      ].map((m) => m[1]!);
      expect(links).toContain(`${REFERENCE}modules/_loop_${short}.html`);
      // When the site has been built (CI builds it first), every link lands on a page.
      const site = join(root, "docs-site");
      if (existsSync(join(site, "index.html"))) {
        for (const link of links)
          expect(existsSync(join(site, link.slice(REFERENCE.length) || "index.html")), link).toBe(
            true,
          );
      }

      // Its "Differences from asyncio" section, if it has one, is part of the guide of that name.
      if (readme.includes("\n## Differences from asyncio\n")) {
        expect(
          readme,
          `${name}/README.md: mark the body of "## Differences from asyncio" with <!-- #region asyncio-differences --> … <!-- #endregion asyncio-differences -->`,
        ).toMatch(
          /## Differences from asyncio\n<!-- #region asyncio-differences -->\n[\s\S]+<!-- #endregion asyncio-differences -->/,
        );
        expect(
          readFileSync(join(root, "docs", "asyncio-differences.md"), "utf8"),
          `docs/asyncio-differences.md must include ${name}'s section`,
        ).toContain(
          `{@include ../${pkg.dir.slice(root.length + 1)}/README.md#asyncio-differences}`,
        );
      }

      expect(
        example,
        `${name}/README.md needs a runnable ts example after its install line`,
      ).toBeDefined();
      const dir = join(work, short);
      mkdirSync(join(dir, "node_modules", "@loop"), { recursive: true });
      writeFileSync(
        join(dir, "package.json"),
        JSON.stringify({ name: `readme-${short}`, private: true, type: "module" }),
      );
      const imported = new Set(
        [...example!.matchAll(/from "(@loop\/[a-z-]+)"/g)].map((m) => m[1]!),
      );
      for (const dep of imported) {
        const target = packages.find((p) => p.name === dep);
        expect(
          target,
          `${name}'s example imports ${dep}, which is not a published package`,
        ).toBeDefined();
        symlinkSync(target!.dir, join(dir, "node_modules", dep), "dir");
      }
      writeFileSync(join(dir, "example.ts"), example!);
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ["--conditions=@loop/source", "--import", tsx, "example.ts"],
        {
          cwd: dir,
          env: cleanEnv(),
          encoding: "utf8",
          timeout: 60_000,
        },
      );
      expect(stdout.trim().length, `${name}'s example printed nothing`).toBeGreaterThan(0);
    },
    90_000,
  );
});

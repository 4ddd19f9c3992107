#!/usr/bin/env node
/**
 * The pinned public API of every published package, with API Extractor.
 *
 * For each package (found through the workspace list, so a new package is covered without
 * editing anything) it reads the built declarations (`dist/index.d.ts`) and
 *   - writes `dist/<name>.d.ts`: one declaration file with every `@internal` member
 *     removed. That is what the tarball publishes as its types (`publishConfig.exports`);
 *     inside the monorepo the packages keep building against the full `dist/index.d.ts`,
 *     so core's internals (`_ready`, `_enqueue`, ...) stay usable by its siblings;
 *   - compares the public surface with the checked-in report `api/<name>.public.api.md`.
 *
 *   node scripts/api.mjs            update the reports, except under CI (CI=true): check them
 *   node scripts/api.mjs --update   update the reports (`pnpm api:update`)
 *   node scripts/api.mjs --check    fail when a report is out of date (`pnpm api:check`)
 *   ... [package dir or name...]    only those packages
 *
 * Needs `pnpm build` first (`pnpm build` runs this after turbo). A package whose
 * declarations have not changed since its report and rollup were last written is skipped.
 */
import { Extractor, ExtractorConfig, ExtractorLogLevel } from "@microsoft/api-extractor";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { publishablePackages, root } from "./publishable.mjs";

const args = process.argv.slice(2);
const ci = process.env.CI !== undefined && process.env.CI !== "" && process.env.CI !== "false";
const mode = args.includes("--update") ? "update" : args.includes("--check") ? "check" : ci ? "check" : "update";
const selected = args.filter((a) => !a.startsWith("--"));

/** The unscoped name: `@loop/core` → `core`. */
const shortName = (/** @type {string} */ name) => name.replace(/^@[^/]+\//, "");

/** The rollup of a package's public types, relative to the package folder. */
export const rollupPath = (/** @type {string} */ name) => `dist/${shortName(name)}.d.ts`;
/** The checked-in report, relative to the package folder. */
export const reportPath = (/** @type {string} */ name) => `api/${shortName(name)}.public.api.md`;

/** Newest modification time of the .d.ts files under dist (the rollup excluded). */
function newestDeclaration(/** @type {string} */ dir, /** @type {string} */ rollup) {
  let newest = 0;
  const walk = (/** @type {string} */ d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith(".d.ts") && p !== rollup) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  walk(join(dir, "dist"));
  return newest;
}

const typescriptFolder = dirname(createRequire(join(root, "package.json")).resolve("typescript/package.json"));
let packages = publishablePackages();
if (selected.length > 0) {
  packages = packages.filter((p) => selected.some((s) => s === p.name || s === shortName(p.name) || resolve(s) === p.dir));
}
const temp = mkdtempSync(join(tmpdir(), "loop-api-"));
const stale = [];
const failed = [];
let skipped = 0;
try {
  for (const pkg of packages) {
    const entry = join(pkg.dir, "dist", "index.d.ts");
    if (!existsSync(entry)) {
      failed.push(`${pkg.name}: dist/index.d.ts is missing; run \`pnpm build\` first`);
      continue;
    }
    const rollup = join(pkg.dir, rollupPath(pkg.name));
    // The published types are dist/<name>.d.ts: a module src/<name>.ts would compile to the
    // same file, and the rollup and the module would overwrite each other.
    if (existsSync(join(pkg.dir, "src", `${shortName(pkg.name)}.ts`))) {
      failed.push(`${pkg.name}: src/${shortName(pkg.name)}.ts compiles to ${rollupPath(pkg.name)}, the published types' file: rename the module`);
      continue;
    }
    const report = join(pkg.dir, reportPath(pkg.name));
    // Nothing to do when neither the declarations nor the report changed since the last run
    // that found them in agreement (a report edited by hand or by a merge is compared again).
    const stamp = join(root, "node_modules", ".cache", "loop-api", `${shortName(pkg.name)}.ok`);
    if (existsSync(rollup) && existsSync(report) && existsSync(stamp)) {
      const agreed = statSync(stamp).mtimeMs;
      if (newestDeclaration(pkg.dir, rollup) <= agreed && statSync(report).mtimeMs <= agreed) {
        skipped++;
        continue;
      }
    }
    mkdirSync(dirname(report), { recursive: true });
    const config = ExtractorConfig.prepare({
      configObject: {
        projectFolder: pkg.dir,
        mainEntryPointFilePath: "<projectFolder>/dist/index.d.ts",
        compiler: { tsconfigFilePath: "<projectFolder>/tsconfig.json" },
        apiReport: {
          enabled: true,
          reportFolder: "<projectFolder>/api/",
          reportTempFolder: join(temp, shortName(pkg.name)),
          reportFileName: "<unscopedPackageName>",
          // Only what users can reach: internals change freely between releases.
          reportVariants: ["public"],
        },
        docModel: { enabled: false },
        dtsRollup: { enabled: true, publicTrimmedFilePath: `<projectFolder>/${rollupPath(pkg.name)}` },
        tsdocMetadata: { enabled: false },
        messages: {
          compilerMessageReporting: { default: { logLevel: ExtractorLogLevel.Warning } },
          // API hygiene findings (a type used but not exported, ...) are written into the
          // report, where a review sees them, instead of failing the build.
          extractorMessageReporting: {
            default: { logLevel: ExtractorLogLevel.None, addToApiReportFile: true },
            "ae-missing-release-tag": { logLevel: ExtractorLogLevel.None, addToApiReportFile: false },
          },
          tsdocMessageReporting: { default: { logLevel: ExtractorLogLevel.None } },
        },
      },
      configObjectFullPath: join(pkg.dir, "api-extractor.json"),
      packageJsonFullPath: join(pkg.dir, "package.json"),
    });
    const result = Extractor.invoke(config, {
      localBuild: mode === "update",
      typescriptCompilerFolder: typescriptFolder,
      messageCallback(message) {
        // Our own summary below says what changed and what to do.
        if (message.messageId.startsWith("console-api-report") || message.messageId === "console-preamble" ||
            message.messageId === "console-compiler-version-notice") {
          message.handled = true;
        }
      },
    });
    if (existsSync(rollup)) {
      // API Extractor leaves a comment where it removed an internal member; users do not need
      // to see the names of what they cannot use.
      const text = readFileSync(rollup, "utf8");
      writeFileSync(rollup, text.replace(/^[ \t]*\/\* Excluded from this release type: [^*]*\*\/\r?\n/gm, ""));
    }
    if (result.apiReportChanged) {
      if (mode === "check") stale.push(pkg.name);
      else console.log(`${pkg.name}: ${relative(root, report)} updated`);
    }
    if (!result.succeeded && !(mode === "check" && result.apiReportChanged && result.errorCount === 0)) {
      failed.push(`${pkg.name}: API Extractor reported ${result.errorCount} errors and ${result.warningCount} warnings`);
    } else if (!(mode === "check" && result.apiReportChanged)) {
      mkdirSync(dirname(stamp), { recursive: true });
      writeFileSync(stamp, `${new Date().toISOString()}\n`);
    }
  }
} finally {
  rmSync(temp, { recursive: true, force: true });
}
if (stale.length > 0) {
  console.error(
    `The public API of ${stale.join(", ")} changed and its report (api/*.public.api.md) was not updated.\n` +
      "Run `pnpm api:update`, look at the diff of the reports and commit them with the change.",
  );
}
for (const f of failed) console.error(f);
if (stale.length > 0 || failed.length > 0) process.exit(1);
console.log(`api: ${packages.length - skipped} reports ${mode === "check" ? "checked" : "written"}, ${skipped} unchanged`);

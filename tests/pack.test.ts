/**
 * What users install is what we test: every published package is packed with pnpm (which
 * rewrites `workspace:^` to real versions), installed with plain npm into an empty folder
 * outside the workspace together with the tarballs of its @loop dependencies, and
 * imported from a plain .mjs file. Third-party dependencies (piscina) come from the
 * registry. Needs `pnpm build` first; `npm test` builds before testing.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, loopClosure, publishablePackages, root } from "../scripts/publishable.mjs";
import { sh } from "./shell.ts";

/**
 * Names each package must export once installed. Placeholders check only that the import
 * succeeds; add each package's public names here as it is written (the README's package table).
 */
const expectedExports: Record<string, string[]> = {
  "@loop/core": ["run", "EventLoop", "Future", "Task", "createTask", "gather", "wait", "shield", "taskGroup", "ContextVar", "DefaultPoller"],
  "@loop/timers": ["sleep", "sleepUntil", "timeout", "timeoutAt", "waitFor", "interval"],
  "@loop/sync": ["Lock", "Event", "Condition", "Semaphore", "BoundedSemaphore", "Barrier", "Queue", "PriorityQueue", "LifoQueue"],
  "@loop/net": ["openConnection", "startServer", "openUnixConnection", "startUnixServer", "StreamReader", "StreamWriter", "Server"],
  "@loop/debug": ["dumpTasks", "formatTaskTree", "LoopMonitor", "startInspector"],
  "@loop/testing": ["runVirtual", "VirtualPoller", "DeadlockError", "MemoryNetwork"],
  "@loop/workers": ["runInWorker", "toThread", "runInExecutor", "WorkerPoolExecutor"],
  "@loop/eslint-plugin": ["default", "rules", "typeAwareRules"],
  "@loop/process": ["createSubprocessExec", "createSubprocessShell", "Process", "runProcess", "CalledProcessError", "PIPE", "STDOUT", "DEVNULL"],
  "@loop/selector": ["SelectorPoller", "addReader", "removeReader", "addWriter", "removeWriter", "selectorAvailable"],
};
/**
 * A few lines per package that use it for real, as a user would right after installing
 * it: they print what `expect` below compares with.
 */
const smoke: Record<string, { code: string; prints: string }> = {
  "@loop/core": {
    code: `const { run, gather } = m;
function* one(v) { yield; return v; }
console.log(JSON.stringify(await run(function* () { return yield* gather([one(1), one(2)]); })));`,
    prints: "[1,2]",
  },
  "@loop/timers": {
    code: `const { run } = await import("@loop/core");
console.log(await run(function* () { return yield* m.sleep(5, "slept"); }));`,
    prints: "slept",
  },
  "@loop/sync": {
    code: `const { run } = await import("@loop/core");
console.log(await run(function* () { const q = new m.Queue(1); yield* q.put("item"); return yield* q.get(); }));`,
    prints: "item",
  },
  "@loop/testing": {
    code: `const { getRunningLoop } = await import("@loop/core");
console.log(await m.runVirtual(function* () {
  const loop = getRunningLoop();
  const f = loop.createFuture();
  loop.callLater(3600000, () => f.setResult(loop.time()));
  return yield* f;
}));`,
    prints: "3600000",
  },
  "@loop/net": {
    code: `const { run } = await import("@loop/core");
console.log(await run(function* () {
  const server = yield* m.startServer(function* (reader, writer) {
    writer.write(yield* reader.readline());
    yield* writer.drain();
    writer.close();
  }, "127.0.0.1", 0);
  const [reader, writer] = yield* m.openConnection("127.0.0.1", server.address().port);
  writer.write("ping\\n");
  const line = new TextDecoder().decode(yield* reader.readline()).trim();
  writer.close();
  server.close();
  yield* server.waitClosed();
  return line;
}));`,
    prints: "ping",
  },
  "@loop/eslint-plugin": {
    // The syntactic rules need no TypeScript project: lint a snippet with eslint (a peer dependency).
    code: `const { ESLint } = await import("eslint");
const eslint = new ESLint({ overrideConfigFile: true, overrideConfig: [{ plugins: { "@loop": m.default }, rules: { "@loop/no-swallowed-cancel": "error" } }] });
const [result] = await eslint.lintText("function* main() { try { yield; } catch {} }");
console.log(result.messages.map((x) => x.ruleId).join(","));`,
    prints: "@loop/no-swallowed-cancel",
  },
  "@loop/process": {
    code: `const { run } = await import("@loop/core");
console.log(await run(function* () {
  const done = yield* m.runProcess("sort", [], { input: "b\\na\\n", captureStdout: true });
  return new TextDecoder().decode(done.stdout).split("\\n").join(",");
}));`,
    prints: "a,b,",
  },
  "@loop/selector": {
    // npm builds the addon from source on install (node-gyp); the echo then runs on raw sockets.
    code: `const { run } = await import("@loop/core");
const net = await import("@loop/net");
const poller = new m.SelectorPoller();
console.log(await run(function* () {
  const server = yield* net.startServer(function* (reader, writer) {
    writer.write(yield* reader.readline());
    yield* writer.drain();
    writer.close();
  }, "127.0.0.1", 0);
  const [reader, writer] = yield* net.openConnection("127.0.0.1", server.address().port);
  writer.write("ping\\n");
  const line = new TextDecoder().decode(yield* reader.readline()).trim();
  writer.close();
  server.close();
  yield* server.waitClosed();
  return line + (poller.native ? " on the native selector" : " on the fallback");
}, { poller }));`,
    prints: "ping on the native selector",
  },
  "@loop/workers": {
    code: `const { run } = await import("@loop/core");
console.log(await run(function* () { return yield* m.toThread((a, b) => a + b, 2, 3); }));`,
    prints: "5",
  },
};
/** Names that must not be exported (they belong to another package). */
const forbiddenExports: Record<string, string[]> = {
  "@loop/core": ["sleep"],
};

const packages = publishablePackages();
const tsc = createRequire(join(root, "package.json")).resolve("typescript/bin/tsc");
const keep = process.env["LOOP_KEEP_PACK_DIR"] === "1";
let work = "";
const tarballs = new Map<string, string>();

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

/**
 * Files a tarball may hold besides LICENSE, README.md, package.json, the compiled
 * JavaScript with its source maps and the one declaration file of public types: runtime
 * files that are not compiled, with the reason.
 */
const extraRuntimeFiles: Record<string, RegExp[]> = {
  // Plain JavaScript that piscina loads in every worker thread (see its header comment).
  "@loop/workers": [/^worker\/entry\.mjs$/],
  // The rule pages the rules' `docs.url` point to.
  "@loop/eslint-plugin": [/^docs\/rules\/[\w-]+\.md$/],
  // What node-gyp needs to build the addon on install, and the prebuilt binaries.
  "@loop/selector": [/^binding\.gyp$/, /^native\/.+\.[ch]$/, /^scripts\/build-native\.mjs$/, /^prebuilds\//],
};

describe("each tarball holds LICENSE, README, dist and its public types, and nothing else", () => {
  const rootLicense = readFileSync(new URL("../LICENSE", import.meta.url), "utf8");
  it.each(packages.map((p) => [p.name, p] as const))("%s", async (name, pkg) => {
    const listing = (await sh("tar", ["tzf", tarballs.get(name)!], work))
      .split("\n")
      .filter((line) => line !== "" && !line.endsWith("/"))
      .map((line) => line.replace(/^package\//, ""))
      .sort();
    const manifest = JSON.parse(await sh("tar", ["xzf", tarballs.get(name)!, "-O", "package/package.json"], work)) as {
      types?: string;
      exports?: Record<string, unknown>;
    };
    const types = `dist/${name.replace(/^@[^/]+\//, "")}.d.ts`;
    // The published types are the API Extractor rollup with @internal members removed
    // (scripts/api.mjs), not the workspace's dist/index.d.ts.
    expect(manifest.types, "package.json publishConfig.types").toBe(`./${types}`);
    expect(manifest.exports?.["."], "package.json publishConfig.exports").toEqual({ types: `./${types}`, default: "./dist/index.js" });
    const extra = extraRuntimeFiles[name] ?? [];
    const unexpected = listing.filter(
      (f) =>
        !["LICENSE", "README.md", "package.json", types].includes(f) &&
        !/^dist\/.+\.js(\.map)?$/.test(f) &&
        !extra.some((re) => re.test(f)),
    );
    expect(unexpected, `files in ${name}'s tarball that should not be published`).toEqual([]);
    expect(listing).toEqual(expect.arrayContaining(["LICENSE", "README.md", "package.json", "dist/index.js", types]));
    expect(readFileSync(`${pkg.dir}/LICENSE`, "utf8"), `${pkg.dir}/LICENSE is the root LICENSE`).toBe(rootLicense);
    const published = await sh("tar", ["xzf", tarballs.get(name)!, "-O", `package/${types}`], work);
    // Internal members are named with a leading underscore (`_ready`, `_enqueue`, ...).
    expect(published.match(/^\s+(?:(?:private|protected|static|readonly|get|set)\s+)*_\w+\s*[?!(:<]/gm), "@internal members in the published types").toBeNull();
  });
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
${smoke[name]?.code ?? ""}
`,
    );
    const out = await sh(process.execPath, ["check.mjs"], consumer);
    const lines = out.trim().split("\n");
    const exported = JSON.parse(lines[0]!) as string[];
    expect(exported).toEqual(expect.arrayContaining(expected));
    if (smoke[name] !== undefined) expect(lines.at(-1)).toBe(smoke[name].prints);
    expect(pkg.version).toMatch(/^\d+\.\d+\.\d+/);

    // The published types compile for a strict TypeScript user, declaration files included
    // (no skipLibCheck): a trimmed @internal member that a public type still needs fails here.
    writeFileSync(join(consumer, "types.ts"), `import * as m from ${JSON.stringify(name)};\nexport const names: string[] = Object.keys(m);\n`);
    await sh(
      process.execPath,
      [
        tsc,
        "--noEmit",
        "--strict",
        "--module", "nodenext",
        "--moduleResolution", "nodenext",
        "--target", "es2022",
        "--lib", "es2023,esnext.disposable",
        "--types", "node",
        "--typeRoots", join(root, "node_modules", "@types"),
        "types.ts",
      ],
      consumer,
    );
  });
});

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
${smoke[name]?.code ?? ""}
`,
    );
    const out = await sh(process.execPath, ["check.mjs"], consumer);
    const lines = out.trim().split("\n");
    const exported = JSON.parse(lines[0]!) as string[];
    expect(exported).toEqual(expect.arrayContaining(expected));
    if (smoke[name] !== undefined) expect(lines.at(-1)).toBe(smoke[name].prints);
    expect(pkg.version).toMatch(/^\d+\.\d+\.\d+/);
  });
});

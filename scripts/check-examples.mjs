#!/usr/bin/env node
/**
 * Type-checks the examples of the documentation, so that they cannot rot:
 *   - every `@example` in the JSDoc of a published package's sources;
 *   - every ```ts block of the guides (docs/*.md) and of the package READMEs that is a
 *     whole program (it has `import`s); the other blocks are sketches of an interface.
 * A JSDoc example is usually a fragment: it is checked as the body of a generator function
 * (an `async` function when it uses `await`), with every public name of every package in
 * scope and the helpers in docs/examples-prelude.ts declared (`fetchOne`, `download`,
 * ...). Packages are found through the workspace list and checked from their sources.
 * `pnpm typecheck` runs this.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { publishablePackages, root } from "./publishable.mjs";

const packages = publishablePackages();
const out = join(root, "node_modules", ".cache", "loop-examples");
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

/** Public value and type names of a package, read from the `export { ... }` lists of src/index.ts. */
function exportedNames(/** @type {string} */ dir) {
  const text = readFileSync(join(dir, "src", "index.ts"), "utf8");
  /** @type {{ name: string, type: boolean }[]} */
  const names = [];
  for (const m of text.matchAll(/export\s+(type\s+)?\{([^}]*)\}\s+from/g)) {
    for (const raw of m[2].split(",")) {
      const part = raw.replace(/\/\/.*$/gm, "").trim();
      if (!part) continue;
      const isType = Boolean(m[1]) || part.startsWith("type ");
      const name = (part.replace(/^type\s+/, "").split(/\s+as\s+/).pop() ?? "").trim();
      names.push({ name, type: isType });
    }
  }
  return names;
}

const preludeText = readFileSync(join(root, "docs", "examples-prelude.ts"), "utf8");
const helpers = new Set([...preludeText.matchAll(/^\s*(?:var|function|class)\s+(\w+)/gm)].map((m) => m[1]));

/**
 * Imports of the public names an example may use: all of its own package's and core's,
 * and those of the other packages that the example mentions (and that are not one of the
 * prelude's helpers, which an example may name like a package export), each name once.
 */
function prelude(/** @type {string} */ own, /** @type {string} */ code) {
  const order = [...packages].sort((a, b) => Number(b.name === own) - Number(a.name === own) || Number(b.name === "@loop/core") - Number(a.name === "@loop/core"));
  const seen = new Set();
  const lines = [];
  for (const pkg of order) {
    const mine = pkg.name === own || pkg.name === "@loop/core";
    const mentioned = (/** @type {string} */ n) => !helpers.has(n) && new RegExp(`\\b${n}\\b`).test(code);
    const names = exportedNames(pkg.dir).filter((n) => !seen.has(n.name) && (mine || mentioned(n.name)));
    names.forEach((n) => seen.add(n.name));
    if (names.length > 0) lines.push(`import { ${names.map((n) => (n.type ? `type ${n.name}` : n.name)).join(", ")} } from "${pkg.name}";`);
  }
  return lines.join("\n");
}

/** @type {{ file: string, origin: string, line: number, offset: number }[]} */
const examples = [];
let count = 0;

function add(/** @type {string} */ code, /** @type {string} */ origin, /** @type {number} */ line, /** @type {string} */ own) {
  const name = `ex${++count}.ts`;
  let text;
  let offset;
  if (/^\s*import\s/m.test(code)) {
    text = `${code}\nexport {};\n`;
    offset = 0;
  } else {
    const head = `${prelude(own, code)}\nimport "./prelude.js";\n`;
    const bare = code.replace(/\/\/.*$/gm, "");
    const isAsync = /(^|[^\w.])await\s/.test(bare) && !/(^|[^\w.])yield\b/.test(bare.replace(/function\*[\s\S]*/g, ""));
    const open = isAsync ? "export async function __example(): Promise<any> {" : "export function* __example(): Generator<any, any, any> {";
    text = `${head}${open}\n${code}\n}\n`;
    offset = head.split("\n").length; // lines before the example's first line
  }
  writeFileSync(join(out, name), text);
  examples.push({ file: name, origin, line, offset });
}

// JSDoc @example blocks.
for (const pkg of packages) {
  const walk = (/** @type {string} */ d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith(".ts") && !p.endsWith(".d.ts")) extractJsdoc(p, pkg.name);
    }
  };
  walk(join(pkg.dir, "src"));
}

function extractJsdoc(/** @type {string} */ file, /** @type {string} */ own) {
  const lines = readFileSync(file, "utf8").split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*\*\s*@example\b/.test(lines[i])) continue;
    const body = [];
    const first = i + 2;
    for (let j = i + 1; j < lines.length; j++) {
      const l = lines[j];
      if (/^\s*\*\/|\*\/\s*$/.test(l) || /^\s*\*\s*@\w+/.test(l)) break;
      body.push(l.replace(/^\s*\* ?/, ""));
    }
    const code = body.filter((l) => !/^```/.test(l.trim())).join("\n");
    add(code, relative(root, file), first, own);
  }
}

// Markdown: whole programs only.
const markdown = [
  ...readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md")).map((f) => join(root, "docs", f)),
  ...packages.map((p) => join(p.dir, "README.md")).filter((f) => existsSync(f)),
];
for (const file of markdown) {
  const own = packages.find((p) => file.startsWith(p.dir + "/"))?.name ?? "@loop/core";
  const lines = readFileSync(file, "utf8").split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(ts|typescript)\s*$/.test(lines[i])) continue;
    const start = i + 1;
    let j = start;
    while (j < lines.length && !/^```\s*$/.test(lines[j])) j++;
    const code = lines.slice(start, j).join("\n");
    if (/^\s*import\s/m.test(code)) add(code, relative(root, file), start + 1, own);
    i = j;
  }
}

writeFileSync(join(out, "prelude.ts"), preludeText);
// The worker module the @loop/workers examples load.
writeFileSync(join(out, "hash.ts"), "export declare function sha(text: string | Uint8Array, rounds?: number): string;\n");
writeFileSync(
  join(out, "tsconfig.json"),
  JSON.stringify(
    {
      extends: relative(out, join(root, "tsconfig.base.json")),
      compilerOptions: {
        noEmit: true,
        declaration: false,
        declarationMap: false,
        sourceMap: false,
        customConditions: ["@loop/source"],
        types: ["node"],
        typeRoots: [join(root, "node_modules", "@types")],
        // Every workspace package from its sources, whichever package an example is about.
        paths: Object.fromEntries(packages.map((p) => [p.name, [join(p.dir, "src", "index.ts")]])),
        noUnusedLocals: false,
        // Callbacks in fragments (`loop.callSoon((who) => …, "world")`) keep their
        // parameters untyped, as users write them.
        noImplicitAny: false,
      },
      include: ["*.ts"],
    },
    null,
    2,
  ),
);

const tsc = join(dirname(createRequire(join(root, "package.json")).resolve("typescript/package.json")), "bin", "tsc");
const result = spawnSync(process.execPath, [tsc, "-p", join(out, "tsconfig.json"), "--pretty", "false"], { encoding: "utf8" });
const byFile = new Map(examples.map((e) => [e.file, e]));
const errors = [];
for (const line of `${result.stdout}${result.stderr}`.split("\n")) {
  const m = /^(?:.*[/\\])?(ex\d+\.ts)\((\d+),(\d+)\): (.*)$/.exec(line);
  if (m) {
    const ex = byFile.get(m[1]);
    if (ex === undefined) continue;
    errors.push(`${ex.origin}:${ex.line + Number(m[2]) - 1 - ex.offset}: ${m[4]}   [${m[1]}]`);
  } else if (line.trim() !== "") {
    errors.push(line);
  }
}
if (errors.length > 0 || result.status !== 0) {
  console.error(errors.join("\n"));
  console.error(`\n${errors.length} type errors in the documentation's examples (generated files: ${relative(root, out)})`);
  process.exit(1);
}
rmSync(out, { recursive: true, force: true });
console.log(`examples: ${examples.length} type-checked`);

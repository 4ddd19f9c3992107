#!/usr/bin/env node
/**
 * `pnpm test:mutation:survivors <package> [file-part…]`: the mutants no test detected, one
 * line each, from the last run's results: `file:line:column mutator  original → replacement
 * (status)`. It reads `reports/mutation/<pkg>/mutation.json` if a run on this machine wrote
 * one, else the checked-in `packages/<pkg>/stryker-incremental.json` (or `.partial.json`).
 * Each `file-part` keeps only the files whose path contains it. Reading a survivor and
 * deciding what it means: CONTRIBUTING.md, "Mutation testing".
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const [name, ...parts] = process.argv.slice(2).filter((a) => a !== "--");
if (name === undefined) {
  console.error(
    "test:mutation:survivors: name a package, e.g. `pnpm test:mutation:survivors core task.ts`",
  );
  process.exit(2);
}
const candidates = [
  join(root, "reports", "mutation", name, "mutation.json"),
  join(root, "packages", name, "stryker-incremental.json"),
  join(root, "packages", name, "stryker-incremental.partial.json"),
];
const file = candidates.find((f) => existsSync(f));
if (file === undefined) {
  console.error(
    `test:mutation:survivors: no results for ${JSON.stringify(name)}; run \`pnpm test:mutation ${name}\` first`,
  );
  process.exit(2);
}
/** @typedef {{ line: number, column: number }} Position */
/** @type {{ files: Record<string, { source: string, mutants: { mutatorName: string, replacement?: string, status: string, location: { start: Position, end: Position } }[] }> }} */
const report = JSON.parse(readFileSync(file, "utf8"));
console.log(`# from ${file.slice(root.length + 1)}`);
let count = 0;
for (const [path, { source, mutants }] of Object.entries(report.files).sort(([a], [b]) =>
  a.localeCompare(b),
)) {
  if (parts.length > 0 && !parts.some((p) => path.includes(p))) continue;
  const lines = source.split("\n");
  /** The source a mutant replaces, on one line and shortened. @param {{ start: Position, end: Position }} loc */
  const original = ({ start, end }) => {
    const text =
      start.line === end.line
        ? (lines[start.line - 1] ?? "").slice(start.column - 1, end.column - 1)
        : [
            (lines[start.line - 1] ?? "").slice(start.column - 1),
            ...lines.slice(start.line, end.line - 1),
            (lines[end.line - 1] ?? "").slice(0, end.column - 1),
          ].join("\n");
    return shorten(text);
  };
  for (const m of mutants
    .filter((m) => m.status === "Survived" || m.status === "NoCoverage")
    .sort((a, b) => a.location.start.line - b.location.start.line)) {
    count++;
    const at = `${path}:${m.location.start.line}:${m.location.start.column}`;
    console.log(
      `${at} ${m.mutatorName}  ${original(m.location)} → ${shorten(m.replacement ?? "")} (${m.status})`,
    );
  }
}
console.log(`# ${count} undetected`);

/** @param {string} text */
function shorten(text) {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > 100 ? `${flat.slice(0, 97)}…` : flat;
}

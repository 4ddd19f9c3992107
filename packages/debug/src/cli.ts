#!/usr/bin/env node
/**
 * `loop-inspect <url>`: prints the task tree of a process serving `startInspector`, like
 * `python -m asyncio pstree <pid>`. Plain Node, no @loop import, so it starts fast.
 */
import { realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const USAGE = `usage: loop-inspect <url> [--json]

Prints the task tree of a running @loop process whose inspector listens at <url>
(started with startInspector; e.g. http://127.0.0.1:9229/).

  --json     print the raw dump (tasks, await edges, deadlocks) as JSON
  -h, --help show this help

Exit status: 0, 1 if the inspector cannot be reached, 2 on bad arguments,
3 if the tree has a deadlock.`;

/** Runs the command; returns its exit status. Output goes through `out` and `err`. */
export async function inspectMain(argv: readonly string[], out: (s: string) => void, err: (s: string) => void): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: { json: { type: "boolean", default: false }, help: { type: "boolean", short: "h", default: false } },
    });
  } catch (error) {
    err(`loop-inspect: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}\n`);
    return 2;
  }
  if (parsed.values.help) {
    out(`${USAGE}\n`);
    return 0;
  }
  if (parsed.positionals.length !== 1) {
    err(`loop-inspect: expected one URL, got ${parsed.positionals.length}\n\n${USAGE}\n`);
    return 2;
  }
  let endpoint: URL;
  try {
    endpoint = new URL("api/tasks", withSlash(parsed.positionals[0] as string));
  } catch {
    err(`loop-inspect: not a URL: ${parsed.positionals[0]}\n`);
    return 2;
  }
  let body: { dump: { deadlocks: unknown[] }; text: string };
  try {
    const response = await fetch(endpoint);
    if (!response.ok) throw new Error(`HTTP ${response.status} from ${endpoint.href}`);
    body = (await response.json()) as typeof body;
  } catch (error) {
    err(`loop-inspect: cannot read ${endpoint.href}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  out(parsed.values.json ? `${JSON.stringify(body.dump, null, 2)}\n` : `${body.text}\n`);
  return body.dump.deadlocks.length > 0 ? 3 : 0;
}

function withSlash(url: string): string {
  return url.endsWith("/") ? url : `${url}/`;
}

function isMain(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return pathToFileURL(realpathSync(entry)).href === import.meta.url;
  } catch {
    return false;
  }
}

// Run when executed as the bin (through its npm symlink too), not when imported by tests.
if (isMain()) {
  inspectMain(
    process.argv.slice(2),
    (s) => process.stdout.write(s),
    (s) => process.stderr.write(s),
  ).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}

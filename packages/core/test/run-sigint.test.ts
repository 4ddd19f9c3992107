/**
 * run()'s Ctrl-C handling against a real SIGINT, in a child process (fixtures/interrupt.ts).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const children = new Set<ChildProcess>();

afterEach(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  children.clear();
});

interface Child {
  child: ChildProcess;
  /** Resolves once `line` was printed. */
  printed(line: string): Promise<void>;
  output(): string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(mode: string): Child {
  const child = spawn(process.execPath, ["--conditions=@loop/source", "--import", "tsx", join(here, "fixtures", "interrupt.ts"), mode], {
    cwd: here,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  let out = "";
  let err = "";
  const waiters: { line: string; resolve: () => void }[] = [];
  child.stdout!.on("data", (data: Buffer) => {
    out += data.toString();
    for (const w of [...waiters]) {
      if (out.split("\n").includes(w.line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  child.stderr!.on("data", (data: Buffer) => void (err += data.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  return {
    child,
    printed: (line) =>
      new Promise<void>((resolve, reject) => {
        if (out.split("\n").includes(line)) resolve();
        else waiters.push({ line, resolve });
        void exit.then(() => reject(new Error(`the child exited before printing ${JSON.stringify(line)}:\n${out}\n${err}`)));
      }),
    output: () => `${out}${err}`,
    exit,
  };
}

/** A process ended by SIGINT: killed by it, or (where the signal could not do it) exit status 130. */
function endedBySigint(result: { code: number | null; signal: NodeJS.Signals | null }): boolean {
  return result.signal === "SIGINT" || result.code === 130;
}

describe("run() and a real SIGINT", () => {
  it.each(["await", "floating"])("uncaught (%s): every finally runs, the KeyboardInterrupt is printed, and the process ends as killed by SIGINT", async (mode) => {
    const c = start(mode);
    await c.printed("ready");
    c.child.kill("SIGINT");
    const result = await c.exit;
    expect(endedBySigint(result)).toBe(true);
    expect(c.output()).toContain("finally: start\nfinally: done\n");
    expect(c.output()).toMatch(/KeyboardInterrupt: interrupted by SIGINT/);
  }, 30_000);

  it("caught: the program goes on and exits 0", async () => {
    const c = start("caught");
    await c.printed("ready");
    c.child.kill("SIGINT");
    expect(await c.exit).toEqual({ code: 0, signal: null });
    expect(c.output()).toBe("ready\nfinally: start\nfinally: done\ncaught KeyboardInterrupt SIGINT\nthe program goes on\n");
  }, 30_000);

  it("uncaught with an uncaughtException listener installed: the listener decides, the process is not killed", async () => {
    const c = start("listener");
    await c.printed("ready");
    c.child.kill("SIGINT");
    expect(await c.exit).toEqual({ code: 3, signal: null });
    expect(c.output()).toContain("finally: done\nuncaughtException listener: KeyboardInterrupt\n");
  }, 30_000);

  it("a second SIGINT during the cleanup ends the process at once, without finishing the cleanup", async () => {
    const c = start("slow");
    await c.printed("ready");
    c.child.kill("SIGINT");
    await c.printed("cleanup waiting");
    c.child.kill("SIGINT");
    const result = await c.exit;
    expect(endedBySigint(result)).toBe(true);
    expect(c.output()).not.toContain("finally: done");
  }, 30_000);
});

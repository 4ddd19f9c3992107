import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CancelledError, DefaultPoller, createTask, run, type EventLoop, type Future, type ProcessDriver, type ProcessHandle, type ProcessProtocols, type SpawnOptions } from "@loop/core";
import { nodeProcessDriver } from "@loop/process";
import { FakeProcesses, runVirtual } from "@loop/testing";
import { sleep } from "@loop/timers";
import { expect, test } from "vitest";
import { demoCommands, runCommands } from "../src/scenarios/processes.js";

/** A /bin/sh that understands the demo's commands, in virtual time. */
function fakeShell(): FakeProcesses {
  return new FakeProcesses().define("/bin/sh", function* (child) {
    const command = child.args[1] ?? "";
    const said = /echo "([^"]*)"(\s*>&2)?/.exec(command);
    if (said !== null) (said[2] === undefined ? child.stdout : child.stderr).write(`${said[1]}\n`);
    const exit = /exit (\d+)/.exec(command);
    if (exit !== null) return Number(exit[1]);
    const pause = /sleep ([\d.]+)/.exec(command);
    if (pause !== null) yield* sleep(Number(pause[1]) * 1000);
    return 0;
  });
}

test("20 commands, never more than 4 at once; the stragglers are stopped at the timeout", async () => {
  const processes = fakeShell();
  const report = await runVirtual(() => runCommands(demoCommands(), { limit: 4, timeoutMs: 1000 }), { processes });
  expect(report.results).toHaveLength(20);
  expect(report.mostAtOnce).toBe(4);
  const byStatus = (status: string) => report.results.filter((r) => r.status === status).map((r) => r.output || r.command);
  expect(byStatus("timed out")).toEqual(['echo "job 3: hanging"; exec sleep 30', 'echo "job 10: hanging"; exec sleep 30', 'echo "job 17: hanging"; exec sleep 30']);
  expect(byStatus("failed")).toEqual(["job 12: failing"]);
  expect(byStatus("ok")).toHaveLength(16);
  // Every hanging command got SIGTERM (and died of it) and nothing else.
  const hanging = processes.started.filter((p) => p.args[1]?.includes("sleep 30"));
  expect(hanging.map((p) => [p.signals, p.returncode])).toEqual([
    [["SIGTERM"], -15],
    [["SIGTERM"], -15],
    [["SIGTERM"], -15],
  ]);
  expect(processes.running).toBe(0);
});

/** Processes still alive that carry the marker in their environment (children and grandchildren alike). */
function marked(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, "latin1").includes(marker)) found.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

/** Whether a process is still alive (a zombie not yet reaped counts as gone for us: it was killed). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "latin1"));
  } catch {
    return false;
  }
}

/** The default poller, with Node's process driver watched: `started` resolves at the n-th start. */
class WatchingPoller extends DefaultPoller {
  started: Future<void> | null = null;
  /** The children's process ids, in the order they started. */
  readonly pids: number[] = [];
  private _count = 0;
  readonly processes: ProcessDriver;

  constructor(n: number) {
    super();
    this.processes = {
      spawn: (loop: EventLoop, options: SpawnOptions, protocols: ProcessProtocols): Future<ProcessHandle> => {
        this.started ??= loop.createFuture<void>();
        const pending = nodeProcessDriver.spawn(loop, options, protocols);
        pending.addDoneCallback((spawned) => {
          if (!spawned.cancelled() && spawned.exception() === null) this.pids.push(spawned.result().pid);
        });
        if (++this._count === n) pending.addDoneCallback(() => this.started?.setResult(undefined));
        return pending;
      },
    };
  }
}

test("cancelling the run (what Ctrl-C does) stops every running command and leaves no child behind", async () => {
  const marker = `LOOP_DEMO_RUN=${randomUUID()}`;
  const [name, value] = marker.split("=") as [string, string];
  const lines: string[] = [];
  const poller = new WatchingPoller(4);
  const outcome = await run(function* () {
    const commands = Array.from({ length: 20 }, (_, i) => `echo "job ${i}"; exec sleep 30`);
    const task = createTask(runCommands(commands, { limit: 4, timeoutMs: 60_000, env: { [name]: value }, print: (line) => lines.push(line) }));
    while (poller.started === null) yield;
    yield* poller.started; // four commands running
    // Counted by pid: reading /proc/<pid>/environ of a shell in the middle of its
    // `exec sleep` can come back empty, so the marker counts only once nothing is running.
    expect(poller.pids.filter(alive)).toHaveLength(4);
    task.cancel();
    try {
      yield* task;
    } catch (error) {
      return error;
    }
    return null;
  }, { poller });
  expect(outcome).toBeInstanceOf(CancelledError);
  await nodeProcessDriver.settled();
  expect(poller.pids.filter(alive)).toEqual([]);
  expect(marked(marker)).toEqual([]);
  expect(lines).toEqual([]);
});

test("a real Ctrl-C (SIGINT) ends the demo as killed by SIGINT, with every command stopped first", async () => {
  const marker = `LOOP_DEMO_RUN=${randomUUID()}`;
  const here = dirname(fileURLToPath(import.meta.url));
  const child = spawn(process.execPath, ["--conditions=@loop/source", "--import", "tsx", join(here, "fixtures", "processes-interrupt.ts"), marker], {
    cwd: here,
    stdio: ["ignore", "pipe", "pipe"],
  });
  try {
    let output = "";
    const ready = new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (data: Buffer) => {
        output += data.toString();
        if (output.includes("ready\n")) resolve();
      });
      child.stderr.on("data", (data: Buffer) => void (output += data.toString()));
      child.once("exit", () => reject(new Error(`the demo exited before it was ready:\n${output}`)));
    });
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
    await ready;
    expect(marked(marker)).toHaveLength(4);
    child.kill("SIGINT");
    const result = await exit;
    expect(result.signal === "SIGINT" || result.code === 130).toBe(true);
    expect(output).toContain("KeyboardInterrupt");
    // The demo waited for its children before it ended: none is left, not even a grandchild.
    expect(marked(marker)).toEqual([]);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}, 30_000);

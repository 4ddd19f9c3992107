import { TimeoutError, getRunningLoop, run, taskGroup, type Coroutine } from "@loop/core";
import { STDOUT, runProcess } from "@loop/process";
import { Semaphore } from "@loop/sync";
import { timeout } from "@loop/timers";
import type { Scenario } from "../scenario.js";

export interface CommandResult {
  readonly command: string;
  readonly status: "ok" | "failed" | "timed out";
  /** The exit status, or null when the command was stopped for taking too long. */
  readonly returncode: number | null;
  readonly output: string;
}

export interface ProcessesReport {
  readonly results: readonly CommandResult[];
  /** The most commands that ran at the same time. */
  readonly mostAtOnce: number;
  readonly elapsedMs: number;
}

export interface RunCommandsOptions {
  /** How many commands may run at once; 4 by default. */
  limit?: number;
  /** How long one command may take before it is stopped; 1000 ms by default. */
  timeoutMs?: number;
  print?: (line: string) => void;
  /** Extra environment for every command (the test marks its children with it). */
  env?: Readonly<Record<string, string>>;
}

/**
 * The demo's 20 shell commands: most take a moment, one fails, three hang. Each ends with
 * `exec`, so that the shell becomes the last program instead of waiting for it: a signal
 * sent to the child's pid then reaches the program itself, and stopping a command never
 * leaves a grandchild running.
 */
export function demoCommands(): string[] {
  return Array.from({ length: 20 }, (_, i) => {
    if (i % 7 === 3) return `echo "job ${i}: hanging"; exec sleep 30`;
    if (i === 12) return `echo "job ${i}: failing" >&2; exit 3`;
    return `echo "job ${i}: done"; exec sleep 0.${1 + (i % 3)}`;
  });
}

/**
 * Runs `commands` through `/bin/sh`, at most `limit` at once (a `Semaphore`), each under
 * a `timeout` that stops the stragglers: `runProcess` sends SIGTERM to a command the
 * timeout cancels, SIGKILL if it lingers, and waits for it. Cancelling the whole run
 * (Ctrl-C: `run()` cancels its main task) cancels the task group, and every running
 * command is stopped the same way: no child is left behind.
 */
export function* runCommands(commands: readonly string[], opts: RunCommandsOptions = {}): Coroutine<ProcessesReport> {
  const { limit = 4, timeoutMs = 1000, print = () => {}, env } = opts;
  const loop = getRunningLoop();
  const permits = new Semaphore(limit);
  const results: CommandResult[] = [];
  let running = 0;
  let mostAtOnce = 0;
  const start = loop.time();

  function* runOne(command: string): Coroutine<void> {
    yield* permits.withLock(function* () {
      running++;
      mostAtOnce = Math.max(mostAtOnce, running);
      try {
        const done = yield* timeout(timeoutMs, () =>
          runProcess("/bin/sh", ["-c", command], { captureStdout: true, stderr: STDOUT, check: false, gracePeriodMs: 500, env: env === undefined ? undefined : { ...process.env, ...env } }),
        );
        const output = new TextDecoder().decode(done.stdout ?? new Uint8Array()).trim();
        const result: CommandResult = { command, status: done.returncode === 0 ? "ok" : "failed", returncode: done.returncode, output };
        results.push(result);
        print(`  [${result.status}] ${output} (exit ${done.returncode})`);
      } catch (error) {
        if (!(error instanceof TimeoutError)) throw error;
        results.push({ command, status: "timed out", returncode: null, output: "" });
        print(`  [timed out] ${command}: stopped after ${timeoutMs} ms`);
      } finally {
        running--;
      }
    });
  }

  yield* taskGroup(function* (group) {
    for (const [i, command] of commands.entries()) group.createTask(runOne(command), { name: `command ${i}` });
  });
  const elapsedMs = loop.time() - start;
  const count = (status: CommandResult["status"]): number => results.filter((r) => r.status === status).length;
  print(`${results.length} commands, at most ${mostAtOnce} at once: ${count("ok")} ok, ${count("failed")} failed, ${count("timed out")} timed out and stopped, in ${Math.round(elapsedMs)} ms`);
  return { results, mostAtOnce, elapsedMs };
}

export const processesScenario: Scenario = {
  name: "processes",
  description: "20 shell commands, 4 at a time, a timeout that stops the stragglers; Ctrl-C leaves no child behind",
  async run() {
    await run(function* () {
      yield* runCommands(demoCommands(), { print: (line) => console.log(line) });
    });
  },
};

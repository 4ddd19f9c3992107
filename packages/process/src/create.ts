import { currentTask, getRunningLoop, type Coroutine, type ProcessHandle } from "@loop/core";
import { rememberChild } from "./children.js";
import { nodeProcessDriver } from "./node-driver.js";
import { checkOptions, type CheckedOptions, type ProcessOptions } from "./options.js";
import { Process } from "./subprocess.js";

/**
 * Starts `program` with `args` (asyncio.create_subprocess_exec); no shell is involved.
 * A program that cannot be started fails here, with the OS's `code` (`ENOENT`, `EACCES`)
 * and the program's name in the message. Standard streams are inherited unless the
 * options say `PIPE`, `DEVNULL`, `STDOUT` or a file descriptor.
 * @example
 * const proc = yield* createSubprocessExec("git", ["rev-parse", "HEAD"], { stdout: PIPE });
 * const [out] = yield* proc.communicate();
 */
export function createSubprocessExec(program: string, args: readonly string[] = [], opts?: ProcessOptions): Coroutine<Process> {
  if (typeof program !== "string" || program === "") throw new TypeError(`createSubprocessExec(program, args): program must be a non-empty string, got ${describe(program)}`);
  checkArgs("createSubprocessExec(program, args)", args);
  const options = checkOptions("createSubprocessExec(program, args, opts)", opts);
  return start(program, args, options, [program, ...args]);
}

/**
 * Runs `command` through `/bin/sh -c` (asyncio.create_subprocess_shell): pipes, globs and
 * redirections work, and so does shell injection: quote what you did not write yourself.
 * @example
 * const proc = yield* createSubprocessShell("ls *.ts | wc -l", { stdout: PIPE });
 */
export function createSubprocessShell(command: string, opts?: ProcessOptions): Coroutine<Process> {
  if (typeof command !== "string" || command === "") throw new TypeError(`createSubprocessShell(command): command must be a non-empty string, got ${describe(command)}`);
  const options = checkOptions("createSubprocessShell(command, opts)", opts);
  return start("/bin/sh", ["-c", command], options, ["/bin/sh", "-c", command]);
}

function* start(program: string, args: readonly string[], options: CheckedOptions, command: readonly string[]): Coroutine<Process> {
  const loop = getRunningLoop();
  const driver = loop.poller.processes ?? nodeProcessDriver;
  const origin = { command, task: currentTask(), stack: loop.getDebug() ? new Error("started here").stack : undefined };
  const process = new Process(loop, origin, { stdin: options.stdin === "pipe", stdout: options.stdout === "pipe", stderr: options.stderr === "pipe" }, options.limit);
  const pending = driver.spawn(
    loop,
    { program, args, stdin: options.stdin, stdout: options.stdout, stderr: options.stderr, cwd: options.cwd, env: options.env, startNewSession: options.startNewSession },
    process._protocols,
  );
  pending.label = `createSubprocessExec ${program}`;
  let handle: ProcessHandle;
  try {
    handle = yield* pending;
  } catch (error) {
    // Cancelled just after the child started: nobody will ever see it, so it must not run on.
    if (pending.done() && !pending.cancelled() && pending.exception() === null) pending.result().close();
    throw error;
  }
  process._attach(handle);
  rememberChild(loop, process);
  return process;
}

function checkArgs(where: string, args: unknown): void {
  if (!Array.isArray(args)) throw new TypeError(`${where}: args must be an array of strings, got ${describe(args)}`);
  for (let i = 0; i < args.length; i++) {
    if (typeof args[i] !== "string") throw new TypeError(`${where}: args[${i}] must be a string, got ${describe(args[i])}`);
  }
}

function describe(value: unknown): string {
  return value === null ? "null" : typeof value === "string" ? JSON.stringify(value) : typeof value;
}

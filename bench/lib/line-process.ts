/**
 * A child process spoken to in lines, for the suites whose servers and load generators run
 * in processes of their own (so that each one's CPU time is its own): `send` writes a
 * command line to its stdin, `line` resolves with the next line of its stdout, `end`
 * closes its stdin and waits for it to exit. Its stderr goes to ours.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface } from "node:readline";

export class LineProcess {
  readonly child: ChildProcessWithoutNullStreams;
  private readonly queue: string[] = [];
  private readonly waiting: ((line: string) => void)[] = [];

  /** Starts `command` (file, then arguments) in `cwd`, with `env` added to ours. */
  constructor(command: string[], cwd: string, env?: Record<string, string>) {
    const [file = "", ...args] = command;
    this.child = spawn(file, args, { cwd, env: env === undefined ? process.env : { ...process.env, ...env } });
    this.child.stderr.pipe(process.stderr);
    createInterface({ input: this.child.stdout }).on("line", (line) => {
      const next = this.waiting.shift();
      if (next) next(line);
      else this.queue.push(line);
    });
  }

  line(): Promise<string> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  send(command: string): void {
    this.child.stdin.write(`${command}\n`);
  }

  async end(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.stdin.end();
    await exited;
  }
}

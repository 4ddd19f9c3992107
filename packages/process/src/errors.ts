import { signalName } from "./signals.js";

/**
 * A checked `runProcess` whose child did not exit with status 0 (subprocess.CalledProcessError).
 * `stdout` and `stderr` hold what was captured (null when not captured).
 */
export class CalledProcessError extends Error {
  /** Always `"CalledProcessError"`, so that logs and `error.name` checks tell it apart. */
  override name = "CalledProcessError";
  /** The child's exit status (never 0), or minus the signal number when a signal killed it (`-9` for SIGKILL). */
  readonly returncode: number;
  /** The program and its arguments, as they were given to `runProcess`. */
  readonly command: readonly string[];
  /** What the child wrote to stdout, when it was captured; else null. */
  readonly stdout: Uint8Array | null;
  /** What the child wrote to stderr, when it was captured; else null. */
  readonly stderr: Uint8Array | null;

  constructor(returncode: number, command: readonly string[], stdout: Uint8Array | null = null, stderr: Uint8Array | null = null) {
    const how = returncode < 0 ? `was killed by ${signalName(-returncode)}` : `exited with status ${returncode}`;
    super(`Command ${JSON.stringify(command)} ${how}`);
    this.returncode = returncode;
    this.command = command;
    this.stdout = stdout;
    this.stderr = stderr;
  }
}

import { signalName } from "./signals.js";

/**
 * A checked `runProcess` whose child did not exit with status 0 (subprocess.CalledProcessError).
 * `stdout` and `stderr` hold what was captured (null when not captured).
 */
export class CalledProcessError extends Error {
  override name = "CalledProcessError";
  readonly returncode: number;
  readonly command: readonly string[];
  readonly stdout: Uint8Array | null;
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

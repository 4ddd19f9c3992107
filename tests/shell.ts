// Running npm, pnpm and node from the root tests the way a user's shell would.
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/** Environment for npm in a scratch folder: nothing inherited from the workspace's pnpm/npm run. */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    const k = key.toLowerCase();
    if (k.startsWith("npm_") && !/^npm_config_(registry|cache|userconfig|.*proxy|cafile|strict_ssl)$/.test(k)) continue;
    if (k.startsWith("pnpm_") || k === "node_options" || k.startsWith("vitest")) continue;
    env[key] = value;
  }
  return env;
}

/** Runs a command asynchronously (so that several can run at once); returns its stdout. */
export async function sh(cmd: string, args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await execFileAsync(cmd, args, {
      cwd,
      env: cleanEnv(),
      encoding: "utf8",
      shell: process.platform === "win32",
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(" ")} failed in ${cwd}\n${e.stdout ?? ""}\n${e.stderr ?? e.message}`, { cause: error });
  }
}

/** Like `sh`, for a command that must fail: returns its exit code and both outputs. */
export async function shFailing(cmd: string, args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(cmd, args, { cwd, env: cleanEnv(), encoding: "utf8" });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

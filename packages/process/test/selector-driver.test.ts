// What only SelectorPoller's native driver does (posix_spawn, pidfds, real pipes); the rest
// of this package's tests run on it too, in the "process-selector" project.
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureFuture, run, type Coroutine } from "@loop/core";
import { SelectorPoller, processesUnavailableReason } from "@loop/selector";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DEVNULL, PIPE, createSubprocessExec } from "../src/index.js";
import { checkNoLeaks, text } from "./helpers.js";

checkNoLeaks();

const native = processesUnavailableReason() === null;

/** This process's descriptors without close-on-exec, which every child inherits. */
function inheritableFds(): number[] {
  const O_CLOEXEC = 0o2000000;
  const found: number[] = [];
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      const flags = /^flags:\s+([0-7]+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, "utf8"));
      if (flags !== null && (parseInt(flags[1] as string, 8) & O_CLOEXEC) === 0) found.push(Number(fd));
    } catch {
      // The directory's own descriptor, closed meanwhile.
    }
  }
  return found;
}

function onSelector<T>(main: () => Coroutine<T>): Promise<T> {
  return run(main, { poller: new SelectorPoller() });
}

describe.skipIf(!native)("SelectorPoller's processes driver", () => {
  test("is what @loop/process uses on that poller: the child's stdio are pipes, not libuv's socket pairs", async () => {
    const [out] = await onSelector(function* () {
      const child = yield* createSubprocessExec("/bin/sh", ["-c", 'for fd in 0 1 2; do readlink /proc/$$/fd/$fd | cut -d: -f1; done'], { stdin: PIPE, stdout: PIPE, stderr: PIPE });
      return yield* child.communicate();
    });
    expect(text(out)).toBe("pipe\npipe\npipe\n");
  });

  test("the child starts with every signal at its default (Node ignores SIGPIPE), none blocked, and none of our descriptors", async () => {
    const out = await onSelector(function* () {
      // A sibling with pipes of its own runs meanwhile: none of its descriptors, nor any
      // pidfd or epoll set, may reach the second child.
      const sibling = yield* createSubprocessExec("cat", [], { stdin: PIPE, stdout: PIPE });
      // grep reads its own status (a shell would show the mask it sets while it forks).
      const signals = yield* createSubprocessExec("grep", ["-E", "^Sig(Blk|Ign)", "/proc/self/status"], { stdout: PIPE });
      const [status] = yield* signals.communicate();
      // find lists the descriptors of the shell, its parent, which opens none of its own for that.
      const child = yield* createSubprocessExec("/bin/sh", ["-c", "find /proc/$$/fd -mindepth 1 -printf '%f %l\\n'"], { stdout: PIPE });
      const [fdList] = yield* child.communicate();
      sibling.stdin!.close();
      yield* sibling.communicate();
      return [status, fdList];
    });
    expect(text(out[0])).toBe("SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
    const fds = text(out[1]).trim().split("\n").map((line) => line.split(" ") as [string, string]);
    expect(fds.filter(([, target]) => /pidfd|eventpoll/.test(target))).toEqual([]);
    // Beyond its stdio the child may only hold what this process leaves inheritable on
    // purpose (a test runner's descriptors without close-on-exec): never one of ours.
    const inheritable = new Set(inheritableFds());
    expect(fds.filter(([fd]) => Number(fd) > 2 && !inheritable.has(Number(fd)))).toEqual([]);
  });

  test('"inherit" gives the child this process\'s own stdin and stderr, which Node marks close-on-exec', async () => {
    const [out] = await onSelector(function* () {
      const child = yield* createSubprocessExec("/bin/sh", ["-c", "readlink /proc/$$/fd/0 /proc/$$/fd/2"], { stdout: PIPE });
      return yield* child.communicate();
    });
    expect(text(out)).toBe(`${readlinkSync("/proc/self/fd/0")}\n${readlinkSync("/proc/self/fd/2")}\n`);
  });

  test("libuv's SIGCHLD handler does not take our children: it only waits for its own", async () => {
    const [ours, theirs] = await onSelector(function* () {
      // A node:child_process child running makes libuv reap on every SIGCHLD, ours included.
      const other = spawn("cat", [], { stdio: ["pipe", "ignore", "ignore"] });
      const otherExit = new Promise<number | null>((resolve) => other.once("exit", resolve));
      const codes: number[] = [];
      for (let i = 0; i < 5; i++) {
        const child = yield* createSubprocessExec("/bin/sh", ["-c", `exit ${10 + i}`], { stdin: DEVNULL });
        codes.push(yield* child.wait());
      }
      other.stdin.end();
      return [codes, yield* ensureFuture(otherExit)];
    });
    expect(ours).toEqual([10, 11, 12, 13, 14]);
    expect(theirs).toBe(0);
  });
});

describe.skipIf(!native)("SelectorPoller's processes driver, failing to start", () => {
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "loop-exec-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("a script without a #! line is ENOEXEC at the call, as with asyncio (no /bin/sh fallback)", async () => {
    const script = join(dir, "no-shebang");
    writeFileSync(script, "echo hi\n");
    chmodSync(script, 0o755);
    await expect(onSelector(() => createSubprocessExec(script))).rejects.toMatchObject({ code: "ENOEXEC", errno: -8, syscall: "spawn", message: expect.stringContaining(script) });
  });

  test("a directory is EACCES, found on the PATH or named", async () => {
    await expect(onSelector(() => createSubprocessExec(dir))).rejects.toMatchObject({ code: "EACCES" });
    await expect(onSelector(() => createSubprocessExec("loop-exec-dir", [], { env: { PATH: tmpdir() } }))).rejects.toMatchObject({ code: expect.stringMatching(/^E(NOENT|ACCES)$/) });
  });
});

describe("a program name is looked up on the PATH of the child's environment", () => {
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "loop-path-"));
    writeFileSync(join(dir, "loop-only-here"), "#!/bin/sh\necho found it\n");
    chmodSync(join(dir, "loop-only-here"), 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("env's PATH, not the parent's", async () => {
    const [found, missing] = await run(function* () {
      const child = yield* createSubprocessExec("loop-only-here", [], { stdout: PIPE, env: { PATH: `/nonexistent:${dir}` } });
      const [out] = yield* child.communicate();
      let error: unknown = null;
      try {
        yield* createSubprocessExec("loop-only-here");
      } catch (e) {
        error = e;
      }
      return [text(out), error];
    });
    expect(found).toBe("found it\n");
    expect(missing).toMatchObject({ code: "ENOENT", message: expect.stringContaining("loop-only-here") });
  });
});

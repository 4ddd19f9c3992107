// A child started by the selector's processes driver (processes.ts), driven directly: its
// spawn errors word by word, signals checked at the call and never sent once it is reaped,
// unused pipe ends closed at the spawn, and a child the epoll set cannot take killed and
// reaped at once with every descriptor of it closed.
import { fstatSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureFuture, getRunningLoop, run, type AbstractFuture, type BaseTransport, type Coroutine, type ProcessHandle, type ProcessProtocols, type Protocol, type SpawnOptions } from "@loop/core";
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from "vitest";
import { SelectorPoller, SelectorProcessDriver, processesUnavailableReason } from "../src/index.js";
import { expectNoOpenDescriptors } from "./helpers.js";

const native = processesUnavailableReason() === null;

/** Every child a test started: killed after it, should the test have failed first. */
const started: ProcessHandle[] = [];

afterEach(async () => {
  vi.restoreAllMocks();
  for (const child of started.splice(0)) child.close();
  await SelectorProcessDriver.settled();
  await expectNoOpenDescriptors();
});

let dir = "";
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "loop-child-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Logs every call into a shared log; `lost` settles at connectionLost. */
class Logger implements Protocol {
  readonly lost: AbstractFuture<Error | null>;
  constructor(
    private readonly _name: string,
    readonly log: string[],
  ) {
    this.lost = getRunningLoop().createFuture();
  }
  connectionMade(_transport: BaseTransport): void {
    this.log.push(`${this._name} made`);
  }
  dataReceived(data: Uint8Array): void {
    this.log.push(`${this._name} data ${Buffer.from(data).toString()}`);
  }
  eofReceived(): boolean {
    this.log.push(`${this._name} eof`);
    return false;
  }
  connectionLost(error: Error | null): void {
    this.log.push(`${this._name} lost ${error === null ? "null" : String((error as { code?: string }).code)}`);
    this.lost.setResult(error);
  }
  pauseWriting(): void {}
  resumeWriting(): void {}
}

const options = (program: string, args: string[], more: Partial<SpawnOptions> = {}): SpawnOptions => ({ program, args, stdin: "devnull", stdout: "devnull", stderr: "devnull", startNewSession: false, ...more });

/** Spawns through `poller`'s driver (the running loop's by default). */
function* spawnChild(spawn: SpawnOptions, protocols: Omit<ProcessProtocols, "processExited">, exited: AbstractFuture<number>, poller?: SelectorPoller): Coroutine<ProcessHandle> {
  const loop = getRunningLoop();
  const driver = (poller ?? (loop.poller as SelectorPoller)).processes!;
  const child = yield* driver.spawn(loop, spawn, { ...protocols, processExited: (code) => exited.setResult(code) });
  started.push(child);
  return child;
}

function onSelector<T>(main: () => Coroutine<T>): Promise<T> {
  return run(main, { poller: new SelectorPoller() });
}

function* spawnError(spawn: SpawnOptions): Coroutine<NodeJS.ErrnoException> {
  try {
    yield* spawnChild(spawn, {}, getRunningLoop().createFuture());
  } catch (error) {
    return error as NodeJS.ErrnoException;
  }
  throw new Error("the child started");
}

describe.skipIf(!native)("the selector's processes driver", () => {
  const long = `/${"a".repeat(5000)}`;

  test("a spawn that fails says why in the words of the OS's code, naming the working directory only when it is the one missing", async () => {
    const errors = await onSelector(function* () {
      return [
        yield* spawnError(options("/nonexistent/loop-no-such-program", [])),
        yield* spawnError(options("/nonexistent/loop-no-such-program", [], { cwd: dir })),
        yield* spawnError(options("/bin/true", [], { cwd: join(dir, "missing") })),
        yield* spawnError(options(dir, [])),
        yield* spawnError(options(long, [])),
      ];
    });
    expect(errors.map((e) => [e.message, e.code, e.errno, e.syscall, e.path])).toEqual([
      ['cannot start "/nonexistent/loop-no-such-program": no such file or directory (ENOENT)', "ENOENT", -2, "spawn", "/nonexistent/loop-no-such-program"],
      ['cannot start "/nonexistent/loop-no-such-program": no such file or directory (ENOENT)', "ENOENT", -2, "spawn", "/nonexistent/loop-no-such-program"],
      [`cannot start "/bin/true": its working directory ${JSON.stringify(join(dir, "missing"))} does not exist (ENOENT)`, "ENOENT", -2, "spawn", "/bin/true"],
      [`cannot start ${JSON.stringify(dir)}: permission denied (is it executable?) (EACCES)`, "EACCES", -13, "spawn", dir],
      // A code without words of its own.
      [`cannot start ${JSON.stringify(long)}: spawn failed (ENAMETOOLONG)`, "ENAMETOOLONG", -36, "spawn", long],
    ]);
    for (const error of errors) expect(error).toBeInstanceOf(Error);
  });

  test("spawn on a loop whose poller is another SelectorPoller fails, and starts nothing", async () => {
    const other = new SelectorPoller();
    try {
      const error = await onSelector(function* () {
        try {
          yield* spawnChild(options("/bin/true", []), {}, getRunningLoop().createFuture(), other);
        } catch (e) {
          return e as Error;
        }
        throw new Error("the child started");
      });
      expect(error.message).toBe("SelectorProcessDriver.spawn: the loop's poller is not the SelectorPoller this driver belongs to");
      expect(SelectorProcessDriver.running).toBe(0);
    } finally {
      other.close();
    }
  });

  test("sendSignal checks its signal at the call, sends it while the child runs, and never once it is reaped", async () => {
    const kill = vi.spyOn(process, "kill");
    await onSelector(function* () {
      const loop = getRunningLoop();
      const exited = loop.createFuture<number>();
      const child = yield* spawnChild(options("cat", [], { stdin: "pipe" }), { stdin: new Logger("in", []) }, exited);
      expect(SelectorProcessDriver.running).toBe(1);
      expect(() => child.sendSignal("SIGNOPE")).toThrow(new RangeError('sendSignal(signal): unknown signal "SIGNOPE"; use a name such as "SIGTERM" or "SIGKILL", or a signal number'));
      expect(() => child.sendSignal(1.5)).toThrow(new RangeError("sendSignal(signal): unknown signal number 1.5"));
      expect(() => child.sendSignal(4242)).toThrow(new RangeError("sendSignal(signal): unknown signal number 4242"));
      expect(() => child.sendSignal(null as never)).toThrow(new TypeError('sendSignal(signal): the signal must be a name such as "SIGTERM" or a number, got null'));
      expect(() => child.sendSignal({} as never)).toThrow(new TypeError('sendSignal(signal): the signal must be a name such as "SIGTERM" or a number, got object'));
      expect(kill).not.toHaveBeenCalled();
      // 0 only asks whether the child is there.
      child.sendSignal(0);
      child.sendSignal("SIGUSR1");
      expect(kill.mock.calls).toEqual([
        [child.pid, 0],
        [child.pid, 10],
      ]);
      expect(yield* exited).toBe(-10);
      expect(child.returncode).toBe(-10);
      expect(SelectorProcessDriver.running).toBe(0);
      child.sendSignal("SIGTERM");
      child.close();
      expect(kill).toHaveBeenCalledTimes(2);
    });
  });

  test('"devnull" is /dev/null in the child, and stderr "stdout" goes down the stdout pipe after what stdout wrote', async () => {
    await onSelector(function* () {
      const log: string[] = [];
      const exited = getRunningLoop().createFuture<number>();
      const out = new Logger("out", log);
      yield* spawnChild(options("/bin/sh", ["-c", "readlink /proc/$$/fd/0 /proc/$$/fd/2; echo err >&2"], { stdout: "pipe", stderr: "stdout" }), { stdout: out }, exited);
      yield* out.lost;
      expect(yield* exited).toBe(0);
      const text = log.filter((line) => line.startsWith("out data ")).map((line) => line.slice("out data ".length)).join("");
      expect(text.replace(/\d+\]/, "N]")).toBe("/dev/null\npipe:[N]\nerr\n");
    });
  });

  test("env is the child's whole environment; without it the child gets this thread's process.env", async () => {
    const name = "LOOP_SELECTOR_CHILD_ENV_CHECK";
    process.env[name] = "seen";
    try {
      const [given, inherited] = await onSelector(function* () {
        const outputs: string[] = [];
        for (const env of [{ ONLY: "this" }, undefined]) {
          const log: string[] = [];
          const exited = getRunningLoop().createFuture<number>();
          const out = new Logger("out", log);
          // env(1) prints its environment as it got it, entry by entry.
          const spawn = env === undefined ? options("/bin/sh", ["-c", `echo "$${name}"`], { stdout: "pipe" }) : options("/usr/bin/env", [], { stdout: "pipe", env });
          yield* spawnChild(spawn, { stdout: out }, exited);
          yield* out.lost;
          yield* exited;
          outputs.push(log.filter((line) => line.startsWith("out data ")).map((line) => line.slice("out data ".length)).join(""));
        }
        return outputs;
      });
      expect(given).toBe("ONLY=this\n");
      expect(inherited).toBe("seen\n");
    } finally {
      delete process.env[name];
    }
  });

  test("close() kills a running child that has no pipes, and it is reaped all the same", async () => {
    await onSelector(function* () {
      const exited = getRunningLoop().createFuture<number>();
      const child = yield* spawnChild(options("sleep", ["1000"]), {}, exited);
      expect([child.stdin, child.stdout, child.stderr]).toEqual([null, null, null]);
      // settled() asked while the child runs resolves once it is reaped.
      let settled = false;
      const settling = SelectorProcessDriver.settled().then(() => {
        settled = true;
      });
      child.close();
      expect(yield* exited).toBe(-9);
      yield* ensureFuture(settling);
      expect(settled).toBe(true);
      expect(child.returncode).toBe(-9);
    });
  });

  test("a pipe asked for without a protocol is closed at the spawn: the child writing to it dies of SIGPIPE", async () => {
    await onSelector(function* () {
      const log: string[] = [];
      const exited = getRunningLoop().createFuture<number>();
      const stdin = new Logger("in", log);
      // The child writes only once told to, after the spawn has closed what nobody reads.
      const child = yield* spawnChild(options("/bin/sh", ["-c", "read x; echo hi"], { stdin: "pipe", stdout: "pipe" }), { stdin }, exited);
      expect(child.stdout).toBeNull();
      child.stdin!.write(Buffer.from("go\n"));
      expect(yield* exited).toBe(-13);
      yield* stdin.lost;
      expect(log).toEqual(["in made", "in lost null"]);
    });
  });

  test("a child something else reaped first (ECHILD) exits with 255, as asyncio reports it, and is reaped once", async () => {
    const poller = new SelectorPoller();
    const reactor = (poller as unknown as { _reactor: { native: Record<string, (...args: unknown[]) => unknown> } })._reactor;
    const addon = reactor.native;
    let reaps = 0;
    // The real reaping happens; the addon then answers as if a waitpid(-1) elsewhere had taken it.
    const reap = (...args: unknown[]): unknown => {
      const status = addon.reap!(...args);
      if (status === null) return null;
      reaps++;
      return 1000 + 10;
    };
    reactor.native = Object.create(addon, { reap: { value: reap } }) as typeof addon;
    try {
      const [code, returncode] = await run(
        function* () {
          const exited = getRunningLoop().createFuture<number>();
          const child = yield* spawnChild(options("/bin/sh", ["-c", "exit 3"]), {}, exited);
          return [yield* exited, child.returncode];
        },
        { poller },
      );
      expect([code, returncode, reaps]).toEqual([255, 255, 1]);
    } finally {
      reactor.native = addon;
    }
  });

  test("a child the epoll set cannot take (ENOSPC) is killed and reaped at once, its pipe ends closed, and the spawn fails with that code", async () => {
    const poller = new SelectorPoller();
    const reactor = (poller as unknown as { _reactor: { native: Record<string, (...args: unknown[]) => unknown> } })._reactor;
    const addon = reactor.native;
    const ends: [number, number][] = [];
    let pid = 0;
    let watchFails = true;
    // The addon as it is, but the first watch() of a pidfd answers ENOSPC.
    // (Own properties over the addon's read-only ones: defined, not assigned.)
    const spy = {
      spawn(...args: unknown[]) {
        const rc = addon.spawn!(...args);
        const spawned = args[args.length - 1] as Int32Array;
        pid = spawned[0] as number;
        for (let i = 1; i < 5; i++) if ((spawned[i] as number) >= 0) ends.push([spawned[i] as number, fstatSync(spawned[i] as number).ino]);
        return rc;
      },
      watch(fd: unknown, on: unknown) {
        if (watchFails && on === 1) {
          watchFails = false;
          return -28;
        }
        return addon.watch!(fd, on);
      },
    };
    reactor.native = Object.create(addon, { spawn: { value: spy.spawn }, watch: { value: spy.watch } }) as typeof addon;
    const error = await run(
      function* () {
        try {
          yield* spawnChild(options("cat", [], { stdin: "pipe", stdout: "pipe", stderr: "pipe" }), {}, getRunningLoop().createFuture());
        } catch (e) {
          return e as NodeJS.ErrnoException;
        }
        throw new Error("the child started");
      },
      { poller },
    );
    expect(error).toMatchObject({ code: "ENOSPC", errno: -28, syscall: "spawn" });
    // pidfd and three pipe ends: each closed (its number free, or another file by now).
    expect(ends).toHaveLength(4);
    for (const [fd, ino] of ends) {
      let now = -1;
      try {
        now = fstatSync(fd).ino;
      } catch {
        // closed
      }
      expect(now).not.toBe(ino);
    }
    // Reaped, not a zombie: no process has its pid any more.
    expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: "ESRCH" }));
    expect(SelectorProcessDriver.running).toBe(0);
    expect(watchFails).toBe(false);
    reactor.native = addon;
  });
});

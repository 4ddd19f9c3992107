import { randomBytes } from "node:crypto";
import { CancelledError, createTask, getRunningLoop, run, type Coroutine, type Task } from "@loop/core";
import { LimitOverrunError } from "@loop/net";
import { describe, expect, test } from "vitest";
import { DEVNULL, PIPE, createSubprocessExec, createSubprocessShell, type Process } from "../src/index.js";
import { checkNoLeaks, childrenSettled, gone, text } from "./helpers.js";

checkNoLeaks();

/** Starts `cat` with stdin piped, so that the child runs until we close its input. */
function* startCat(): Coroutine<Process> {
  return yield* createSubprocessExec("cat", [], { stdin: PIPE, stdout: DEVNULL });
}

describe("returncode", () => {
  test("is the exit status, set once the child exited", async () => {
    const [before, after] = await run(function* () {
      const child = yield* createSubprocessExec("/bin/sh", ["-c", "exit 7"]);
      const early = child.returncode;
      yield* child.wait();
      return [early, child.returncode];
    });
    expect(before).toBeNull();
    expect(after).toBe(7);
  });

  test("is minus the signal's number when a signal ended the child", async () => {
    const codes = await run(function* () {
      const results: number[] = [];
      for (const stop of [(p: Process) => p.terminate(), (p: Process) => p.kill(), (p: Process) => p.sendSignal("SIGUSR1"), (p: Process) => p.sendSignal(2)]) {
        const child = yield* startCat();
        stop(child);
        results.push(yield* child.wait());
      }
      return results;
    });
    expect(codes).toEqual([-15, -9, -10, -2]);
  });

  test("sendSignal checks its signal at the call and does nothing after the exit", async () => {
    await run(function* () {
      const child = yield* startCat();
      expect(() => child.sendSignal("SIGNOPE")).toThrow(RangeError);
      expect(() => child.sendSignal(null as never)).toThrow(TypeError);
      child.stdin?.close();
      expect(yield* child.wait()).toBe(0);
      child.kill();
      child.sendSignal("SIGTERM");
      expect(child.returncode).toBe(0);
    });
  });
});

describe("cancellation leaves the child running (asyncio)", () => {
  test("a cancelled wait()", async () => {
    await run(function* () {
      const child = yield* startCat();
      const waiting = createTask(child.wait());
      yield;
      waiting.cancel();
      yield* expectCancelled(waiting);
      expect(gone(child.pid)).toBe(false);
      expect(child.returncode).toBeNull();
      child.stdin?.close();
      expect(yield* child.wait()).toBe(0);
    });
  });

  test("a cancelled communicate()", async () => {
    await run(function* () {
      const child = yield* createSubprocessExec("cat", [], { stdin: PIPE, stdout: PIPE });
      const talking = createTask(child.communicate());
      yield;
      talking.cancel();
      yield* expectCancelled(talking);
      expect(child.returncode).toBeNull();
      expect(gone(child.pid)).toBe(false);
      child.kill();
      expect(yield* child.wait()).toBe(-9);
    });
  });
});

test("communicate moves 10 MiB in and 10 MiB out (and 10 more on stderr) at once without deadlock", async () => {
  const input = randomBytes(10 * 1024 * 1024);
  const [out, err, code] = await run(function* () {
    // cat echoes stdin while a sibling floods stderr: all three pipes full at once.
    const child = yield* createSubprocessExec("/bin/sh", ["-c", "head -c 10485760 /dev/zero >&2 & cat; wait"], { stdin: PIPE, stdout: PIPE, stderr: PIPE });
    const [o, e] = yield* child.communicate(input);
    return [o, e, child.returncode];
  });
  expect(code).toBe(0);
  expect(Buffer.compare(Buffer.from(out as Uint8Array), input)).toBe(0);
  expect(Buffer.compare(Buffer.from(err as Uint8Array), Buffer.alloc(10 * 1024 * 1024))).toBe(0);
});

test("communicate ignores a child that closes its stdin without reading it all", async () => {
  const [out, code] = await run(function* () {
    const child = yield* createSubprocessExec("head", ["-c", "3"], { stdin: PIPE, stdout: PIPE });
    const [o] = yield* child.communicate(randomBytes(4 * 1024 * 1024));
    return [o, child.returncode];
  });
  expect(out?.byteLength).toBe(3);
  expect(code).toBe(0);
});

test("stdin has real backpressure: drain() waits until the child has read", async () => {
  const log = await run(function* () {
    const events: string[] = [];
    // cat writes what it reads to a pipe nobody reads yet: it stops reading, and our
    // writes pile up in stdin's buffer.
    const child = yield* createSubprocessExec("cat", [], { stdin: PIPE, stdout: PIPE, limit: 1024 });
    const stdin = child.stdin!;
    const payload = randomBytes(1024 * 1024);
    stdin.write(payload);
    expect(stdin.transport.getWriteBufferSize()).toBeGreaterThan(stdin.transport.getWriteBufferLimits().high);
    const draining = createTask(
      (function* () {
        yield* stdin.drain();
        events.push("drained");
        stdin.close();
      })(),
    );
    yield;
    yield;
    events.push(draining.done() ? "drained early" : "drain waits");
    events.push("reading");
    const out = yield* child.stdout!.read(-1);
    yield* draining;
    events.push(`read ${out.byteLength}`);
    yield* child.wait();
    return events;
  });
  expect(log).toEqual(["drain waits", "reading", "drained", `read ${1024 * 1024}`]);
});

test("stdout has real backpressure: past twice the limit the pipe is paused and the child waits", async () => {
  const [buffered, runningWhilePaused, total] = await run(function* () {
    const child = yield* createSubprocessExec("head", ["-c", "4000000", "/dev/zero"], { stdout: PIPE, limit: 1024 });
    const reader = child.stdout!;
    // Past twice the limit unread the reader pauses its pipe (asyncio's flow control).
    while (reader.bufferedSize <= 2 * 1024) yield;
    const pausedAt = reader.bufferedSize;
    // The child cannot write 4 MB into a paused pipe: it is still there, blocked.
    const stillRunning = child.returncode === null;
    let got = 0;
    for (;;) {
      const chunk = yield* reader.read(65536);
      if (chunk.byteLength === 0) break;
      got += chunk.byteLength;
    }
    yield* child.wait();
    return [pausedAt, stillRunning, got];
  });
  expect(buffered).toBeGreaterThan(2 * 1024);
  expect(buffered).toBeLessThan(1024 * 1024);
  expect(runningWhilePaused).toBe(true);
  expect(total).toBe(4_000_000);
});

test("communicate(input) without a stdin pipe is a TypeError at the call", async () => {
  await run(function* () {
    const child = yield* createSubprocessExec("/bin/true");
    expect(() => child.communicate("x")).toThrow(/stdin is not a pipe/);
    expect(() => child.communicate(5 as never)).toThrow(TypeError);
    yield* child.wait();
  });
});

test("the readers get `limit`: a line longer than it is a LimitOverrunError", async () => {
  await run(function* () {
    const child = yield* createSubprocessExec("/bin/sh", ["-c", "head -c 5000 /dev/zero; echo"], { stdout: PIPE, limit: 1024 });
    expect(child.stdout?.limit).toBe(1024);
    let error: unknown = null;
    try {
      yield* child.stdout!.readline();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LimitOverrunError);
    yield* child.stdout!.read(-1);
    expect(yield* child.wait()).toBe(0);
  });
});

test("wait() finishes only once the pipes are closed, with every byte in the reader", async () => {
  const [out, code] = await run(function* () {
    const child = yield* createSubprocessExec("/bin/sh", ["-c", "head -c 300000 /dev/zero"], { stdout: PIPE, limit: 1 << 20 });
    const reading = createTask(child.stdout!.read(-1));
    const status = yield* child.wait();
    return [(yield* reading).byteLength, status];
  });
  expect([out, code]).toEqual([300000, 0]);
});

test("a child still running when run() ends is killed and reaped, and debug mode says who started it", async () => {
  const warnings: string[] = [];
  let pid = 0;
  await run(
    function* () {
      const loop = getRunningLoop();
      loop.debugLogger = { warn: (message) => warnings.push(message) };
      // On a loaded machine the spawn itself can outlast the slow-callback threshold, and
      // that warning is not the one under test.
      loop.slowCallbackDuration = Number.POSITIVE_INFINITY;
      const child = yield* createSubprocessExec("sleep", ["100"]);
      pid = child.pid;
    },
    { debug: true },
  );
  await childrenSettled();
  expect(gone(pid)).toBe(true);
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toContain(`Child process ${pid} (sleep 100) was still running when the loop closed`);
  expect(warnings[0]).toMatch(/started by task "Task-\d+"/);
  expect(warnings[0]).toContain("process.test.ts");
});

test("without debug mode the leftover child is killed all the same, silently", async () => {
  const warnings: string[] = [];
  let pid = 0;
  await run(
    function* () {
      getRunningLoop().debugLogger = { warn: (message) => warnings.push(message) };
      // exec: dash would fork sleep as a grandchild, which the SIGKILL to the shell leaves behind.
      pid = (yield* createSubprocessShell("exec sleep 100")).pid;
    },
    { debug: false },
  );
  await childrenSettled();
  expect(gone(pid)).toBe(true);
  expect(warnings).toEqual([]);
});

test("toString names the child and its state", async () => {
  await run(function* () {
    const child = yield* startCat();
    expect(String(child)).toBe(`<Process ${child.pid} cat running>`);
    child.kill();
    yield* child.wait();
    expect(String(child)).toBe(`<Process ${child.pid} cat returncode=-9>`);
    expect(text(null)).toBe("<null>");
  });
});

function* expectCancelled(task: Task<unknown>): Coroutine<void> {
  try {
    yield* task;
  } catch (error) {
    expect(error).toBeInstanceOf(CancelledError);
    return;
  }
  throw new Error("the task was not cancelled");
}

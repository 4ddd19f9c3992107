import { CancelledError, TimeoutError, createTask, run, type Coroutine, type Task } from "@loop/core";
import { timeout } from "@loop/timers";
import { describe, expect, test } from "vitest";
import { CalledProcessError, CompletedProcess, PIPE, STDOUT, runProcess } from "../src/index.js";
import { PollerWith, RecordingDriver, checkNoLeaks, gone, text } from "./helpers.js";

checkNoLeaks();

describe("runProcess", () => {
  test("returns the status and what was captured", async () => {
    const done = await run(runProcess("/bin/sh", ["-c", "echo out; echo err >&2"], { captureStdout: true, captureStderr: true }));
    expect(done).toBeInstanceOf(CompletedProcess);
    expect(done.command).toEqual(["/bin/sh", "-c", "echo out; echo err >&2"]);
    expect([done.returncode, text(done.stdout), text(done.stderr)]).toEqual([0, "out\n", "err\n"]);
  });

  test("captures nothing unless asked (stdout: PIPE asks too)", async () => {
    const [plain, piped] = await run(function* () {
      return [yield* runProcess("/bin/true"), yield* runProcess("echo", ["x"], { stdout: PIPE, stderr: STDOUT })];
    });
    expect([plain.stdout, plain.stderr]).toEqual([null, null]);
    expect([text(piped.stdout), piped.stderr]).toEqual(["x\n", null]);
  });

  test("is checked by default: a non-zero status throws CalledProcessError with the output", async () => {
    const error = await run(runProcess("/bin/sh", ["-c", "echo partial; echo oops >&2; exit 3"], { captureStdout: true, captureStderr: true })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CalledProcessError);
    const failed = error as CalledProcessError;
    expect([failed.returncode, text(failed.stdout), text(failed.stderr)]).toEqual([3, "partial\n", "oops\n"]);
    expect(failed.command).toEqual(["/bin/sh", "-c", "echo partial; echo oops >&2; exit 3"]);
    expect(failed.message).toBe('Command ["/bin/sh","-c","echo partial; echo oops >&2; exit 3"] exited with status 3');
  });

  test("a child killed by a signal is a CalledProcessError that names the signal", async () => {
    const error = (await run(runProcess("/bin/sh", ["-c", "kill -KILL $$"])).catch((e: unknown) => e)) as CalledProcessError;
    expect(error.returncode).toBe(-9);
    expect(error.message).toContain("was killed by SIGKILL");
  });

  test("check: false returns the failure instead", async () => {
    const done = await run(runProcess("/bin/sh", ["-c", "exit 4"], { check: false }));
    expect(done.returncode).toBe(4);
    expect(() => done.checkReturncode()).toThrow(CalledProcessError);
  });

  test("input is written to stdin, which is then closed", async () => {
    const done = await run(runProcess("sort", [], { input: "b\nc\na\n", captureStdout: true }));
    expect(text(done.stdout)).toBe("a\nb\nc\n");
  });

  test("without input, stdin is empty: a reader of stdin ends at once", async () => {
    const done = await run(runProcess("cat", [], { captureStdout: true }));
    expect(text(done.stdout)).toBe("");
  });

  test("bad options throw at the call", () => {
    expect(() => runProcess("cat", [], { input: 5 as never })).toThrow(TypeError);
    expect(() => runProcess("cat", [], { input: "x", stdin: 0 })).toThrow(/either input or stdin/);
    expect(() => runProcess("cat", [], { check: "yes" as never })).toThrow(TypeError);
    expect(() => runProcess("", [])).toThrow(TypeError);
  });
});

describe("a cancelled runProcess stops its child and waits for it", () => {
  test("cancelled: SIGTERM, the child is reaped before CancelledError goes on", async () => {
    const driver = new RecordingDriver();
    const pid = await run(
      function* () {
        const task = createTask(runProcess("sleep", ["100"]));
        while (driver.spawns.length === 0 || driver.spawns[0]?.handle === null) yield;
        const record = driver.spawns[0]!;
        task.cancel();
        try {
          yield* task;
        } catch (error) {
          expect(error).toBeInstanceOf(CancelledError);
        }
        // The child is gone already, not merely signalled.
        expect(record.returncode).toBe(-15);
        expect(gone(record.handle!.pid)).toBe(true);
        expect(record.signals).toEqual(["SIGTERM"]);
        return record.handle!.pid;
      },
      { poller: new PollerWith(driver) },
    );
    expect(gone(pid)).toBe(true);
  });

  test("a child that ignores killSignal gets SIGKILL after the grace period", async () => {
    const driver = new RecordingDriver();
    await run(
      function* () {
        // The shell ignores SIGTERM and execs sleep, which inherits that; "ready" says so.
        const task = createTask(runProcess("/bin/sh", ["-c", "trap '' TERM; echo ready; exec sleep 100"], { captureStdout: true, gracePeriodMs: 50 }));
        while (driver.spawns.length === 0) yield;
        const record = driver.spawns[0]!;
        expect(text(yield* record.firstOutput)).toBe("ready\n");
        task.cancel();
        yield* awaitSettled(task);
        expect(task.cancelled()).toBe(true);
        expect(record.signals).toEqual(["SIGTERM", "SIGKILL"]);
        expect(record.returncode).toBe(-9);
        expect(gone(record.handle!.pid)).toBe(true);
      },
      { poller: new PollerWith(driver) },
    );
  });

  test("killSignal chooses the first signal; a child that dies of it gets no SIGKILL", async () => {
    const driver = new RecordingDriver();
    await run(
      function* () {
        const task = createTask(runProcess("sleep", ["100"], { killSignal: "SIGINT" }));
        while (driver.spawns.length === 0 || driver.spawns[0]?.handle === null) yield;
        task.cancel();
        yield* awaitSettled(task);
        expect(driver.spawns[0]!.signals).toEqual(["SIGINT"]);
        expect(driver.spawns[0]!.returncode).toBe(-2);
      },
      { poller: new PollerWith(driver) },
    );
  });

  test("a second cancellation during the grace period sends SIGKILL at once", async () => {
    const driver = new RecordingDriver();
    await run(
      function* () {
        const task = createTask(runProcess("/bin/sh", ["-c", "trap '' TERM; echo ready; exec sleep 100"], { captureStdout: true, gracePeriodMs: 3_600_000 }));
        while (driver.spawns.length === 0) yield;
        const record = driver.spawns[0]!;
        yield* record.firstOutput;
        task.cancel();
        while (record.signals.length === 0) yield; // the cancellation reaches runProcess
        yield;
        expect(record.signals).toEqual(["SIGTERM"]);
        task.cancel();
        yield* awaitSettled(task);
        expect(task.cancelled()).toBe(true);
        expect(record.signals).toEqual(["SIGTERM", "SIGKILL"]);
        expect(record.returncode).toBe(-9);
      },
      { poller: new PollerWith(driver) },
    );
  });

  test("a timeout around runProcess becomes a TimeoutError with no child left", async () => {
    const driver = new RecordingDriver();
    await run(
      function* () {
        let error: unknown = null;
        try {
          yield* timeout(20, () => runProcess("sleep", ["100"]));
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(TimeoutError);
        expect(gone(driver.spawns[0]!.handle!.pid)).toBe(true);
      },
      { poller: new PollerWith(driver) },
    );
  });
});

function* awaitSettled(task: Task<unknown>): Coroutine<void> {
  try {
    yield* task;
  } catch { // eslint-disable-line @loop/no-swallowed-cancel -- the task's own end (cancelled) is expected; what the tests look at is the child
    // cancelled: what the tests look at is the child
  }
}

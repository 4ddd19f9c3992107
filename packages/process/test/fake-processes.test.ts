import { CancelledError, TimeoutError, createTask, getRunningLoop } from "@loop/core";
import { DeadlockError, FakeProcesses, runVirtual } from "@loop/testing";
import { sleep, timeout } from "@loop/timers";
import { describe, expect, test } from "vitest";
import { CalledProcessError, PIPE, STDOUT, createSubprocessExec, createSubprocessShell, runProcess } from "../src/index.js";
import { text } from "./helpers.js";

describe("scripted fake processes in virtual time", () => {
  test("output arrives at the virtual times the script writes it", async () => {
    const processes = new FakeProcesses().define("ticker", function* (child) {
      for (let i = 1; i <= 3; i++) {
        yield* sleep(1_000);
        child.stdout.write(`tick ${i}\n`);
      }
      return 0;
    });
    const lines = await runVirtual(
      function* () {
        const loop = getRunningLoop();
        const child = yield* createSubprocessExec("ticker", [], { stdout: PIPE });
        const seen: string[] = [];
        for (;;) {
          const line = yield* child.stdout!.readline();
          if (line.byteLength === 0) break;
          seen.push(`${loop.time()}: ${text(line).trim()}`);
        }
        expect(yield* child.wait()).toBe(0);
        return seen;
      },
      { processes },
    );
    expect(lines).toEqual(["1000: tick 1", "2000: tick 2", "3000: tick 3"]);
  });

  test("a script reads stdin and its exit status comes back; runProcess checks it", async () => {
    const processes = new FakeProcesses({
      upper: function* (child) {
        const input = yield* child.stdin.readAll();
        child.stdout.write(text(input).toUpperCase());
        child.stderr.write("done\n");
        return child.args.includes("--fail") ? 2 : 0;
      },
    });
    const [ok, failed] = await runVirtual(
      function* () {
        const done = yield* runProcess("upper", [], { input: "shout", captureStdout: true, captureStderr: true });
        let error: unknown = null;
        try {
          yield* runProcess("/usr/bin/upper", ["--fail"], { input: "x", captureStderr: true });
        } catch (e) {
          error = e;
        }
        return [done, error as CalledProcessError];
      },
      { processes },
    );
    expect([text(ok.stdout), text(ok.stderr)]).toEqual(["SHOUT", "done\n"]);
    expect(failed).toBeInstanceOf(CalledProcessError);
    expect([failed.returncode, text(failed.stderr)]).toEqual([2, "done\n"]);
    expect(processes.started.map((p) => [p.program, p.args, p.returncode])).toEqual([
      ["upper", [], 0],
      ["/usr/bin/upper", ["--fail"], 2],
    ]);
  });

  test("an undefined program fails at the call with ENOENT", async () => {
    await expect(runVirtual(createSubprocessExec("nope"), { processes: new FakeProcesses() })).rejects.toMatchObject({ code: "ENOENT", message: expect.stringContaining('"nope"') });
  });

  test("a signal kills a script that does not trap it: returncode -N", async () => {
    const processes = new FakeProcesses().define("server", function* () {
      yield* sleep(3_600_000);
    });
    const codes = await runVirtual(
      function* () {
        const a = yield* createSubprocessExec("server");
        const b = yield* createSubprocessExec("server");
        a.terminate();
        b.sendSignal("SIGUSR1");
        return [yield* a.wait(), yield* b.wait()];
      },
      { processes },
    );
    expect(codes).toEqual([-15, -10]);
  });

  test("runProcess cancelled: killSignal, then SIGKILL after the grace period, in virtual time", async () => {
    const processes = new FakeProcesses().define("stubborn", function* (child) {
      child.trap("SIGTERM");
      for (;;) {
        const signal = yield* child.nextSignal();
        child.stderr.write(`ignoring ${signal}\n`);
      }
    });
    const [error, elapsed] = await runVirtual(
      function* () {
        const loop = getRunningLoop();
        const started = loop.time();
        let caught: unknown = null;
        try {
          yield* timeout(1_000, () => runProcess("stubborn", [], { gracePeriodMs: 5_000 }));
        } catch (e) {
          caught = e;
        }
        return [caught, loop.time() - started];
      },
      { processes },
    );
    expect(error).toBeInstanceOf(TimeoutError);
    // 1 s until the timeout, then the whole 5 s grace before SIGKILL.
    expect(elapsed).toBe(6_000);
    expect(processes.started[0]).toMatchObject({ signals: ["SIGTERM", "SIGKILL"], returncode: -9, stderr: "ignoring SIGTERM\n" });
    expect(processes.running).toBe(0);
  });

  test("a script that obeys SIGTERM is not killed", async () => {
    const processes = new FakeProcesses().define("polite", function* (child) {
      child.trap("SIGTERM");
      yield* child.nextSignal();
      yield* sleep(200); // cleaning up
      return 0;
    });
    const elapsed = await runVirtual(
      function* () {
        const loop = getRunningLoop();
        const task = createTask(runProcess("polite"));
        yield* sleep(100);
        task.cancel();
        try {
          yield* task;
        } catch (error) {
          expect(error).toBeInstanceOf(CancelledError);
        }
        return loop.time();
      },
      { processes },
    );
    expect(elapsed).toBe(300);
    expect(processes.started[0]).toMatchObject({ signals: ["SIGTERM"], returncode: 0 });
  });

  test("stdin backpressure: drain() waits until the script reads", async () => {
    const processes = new FakeProcesses().define("slow-reader", function* (child) {
      let total = 0;
      for (;;) {
        yield* sleep(1_000);
        const chunk = yield* child.stdin.read();
        if (chunk.byteLength === 0) break;
        total += chunk.byteLength;
      }
      child.stdout.write(String(total));
    });
    const [drainedAt, out] = await runVirtual(
      function* () {
        const loop = getRunningLoop();
        const child = yield* createSubprocessExec("slow-reader", [], { stdin: PIPE, stdout: PIPE });
        child.stdin!.write(new Uint8Array(200_000));
        yield* child.stdin!.drain();
        const at = loop.time();
        child.stdin!.close();
        const [o] = yield* child.communicate();
        return [at, text(o)];
      },
      { processes },
    );
    expect(drainedAt).toBe(1_000);
    expect(out).toBe("200000");
  });

  test("STDOUT merges the script's stderr into stdout, in order; shell commands run /bin/sh", async () => {
    const processes = new FakeProcesses().define("sh", function* (child) {
      child.stdout.write(`running ${child.args[1]}\n`);
      child.stderr.write("warning\n");
      child.stdout.write("end\n");
    });
    const [out] = await runVirtual(
      function* () {
        const child = yield* createSubprocessShell("make all", { stdout: PIPE, stderr: STDOUT });
        return yield* child.communicate();
      },
      { processes },
    );
    expect(text(out)).toBe("running make all\nwarning\nend\n");
  });

  test("a parent waiting on a child that waits for input is a deadlock the poller names", async () => {
    const processes = new FakeProcesses().define("cat", function* (child) {
      child.stdout.write(yield* child.stdin.readAll());
    });
    const error = await runVirtual(
      function* () {
        const child = yield* createSubprocessExec("cat", [], { stdin: PIPE });
        yield* child.wait();
      },
      { processes },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlockError);
    expect(String((error as Error).message)).toContain("fake cat (pid");
  });

  test("a read that can never finish is named after the command in the deadlock report", async () => {
    const processes = new FakeProcesses().define("tail", function* (child) {
      yield* child.nextSignal();
    });
    const error = await runVirtual(
      function* () {
        const child = yield* createSubprocessExec("tail", ["-f", "log"], { stdout: PIPE });
        yield* child.stdout!.readline();
      },
      { processes },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlockError);
    expect(String((error as Error).message)).toContain("StreamReader.readline from stdout of tail -f log");
  });

  test("a script still running when the run ends dies with the run", async () => {
    const processes = new FakeProcesses().define("daemon", function* () {
      yield* sleep(3_600_000);
    });
    await runVirtual(function* () {
      yield* createSubprocessExec("daemon");
    }, { processes });
    expect(processes.started[0]?.returncode).toBe(-9);
    expect(processes.running).toBe(0);
  });
});

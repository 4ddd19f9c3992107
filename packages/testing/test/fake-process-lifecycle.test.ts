import { getRunningLoop, type ErrorContext, type ProcessHandle, type ReadTransport } from "@loop/core";
import { describe, expect, test } from "vitest";
import { FakeProcesses, runVirtual } from "../src/index.js";
import { logged, one, options, run, sleepFor, spawn, turns } from "./fake-process-protocols.js";

// A fake child's life as its parent sees it: starting (or ENOENT), its pid, its signals,
// its exit status, reaped once. Every run fails if a loop callback threw.

describe("FakeProcesses: defining and starting programs", () => {
  test("define() names a bad program or script with a TypeError at the call", () => {
    const processes = new FakeProcesses();
    const script = function* () {};
    expect(() => processes.define("", script)).toThrow(new TypeError("FakeProcesses.define(program, script): program must be a non-empty string"));
    expect(() => processes.define(42 as unknown as string, script)).toThrow(new TypeError("FakeProcesses.define(program, script): program must be a non-empty string"));
    expect(() => processes.define("p", "echo" as unknown as () => never)).toThrow(
      new TypeError("FakeProcesses.define(program, script): script must be a generator function (child) => Coroutine<number | void>"),
    );
    expect(() => new FakeProcesses({ p: undefined as unknown as () => never })).toThrow(TypeError);
  });

  test("a program not defined is an ENOENT error shaped like Node's, in a later turn", async () => {
    const processes = one(function* () {});
    const error = await run(processes, function* () {
      try {
        yield* spawn(processes, "/usr/bin/missing", logged());
      } catch (e) {
        return e;
      }
      return null;
    });
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ code: "ENOENT", errno: -2, syscall: "spawn", path: "/usr/bin/missing" });
    expect((error as Error).message).toBe('cannot start "/usr/bin/missing": no such file or directory (ENOENT); define it with FakeProcesses.define');
  });

  test("a spawn of a missing program cancelled before it fails reports nothing", async () => {
    const processes = one(function* () {});
    const state = await run(processes, function* () {
      const future = processes.spawn(getRunningLoop(), options("missing"), logged());
      future.cancel();
      yield* turns(2);
      return future.cancelled();
    });
    expect(state).toBe(true);
  });

  test("a program is found by its last path part; pids count up from 1000; running counts live children", async () => {
    const processes = one(function* (child) {
      yield* sleepFor(10);
      return child.pid;
    });
    const [codes, running] = await run(processes, function* () {
      const a = logged();
      const b = logged();
      yield* spawn(processes, "/bin/p", a);
      yield* spawn(processes, "p", b);
      const running = [processes.running];
      const codes = [yield* a.exited, yield* b.exited];
      running.push(processes.running);
      return [codes, running] as const;
    });
    expect(codes).toEqual([1000, 1001]);
    expect(running).toEqual([2, 0]);
    expect(processes.started.map((r) => [r.pid, r.program])).toEqual([[1000, "/bin/p"], [1001, "p"]]);
  });
});

describe("FakeProcesses: exit status", () => {
  test("returncode is null while the script runs, then its status; a script returning nothing exits 0", async () => {
    const processes = new FakeProcesses({
      seven: function* () {
        yield* sleepFor(10);
        return 7;
      },
      nothing: function* () {
        yield* sleepFor(10);
      },
    });
    const seen = await run(processes, function* () {
      const a = logged();
      const b = logged();
      const seven = yield* spawn(processes, "seven", a);
      const nothing = yield* spawn(processes, "nothing", b);
      const seen = [seven.returncode, nothing.returncode];
      seen.push(yield* a.exited, yield* b.exited, seven.returncode, nothing.returncode);
      return seen;
    });
    expect(seen).toEqual([null, null, 7, 0, 7, 0]);
  });

  test("a script that throws exits 1: the error goes to the exception handler and its stack to the child's stderr", async () => {
    const failure = new Error("boom");
    const processes = new FakeProcesses({
      fails: function* () {
        yield* sleepFor(5);
        throw failure;
      },
      throwsText: function* () {
        throw "plain";
      },
    });
    const errors: ErrorContext[] = [];
    const [codes, a, b] = await runVirtual(function* () {
      getRunningLoop().setExceptionHandler((_loop, context) => errors.push(context));
      const a = logged();
      const b = logged();
      yield* spawn(processes, "fails", a);
      yield* spawn(processes, "throwsText", b);
      const codes = [yield* a.exited, yield* b.exited];
      yield* turns(3);
      return [codes, a, b] as const;
    }, { processes });
    expect(codes).toEqual([1, 1]);
    expect(errors.map((e) => [e.message, e.exception])).toEqual([
      ["fake process throwsText (pid 1001) failed", "plain"],
      ["fake process fails (pid 1000) failed", failure],
    ]);
    expect(errors[0]?.task).toBeDefined();
    expect(processes.started[0]?.stderr).toBe(`${failure.stack}\n`);
    expect(processes.started[1]?.stderr).toBe("plain\n");
    expect(a.log).toContain(`5 stderr: ${new TextEncoder().encode(`${failure.stack}\n`).byteLength} bytes`);
    expect(b.log).toContain("0 stderr: plain\n");
  });

  test("an error without a stack is reported by its message", async () => {
    const failure = new Error("no stack here");
    failure.stack = undefined;
    const processes = one(function* () {
      throw failure;
    });
    await runVirtual(function* () {
      getRunningLoop().setExceptionHandler(() => {});
      const a = logged();
      yield* spawn(processes, "p", a);
      yield* a.exited;
    }, { processes });
    expect(processes.started[0]?.stderr).toBe("no stack here\n");
  });

  test("what a script's leftover task writes after the exit is not recorded", async () => {
    const processes = one(function* (child) {
      getRunningLoop().createTask(
        (function* () {
          yield* sleepFor(10);
          child.stdout.write("late");
          child.stderr.write("late");
        })(),
      );
      child.stdout.write("on time");
      return 0;
    });
    await run(processes, function* () {
      const a = logged();
      yield* spawn(processes, "p", a);
      yield* a.exited;
      yield* sleepFor(20);
    });
    expect(processes.started[0]).toMatchObject({ stdout: "on time", stderr: "" });
  });

  test("a script still running when the run ends dies of SIGKILL, reaped once; close() afterwards changes nothing", async () => {
    const processes = one(function* () {
      yield* sleepFor(3_600_000);
    });
    const exits: number[] = [];
    const handle = await run(processes, function* () {
      const a = logged();
      const handle = yield* spawn(processes, "p", { ...a, processExited: (code) => exits.push(code) });
      yield* sleepFor(10);
      return handle;
    });
    expect([handle.returncode, processes.running, exits]).toEqual([-9, 0, []]);
    handle.close();
    handle.sendSignal("SIGTERM");
    expect([handle.returncode, processes.started[0]?.signals]).toEqual([-9, []]);
  });
});

describe("FakeProcesses: signals", () => {
  test("signals whose default is not to end a program leave it running; they are recorded in order", async () => {
    const harmless = ["SIGCHLD", "SIGCONT", "SIGURG", "SIGWINCH", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU"];
    const processes = one(function* () {
      yield* sleepFor(10);
      return 3;
    });
    const code = await run(processes, function* () {
      const a = logged();
      const handle = yield* spawn(processes, "p", a);
      for (const signal of harmless) handle.sendSignal(signal);
      handle.sendSignal(0); // only asks whether it is alive
      return yield* a.exited;
    });
    expect(code).toBe(3);
    expect(processes.started[0]?.signals).toEqual(harmless);
  });

  test("a signal by number is its Linux name; an unknown name or number is a RangeError naming it", async () => {
    const processes = one(function* () {
      yield* sleepFor(10);
    });
    const [code, errors] = await run(processes, function* () {
      const a = logged();
      const handle = yield* spawn(processes, "p", a);
      const errors: unknown[] = [];
      for (const signal of [99, -1, "SIGNOPE", "sigterm"]) {
        try {
          handle.sendSignal(signal);
        } catch (error) {
          errors.push(error);
        }
      }
      handle.sendSignal(15);
      return [yield* a.exited, errors] as const;
    });
    expect(code).toBe(-15);
    expect(processes.started[0]?.signals).toEqual(["SIGTERM"]);
    expect(errors).toEqual([
      new RangeError("fake process: unknown signal number 99"),
      new RangeError("fake process: unknown signal number -1"),
      new RangeError('fake process: unknown signal "SIGNOPE"'),
      new RangeError('fake process: unknown signal "sigterm"'),
    ]);
    for (const error of errors) expect(error).toBeInstanceOf(RangeError);
  });

  test("SIGKILL cannot be trapped: trap() throws, and SIGKILL kills a script that trapped the rest", async () => {
    const thrown: unknown[] = [];
    const processes = one(function* (child) {
      try {
        child.trap("SIGKILL");
      } catch (error) {
        thrown.push(error);
      }
      child.trap("SIGTERM", "SIGINT");
      for (;;) yield* child.nextSignal();
    });
    const code = await run(processes, function* () {
      const a = logged();
      const handle = yield* spawn(processes, "p", a);
      yield* turns(2);
      handle.sendSignal("SIGTERM");
      handle.sendSignal("SIGINT");
      yield* turns(2);
      expect(handle.returncode).toBe(null);
      handle.sendSignal("SIGKILL");
      return yield* a.exited;
    });
    expect(code).toBe(-9);
    expect(thrown).toEqual([new RangeError("FakeChild.trap: SIGKILL cannot be trapped")]);
    expect(processes.started[0]?.signals).toEqual(["SIGTERM", "SIGINT", "SIGKILL"]);
  });

  test("trapped signals queue in order: sent before the script waits, or two in the turn it wakes", async () => {
    const got: string[] = [];
    const processes = one(function* (child) {
      child.trap("SIGUSR1", "SIGUSR2", "SIGHUP", "SIGINT");
      yield* sleepFor(10);
      for (let i = 0; i < 4; i++) got.push(yield* child.nextSignal());
      return 0;
    });
    const code = await run(processes, function* () {
      const a = logged();
      const handle = yield* spawn(processes, "p", a);
      yield* turns(2);
      handle.sendSignal("SIGUSR1"); // the script is asleep, not waiting for one
      yield* sleepFor(20); // now it waits
      handle.sendSignal("SIGUSR2");
      handle.sendSignal("SIGHUP");
      yield* turns(2);
      handle.sendSignal("SIGINT");
      return yield* a.exited;
    });
    expect(code).toBe(0);
    expect(got).toEqual(["SIGUSR1", "SIGUSR2", "SIGHUP", "SIGINT"]);
  });

  test("signals after the exit are ignored and not recorded", async () => {
    const processes = one(function* () {
      return 2;
    });
    const [code, handle] = await run(processes, function* () {
      const a = logged();
      const handle = yield* spawn(processes, "p", a);
      const code = yield* a.exited;
      handle.sendSignal("SIGTERM");
      handle.sendSignal("SIGKILL");
      handle.close();
      yield* turns(2);
      return [code, handle] as const;
    });
    expect([code, handle.returncode, processes.started[0]?.signals]).toEqual([2, 2, []]);
  });
});

describe("FakeProcesses: close() (the transport's kill on close)", () => {
  test("close() kills a running script with SIGKILL; after a signal already sent, that signal is its death", async () => {
    const processes = one(function* () {
      yield* sleepFor(1000);
      return 0;
    });
    const [codes, exits, time] = await run(processes, function* () {
      const exits: number[] = [];
      const a = logged();
      const b = logged();
      const first: ProcessHandle = yield* spawn(processes, "p", { ...a, processExited: (code) => (exits.push(code), a.processExited(code)) });
      const second = yield* spawn(processes, "p", b);
      first.close();
      first.close();
      second.sendSignal("SIGTERM");
      second.close();
      const codes = [yield* a.exited, yield* b.exited];
      yield* turns(3);
      return [codes, exits, getRunningLoop().time()] as const;
    });
    expect(codes).toEqual([-9, -15]);
    expect(exits).toEqual([-9]); // reaped exactly once
    expect(time).toBe(0); // killed then, not when the script would have ended
  });

  test("a script that will not die with the run is reaped by close() once the loop is closed; an exited one keeps its status", async () => {
    const handles: ProcessHandle[] = [];
    const processes = new FakeProcesses({
      stubborn: function* () {
        const loop = getRunningLoop();
        try {
          yield* loop.createFuture<void>();
        } finally {
          yield* loop.createFuture<void>(); // never: the run ends around it
        }
      },
      done: function* () {
        return 2;
      },
    });
    await runVirtual(function* () {
      const b = logged();
      handles.push(yield* spawn(processes, "done", b));
      yield* b.exited;
      handles.push(yield* spawn(processes, "stubborn", logged()));
      yield;
    }, { processes }).catch(() => {}); // the poller names the stubborn script in a deadlock
    const [done, stubborn] = handles as [ProcessHandle, ProcessHandle];
    expect([done.returncode, stubborn.returncode, processes.running]).toEqual([2, null, 1]);
    done.close();
    stubborn.close();
    stubborn.close();
    expect([done.returncode, stubborn.returncode, processes.running]).toEqual([2, -9, 0]);
    expect(processes.started.map((r) => r.returncode)).toEqual([2, -9]);
  });
});

describe("FakeProcesses: what a deadlock report says a script waits on", () => {
  test("a signal, stdin, or room in a full pipe", async () => {
    const processes = new FakeProcesses({
      waits: function* (child) {
        child.trap("SIGUSR1");
        yield* child.nextSignal();
      },
      reads: function* (child) {
        yield* child.stdin.read();
      },
      writes: function* (child) {
        child.stdout.write(new Uint8Array(70_000));
        yield* child.stdout.drain();
      },
    });
    const error = await runVirtual(function* () {
      const a = logged();
      yield* spawn(processes, "waits", a);
      yield* spawn(processes, "reads", logged());
      const c = logged();
      yield* spawn(processes, "writes", c);
      (c.stdoutTransport as ReadTransport).pauseReading();
      yield* a.exited;
    }, { processes }).catch((e: unknown) => e);
    const message = String((error as Error).message);
    expect(message).toContain('task "fake waits (pid 1000)" waiting on fake waits: waiting for a signal');
    expect(message).toContain('task "fake reads (pid 1001)" waiting on fake process: read from stdin');
    expect(message).toContain('task "fake writes (pid 1002)" waiting on fake process: write to a full pipe');
  });
});

import { getRunningLoop, type BaseTransport, type Coroutine, type Future, type ProcessHandle, type ProcessProtocols, type Protocol, type SpawnOptions } from "@loop/core";
import { describe, expect, test } from "vitest";
import { FakeProcesses, runVirtual } from "../src/index.js";

// The driver as @loop/process drives it, without @loop/process: protocols that log.

const options = (program: string, more: Partial<SpawnOptions> = {}): SpawnOptions => ({
  program,
  args: [],
  stdin: "pipe",
  stdout: "pipe",
  stderr: "pipe",
  startNewSession: false,
  ...more,
});

function loggingProtocols(log: string[]): ProcessProtocols & { exited: Future<number> } {
  const loop = getRunningLoop();
  const exited = loop.createFuture<number>();
  const reading = (name: string): Protocol => ({
    connectionMade: () => log.push(`${name} made`),
    dataReceived: (data) => log.push(`${loop.time()} ${name}: ${new TextDecoder().decode(data)}`),
    eofReceived: () => {
      log.push(`${name} eof`);
    },
    connectionLost: () => log.push(`${name} lost`),
    pauseWriting: () => {},
    resumeWriting: () => {},
  });
  return {
    stdin: {
      connectionMade: (_t: BaseTransport) => log.push("stdin made"),
      connectionLost: () => log.push(`${loop.time()} stdin lost`),
      pauseWriting: () => log.push(`${loop.time()} stdin paused`),
      resumeWriting: () => log.push(`${loop.time()} stdin resumed`),
    },
    stdout: reading("stdout"),
    stderr: reading("stderr"),
    processExited: (code) => {
      log.push(`exited ${code}`);
      exited.setResult(code);
    },
    exited,
  };
}

function* spawn(processes: FakeProcesses, spawnOptions: SpawnOptions, protocols: ProcessProtocols): Coroutine<ProcessHandle> {
  return yield* processes.spawn(getRunningLoop(), spawnOptions, protocols);
}

describe("FakeProcesses, driven directly", () => {
  test("pipes are made before the spawn resolves; output arrives at its virtual time; then the end, then the exit", async () => {
    const processes = new FakeProcesses().define("hello", function* (child) {
      child.stdout.write("hi");
      yield* sleepFor(50);
      child.stderr.write("bye");
      return 3;
    });
    const log = await runVirtual(function* () {
      const lines: string[] = [];
      const protocols = loggingProtocols(lines);
      const handle = yield* spawn(processes, options("hello"), protocols);
      lines.push(`pid ${handle.pid}`);
      yield* protocols.exited;
      yield;
      yield;
      return lines;
    });
    expect(log.slice(0, 4)).toEqual(["stdin made", "stdout made", "stderr made", "pid 1000"]);
    expect(log).toContain("0 stdout: hi");
    expect(log).toContain("50 stderr: bye");
    expect(log.indexOf("stdout eof")).toBeLessThan(log.indexOf("stdout lost"));
    expect(log).toContain("exited 3");
    expect(processes.started[0]).toMatchObject({ returncode: 3, stdout: "hi", stderr: "bye" });
  });

  test("stdin past 64 KiB unread pauses the writer until the script reads", async () => {
    const processes = new FakeProcesses().define("slow", function* (child) {
      yield* sleepFor(100);
      yield* child.stdin.readAll();
    });
    const log = await runVirtual(function* () {
      const lines: string[] = [];
      const protocols = loggingProtocols(lines);
      const handle = yield* spawn(processes, options("slow"), protocols);
      handle.stdin?.write(new Uint8Array(100_000));
      handle.stdin?.close();
      yield* protocols.exited;
      return lines.filter((line) => line.includes("stdin"));
    });
    expect(log).toEqual(["stdin made", "0 stdin paused", "0 stdin lost"]);
  });

  test("a paused stdin resumes when the script reads", async () => {
    const processes = new FakeProcesses().define("slow", function* (child) {
      yield* sleepFor(100);
      yield* child.stdin.read();
      yield* sleepFor(100);
    });
    const log = await runVirtual(function* () {
      const lines: string[] = [];
      const protocols = loggingProtocols(lines);
      const handle = yield* spawn(processes, options("slow"), protocols);
      handle.stdin?.write(new Uint8Array(100_000));
      yield* protocols.exited;
      return lines.filter((line) => line.includes("stdin"));
    });
    expect(log).toEqual(["stdin made", "0 stdin paused", "100 stdin resumed", "200 stdin lost"]);
  });

  test("an undefined program is ENOENT; signals: trapped ones queue, others end the script with -N", async () => {
    const processes = new FakeProcesses({
      stubborn: function* (child) {
        child.trap("SIGTERM", "SIGHUP");
        return (yield* child.nextSignal()) === "SIGHUP" ? 0 : 1;
      },
    });
    const [error, codes, signals] = await runVirtual(function* () {
      let caught: unknown = null;
      try {
        yield* spawn(processes, options("missing"), loggingProtocols([]));
      } catch (e) {
        caught = e;
      }
      const a = loggingProtocols([]);
      const first = yield* spawn(processes, options("stubborn"), a);
      yield; // the script runs up to its trap, as a real one would need a moment to start
      first.sendSignal("SIGHUP");
      const b = loggingProtocols([]);
      const second = yield* spawn(processes, options("stubborn"), b);
      second.sendSignal("SIGINT");
      second.sendSignal("SIGKILL"); // after the exit: ignored
      expect(() => second.sendSignal("SIGNOPE")).toThrow(RangeError);
      return [caught, [yield* a.exited, yield* b.exited], processes.started.map((p) => p.signals)];
    });
    expect(error).toMatchObject({ code: "ENOENT" });
    expect(codes).toEqual([0, -2]);
    expect(signals).toEqual([["SIGHUP"], ["SIGINT"]]);
  });
});

function* sleepFor(ms: number): Coroutine<void> {
  const loop = getRunningLoop();
  const done = loop.createFuture<void>();
  loop.callLater(ms, () => done.setResult(undefined));
  yield* done;
}

// The parent's ends of a child's pipes on the selector (pipes.ts), driven through the
// processes driver with protocols that log every call: write-buffer flow control to the
// byte, what a paused read pipe holds back, EPIPE, and the state each transport reports.
import { readFileSync, readlinkSync } from "node:fs";
import {
  getRunningLoop,
  run,
  type AbstractFuture,
  type BaseProtocol,
  type BaseTransport,
  type Coroutine,
  type ProcessHandle,
  type ProcessProtocols,
  type ProcessStdio,
  type Protocol,
  type ReadTransport,
  type WriteTransport,
} from "@loop/core";
import { afterEach, describe, expect, test } from "vitest";
import { SelectorPoller, SelectorProcessDriver, processesUnavailableReason, type SelectorPipe } from "../src/index.js";
import { DATA, DRAINED, EOF, ERROR } from "../src/native.js";
import { expectNoOpenDescriptors } from "./helpers.js";

const native = processesUnavailableReason() === null;

/** Every child a test started: killed after it, should the test have failed first. */
const started: ProcessHandle[] = [];

afterEach(async () => {
  for (const child of started.splice(0)) child.close();
  await SelectorProcessDriver.settled();
  await expectNoOpenDescriptors();
});

/** Logs every call with its pipe's name into a shared log; `lost` settles at connectionLost. */
class Logger implements Protocol {
  transport: BaseTransport | null = null;
  readonly lost: AbstractFuture<Error | null>;
  bytes = 0;
  constructor(
    private readonly _name: string,
    readonly log: string[],
    /** Called with each chunk after it is logged. */
    readonly onData: (data: Uint8Array) => void = () => {},
  ) {
    this.lost = getRunningLoop().createFuture();
  }
  connectionMade(transport: BaseTransport): void {
    this.transport = transport;
    this.log.push(`${this._name} made`);
  }
  dataReceived(data: Uint8Array): void {
    this.bytes += data.byteLength;
    this.log.push(`${this._name} data ${Buffer.from(data).toString()}`);
    this.onData(data);
  }
  eofReceived(): boolean {
    this.log.push(`${this._name} eof`);
    return false;
  }
  connectionLost(error: Error | null): void {
    this.log.push(`${this._name} lost ${error === null ? "null" : String((error as { code?: string }).code)}`);
    this.lost.setResult(error);
  }
  pauseWriting(): void {
    this.log.push(`${this._name} pause`);
  }
  resumeWriting(): void {
    this.log.push(`${this._name} resume`);
  }
}

/** A byte-counting stdout that logs only its end, for children that write a lot. */
class Counter extends Logger {
  override dataReceived(data: Uint8Array): void {
    this.bytes += data.byteLength;
  }
}

interface Stdio {
  stdin?: Exclude<ProcessStdio, "stdout">;
  stdout?: Exclude<ProcessStdio, "stdout">;
  stderr?: ProcessStdio;
}

/** Spawns through the running loop's SelectorPoller driver itself, with these protocols. */
function* spawnChild(program: string, args: string[], stdio: Stdio, protocols: Omit<ProcessProtocols, "processExited">, exited: AbstractFuture<number>): Coroutine<ProcessHandle> {
  const loop = getRunningLoop();
  const driver = (loop.poller as SelectorPoller).processes!;
  const child = yield* driver.spawn(
    loop,
    { program, args, stdin: stdio.stdin ?? "devnull", stdout: stdio.stdout ?? "devnull", stderr: stdio.stderr ?? "devnull", startNewSession: false },
    { ...protocols, processExited: (code) => exited.setResult(code) },
  );
  started.push(child);
  return child;
}

function onSelector<T>(main: () => Coroutine<T>): Promise<T> {
  return run(main, { poller: new SelectorPoller() });
}

const bytes = (n: number, fill = 0x61): Uint8Array => new Uint8Array(n).fill(fill);

describe.skipIf(!native)("stdin's write buffer on the selector", () => {
  test("asyncio's limits; pauseWriting once the buffer passes high (not at it), resumeWriting at low, and no byte lost", async () => {
    await onSelector(function* () {
      const loop = getRunningLoop();
      const log: string[] = [];
      const stdinP = new Logger("in", log);
      const stdoutP = new Counter("out", log);
      const exited = loop.createFuture<number>();
      const child = yield* spawnChild("cat", [], { stdin: "pipe", stdout: "pipe" }, { stdin: stdinP, stdout: stdoutP }, exited);
      const stdin = child.stdin!;
      expect(stdin.getWriteBufferLimits()).toEqual({ high: 65536, low: 16384 });
      expect(stdin.isClosing()).toBe(false);
      expect(stdin.canWriteEof()).toBe(true);
      expect(log).toEqual(["in made", "out made"]);
      log.length = 0;

      // Not paused, and nothing buffered: new limits neither pause nor resume.
      stdin.setWriteBufferLimits(1000);
      expect(stdin.getWriteBufferLimits()).toEqual({ high: 1000, low: 250 });
      // Within one turn every write is staged: the buffer is exactly what was written.
      stdin.write(bytes(600));
      stdin.write(bytes(0));
      stdin.write(bytes(400));
      expect(log).toEqual([]);
      stdin.write(bytes(1));
      expect(log).toEqual(["in pause"]);
      expect(stdin.getWriteBufferSize()).toBe(1001);
      // Paused with 1001 buffered: a low mark under that keeps it paused, one at it resumes.
      stdin.setWriteBufferLimits(4000, 1000);
      expect(log).toEqual(["in pause"]);
      stdin.setWriteBufferLimits(4000, 1001);
      expect(log).toEqual(["in pause", "in resume"]);
      // And a high mark at the buffer's size does not pause; one under it does, at once.
      stdin.setWriteBufferLimits(1001);
      expect(log).toEqual(["in pause", "in resume"]);
      stdin.setWriteBufferLimits(1000);
      expect(log).toEqual(["in pause", "in resume", "in pause"]);
      // cat reads it all: resumed once the buffer is down to low.
      while (log.length < 4) yield;
      expect(log).toEqual(["in pause", "in resume", "in pause", "in resume"]);
      expect(stdin.getWriteBufferSize()).toBe(0);
      // The count restarts with each flush: what was sent before does not count again.
      stdin.write(bytes(600));
      stdin.write(bytes(400));
      expect(log).toEqual(["in pause", "in resume", "in pause", "in resume"]);
      expect(stdin.isClosing()).toBe(false);
      stdin.writelines([bytes(3), bytes(4)]);
      stdin.close();
      expect(stdin.isClosing()).toBe(true);
      yield* stdoutP.lost;
      expect(yield* exited).toBe(0);
      expect(stdoutP.bytes).toBe(1001 + 1000 + 7);
      // writelines counts as its writes do: 1007 is over the high mark of 1000.
      expect(log.slice(4)).toEqual(["in pause", "in lost null", "out eof", "out lost null"]);
    });
  });

  test("what a full pipe leaves buffered counts toward the high-water mark of the next writes", async () => {
    await onSelector(function* () {
      const loop = getRunningLoop();
      const log: string[] = [];
      const exited = loop.createFuture<number>();
      // The child never reads its stdin: the pipe fills, the rest stays in our buffer.
      const child = yield* spawnChild("/bin/sh", ["-c", "exec sleep 1000"], { stdin: "pipe" }, { stdin: new Logger("in", log) }, exited);
      const stdin = child.stdin!;
      stdin.setWriteBufferLimits(1 << 30);
      // More than a write may stage (64 KiB): written through the addon, flushed after the turn.
      stdin.write(bytes(100 * 1024));
      while (stdin.getWriteBufferSize() >= 100 * 1024) yield;
      // A few turns more for the flush's backlog record to be delivered.
      for (let i = 0; i < 5; i++) yield;
      const backlog = stdin.getWriteBufferSize();
      expect(backlog).toBeGreaterThan(0);
      // A staged write of 60 KiB: over a high mark above 60 KiB only with the backlog counted.
      stdin.setWriteBufferLimits(60 * 1024 + Math.floor(backlog / 2), 0);
      expect(log).toEqual(["in made"]);
      stdin.write(bytes(60 * 1024));
      expect(log).toEqual(["in made", "in pause"]);
      child.close();
      expect(yield* exited).toBe(-9);
    });
  });

  test("close() sends what is buffered first, then closes; writes after it are dropped", async () => {
    await onSelector(function* () {
      const loop = getRunningLoop();
      const log: string[] = [];
      const exited = loop.createFuture<number>();
      const stdinP = new Logger("in", log);
      const stdoutP = new Logger("out", log);
      const child = yield* spawnChild("cat", [], { stdin: "pipe", stdout: "pipe" }, { stdin: stdinP, stdout: stdoutP }, exited);
      const stdin = child.stdin!;
      stdin.write(Buffer.from("kept"));
      stdin.close();
      stdin.write(Buffer.from(" dropped"));
      stdin.close();
      expect(stdin.isClosing()).toBe(true);
      yield* stdoutP.lost;
      expect(yield* exited).toBe(0);
      expect(log.filter((line) => !line.endsWith("made"))).toEqual(["in lost null", "out data kept", "out eof", "out lost null"]);
      // Closed: no descriptor, nothing buffered, and writes do nothing.
      expect(stdin.getWriteBufferSize()).toBe(0);
      stdin.write(Buffer.from("late"));
      expect(stdin.getExtraInfo("pipe")).toBeUndefined();
    });
  });

  test("a child that closed its stdin: the next write fails with EPIPE, given to connectionLost, and the pipe is closing", async () => {
    await onSelector(function* () {
      const loop = getRunningLoop();
      const log: string[] = [];
      const exited = loop.createFuture<number>();
      const ready = loop.createFuture<void>();
      const stdinP = new Logger("in", log);
      const stdoutP = new Logger("out", log, () => {
        if (!ready.done()) ready.setResult();
      });
      const child = yield* spawnChild("/bin/sh", ["-c", "exec 0<&-; echo closed; exec sleep 1000"], { stdin: "pipe", stdout: "pipe" }, { stdin: stdinP, stdout: stdoutP }, exited);
      yield* ready;
      child.stdin!.write(Buffer.from("nobody reads this"));
      const error = (yield* stdinP.lost) as NodeJS.ErrnoException;
      expect(error).toBeInstanceOf(Error);
      expect(error).toMatchObject({ code: "EPIPE", syscall: "write", errno: -32 });
      expect(child.stdin!.isClosing()).toBe(true);
      expect(child.returncode).toBeNull();
      child.close();
      expect(yield* exited).toBe(-9);
      yield* stdoutP.lost;
      expect(log).toEqual(["in made", "out made", "out data closed\n", "in lost EPIPE", "out lost null"]);
    });
  });
});

describe.skipIf(!native)("a child's stdout on the selector", () => {
  test("getExtraInfo('pipe') is the parent's end while open, then the fallback; setProtocol redirects what follows", async () => {
    await onSelector(function* () {
      const loop = getRunningLoop();
      const log: string[] = [];
      const exited = loop.createFuture<number>();
      const first = new Logger("first", log);
      const second = new Logger("second", log);
      const inP = new Logger("in", log);
      const inP2 = new Logger("in2", log);
      const child = yield* spawnChild("cat", [], { stdin: "pipe", stdout: "pipe" }, { stdin: inP, stdout: first }, exited);
      const stdout = child.stdout as ReadTransport;
      const stdin = child.stdin as WriteTransport;
      for (const [transport, kind] of [
        [stdout, "pipe:"],
        [stdin, "pipe:"],
      ] as const) {
        const pipe = transport.getExtraInfo<SelectorPipe>("pipe")!;
        expect(transport.getExtraInfo("pipe")).toBe(pipe);
        // eslint-disable-next-line @loop/no-blocking-in-coroutine -- a read of /proc, which never waits
        expect(readlinkSync(`/proc/self/fd/${pipe.fileno()}`).startsWith(kind)).toBe(true);
        expect(transport.getExtraInfo("peername", "none")).toBe("none");
      }
      const stdoutFd = stdout.getExtraInfo<SelectorPipe>("pipe")!;
      const stdinFd = stdin.getExtraInfo<SelectorPipe>("pipe")!;
      expect(stdoutFd.fileno()).not.toBe(stdinFd.fileno());
      expect(stdout.getProtocol()).toBe(first);
      stdout.setProtocol(second);
      expect(stdout.getProtocol()).toBe(second);
      stdin.setProtocol(inP2 as BaseProtocol);
      expect(stdin.getProtocol()).toBe(inP2);
      stdin.write(Buffer.from("hi"));
      stdin.close();
      yield* second.lost;
      yield* exited;
      expect(log.filter((line) => !line.startsWith("in"))).toEqual(["first made", "second data hi", "second eof", "second lost null"]);
      expect(log.filter((line) => line.startsWith("in"))).toEqual(["in made", "in2 lost null"]);
      expect(stdout.isClosing()).toBe(true);
      expect(stdout.isReading()).toBe(false);
      expect(stdout.getExtraInfo("pipe", "gone")).toBe("gone");
      expect(stdoutFd.fileno()).toBe(-1);
      expect(stdinFd.fileno()).toBe(-1);
    });
  });

  test("records the addon queued before it heard of pauseReading wait for resumeReading, in order, delivered from a loop callback", async () => {
    await onSelector(function* () {
      const loop = getRunningLoop();
      const log: string[] = [];
      const exited = loop.createFuture<number>();
      let pauseOn = "";
      const out = new Logger("out", log, (data) => {
        if (Buffer.from(data).toString() === pauseOn) (out.transport as ReadTransport).pauseReading();
      });
      const child = yield* spawnChild("cat", [], { stdin: "pipe", stdout: "pipe" }, { stdin: new Logger("in", log), stdout: out }, exited);
      const stdout = child.stdout as ReadTransport & { handleEvent(kind: number, a: number, b: number, data: Buffer | null): void };
      log.length = 0;
      expect(stdout.isReading()).toBe(true);
      stdout.pauseReading();
      stdout.pauseReading();
      expect(stdout.isReading()).toBe(false);
      stdout.handleEvent(DATA, 0, 1, Buffer.from("1"));
      stdout.handleEvent(DATA, 0, 1, Buffer.from("2"));
      stdout.handleEvent(DATA, 0, 1, Buffer.from("3"));
      expect(log).toEqual([]);
      // The protocol pauses again on "2": "3" stays held until the next resume.
      pauseOn = "2";
      stdout.resumeReading();
      stdout.resumeReading();
      expect(stdout.isReading()).toBe(true);
      expect(log).toEqual([]);
      yield;
      expect(log).toEqual(["out data 1", "out data 2"]);
      expect(stdout.isReading()).toBe(false);
      pauseOn = "";
      stdout.resumeReading();
      yield;
      expect(log).toEqual(["out data 1", "out data 2", "out data 3"]);
      // Reading again: what the child writes now arrives.
      child.stdin!.write(Buffer.from("4"));
      while (log.length < 4) yield;
      expect(log[3]).toBe("out data 4");
      // An end that arrives while paused waits too, behind the data before it.
      stdout.pauseReading();
      stdout.handleEvent(DATA, 0, 1, Buffer.from("5"));
      stdout.handleEvent(EOF, 0, 0, null);
      for (let i = 0; i < 3; i++) yield;
      expect(log).toHaveLength(4);
      expect(stdout.isClosing()).toBe(false);
      stdout.resumeReading();
      yield* out.lost;
      expect(log.slice(4)).toEqual(["out data 5", "out eof", "out lost null"]);
      expect(stdout.isClosing()).toBe(true);
      child.stdin!.close();
      yield* exited;
    });
  });

  test("a paused stdout reads nothing: the child blocks in write() once the pipe is full, and stays blocked while other children come and go", async () => {
    const total = 300_000;
    await onSelector(function* () {
      const loop = getRunningLoop();
      const log: string[] = [];
      const exited = loop.createFuture<number>();
      let pauseOnData = false;
      const out = new Counter("out", log);
      out.dataReceived = (data) => {
        out.bytes += data.byteLength;
        if (pauseOnData) {
          pauseOnData = false;
          (out.transport as ReadTransport).pauseReading();
        }
      };
      // Paused before the addon could read a byte.
      out.connectionMade = (transport) => {
        out.transport = transport;
        (transport as ReadTransport).pauseReading();
      };
      const child = yield* spawnChild("head", ["-c", String(total), "/dev/zero"], { stdout: "pipe" }, { stdout: out }, exited);
      /** head is in write(1, …): the pipe is full. */
      const blocked = (): boolean => {
        try {
          return readFileSync(`/proc/${child.pid}/syscall`, "utf8").startsWith("1 0x1 ");
        } catch {
          return false;
        }
      };
      /** Real I/O for the loop: children started and reaped one after another. */
      function* otherChildren(): Coroutine<void> {
        for (let i = 0; i < 10; i++) {
          const done = loop.createFuture<number>();
          yield* spawnChild("/bin/true", [], {}, {}, done);
          yield* done;
        }
      }
      for (const phase of ["paused at the start", "paused after a chunk"]) {
        while (!blocked() && !exited.done()) yield;
        yield* otherChildren();
        expect([phase, exited.done(), blocked()]).toEqual([phase, false, true]);
        pauseOnData = true;
        (out.transport as ReadTransport).resumeReading();
        while (pauseOnData) yield;
      }
      (out.transport as ReadTransport).resumeReading();
      yield* out.lost;
      expect(yield* exited).toBe(0);
      expect(out.bytes).toBe(total);
    });
  });

  test("an end that arrives alone while paused waits for resumeReading, then closes the pipe cleanly", async () => {
    await onSelector(function* () {
      const loop = getRunningLoop();
      const log: string[] = [];
      const exited = loop.createFuture<number>();
      const out = new Logger("out", log);
      const child = yield* spawnChild("cat", [], { stdin: "pipe", stdout: "pipe" }, { stdin: new Logger("in", log), stdout: out }, exited);
      const stdout = child.stdout as ReadTransport & { handleEvent(kind: number, a: number, b: number, data: Buffer | null): void };
      stdout.pauseReading();
      stdout.handleEvent(EOF, 0, 0, null);
      stdout.resumeReading();
      yield* out.lost;
      expect(log.slice(2)).toEqual(["out eof", "out lost null"]);
      child.stdin!.close();
      yield* exited;
    });
  });

  test("close() drops what a paused pipe held: nothing reaches the protocol after it but connectionLost", async () => {
    await onSelector(function* () {
      const loop = getRunningLoop();
      const log: string[] = [];
      const exited = loop.createFuture<number>();
      const out = new Logger("out", log);
      const child = yield* spawnChild("cat", [], { stdin: "pipe", stdout: "pipe" }, { stdin: new Logger("in", log), stdout: out }, exited);
      const stdout = child.stdout as ReadTransport & { handleEvent(kind: number, a: number, b: number, data: Buffer | null): void };
      stdout.pauseReading();
      stdout.handleEvent(DATA, 0, 1, Buffer.from("held"));
      stdout.handleEvent(EOF, 0, 0, null);
      stdout.resumeReading();
      stdout.close();
      expect(stdout.isReading()).toBe(false);
      stdout.resumeReading();
      stdout.pauseReading();
      // A record the addon queued before the close finds the pipe closed.
      stdout.handleEvent(DATA, 0, 4, Buffer.from("late"));
      stdout.handleEvent(ERROR, 5, 1, null);
      yield* out.lost;
      for (let i = 0; i < 3; i++) yield;
      expect(log.slice(2)).toEqual(["out lost null"]);
      child.stdin!.close();
      yield* exited;
    });
  });

  test("a protocol whose dataReceived throws: the loop's exception handler hears of it, and the pipe closes with that error", async () => {
    const handled: string[] = [];
    await onSelector(function* () {
      const loop = getRunningLoop();
      loop.setExceptionHandler((_loop, context) => handled.push(`${context.message} ${(context.exception as Error).message}`));
      const log: string[] = [];
      const exited = loop.createFuture<number>();
      const out = new Logger("out", log, () => {
        throw new Error("boom");
      });
      const child = yield* spawnChild("/bin/sh", ["-c", "echo hi"], { stdout: "pipe" }, { stdout: out }, exited);
      const error = yield* out.lost;
      expect(error).toBeInstanceOf(Error);
      expect(error!.message).toBe("boom");
      expect(child.stdout!.isClosing()).toBe(true);
      yield* exited;
      expect(log).toEqual(["out made", "out data hi\n", "out lost undefined"]);
    });
    expect(handled).toEqual(["Fatal error: protocol.dataReceived() call failed. boom"]);
  });

  test("a read error closes the pipe with the error of the read (syscall, code, errno)", async () => {
    await onSelector(function* () {
      const loop = getRunningLoop();
      const log: string[] = [];
      const exited = loop.createFuture<number>();
      const out = new Logger("out", log);
      const child = yield* spawnChild("cat", [], { stdin: "pipe", stdout: "pipe" }, { stdin: new Logger("in", log), stdout: out }, exited);
      const stdout = child.stdout as ReadTransport & { handleEvent(kind: number, a: number, b: number, data: Buffer | null): void };
      const fd = stdout.getExtraInfo<SelectorPipe>("pipe")!.fileno();
      const targets = (loop.poller as unknown as { _reactor: { targets: unknown[] } })._reactor.targets;
      expect(targets[fd]).toBe(stdout);
      const inFd = child.stdin!.getExtraInfo<SelectorPipe>("pipe")!.fileno();
      expect(targets[inFd]).toBe(child.stdin);
      stdout.handleEvent(ERROR, 5, 1, null);
      // The descriptor goes at once, and out of the reactor's table with it.
      expect(stdout.isClosing()).toBe(true);
      expect(targets[fd]).toBeUndefined();
      const error = (yield* out.lost) as NodeJS.ErrnoException;
      expect(error).toMatchObject({ code: "EIO", errno: -5, syscall: "read" });
      child.stdin!.close();
      yield* exited;
      expect(targets[inFd]).toBeUndefined();
      expect(log.slice(2)).toEqual(["out lost EIO", "in lost null"]);
    });
  });
});

describe.skipIf(!native)("a stdin protocol that throws on the selector", () => {
  test("after abort(), a drain record the addon had queued resumes nobody", async () => {
    await onSelector(function* () {
      const loop = getRunningLoop();
      const log: string[] = [];
      const exited = loop.createFuture<number>();
      const stdinP = new Logger("in", log);
      const child = yield* spawnChild("cat", [], { stdin: "pipe" }, { stdin: stdinP }, exited);
      const stdin = child.stdin as WriteTransport & { handleEvent(kind: number, a: number): void };
      stdin.setWriteBufferLimits(10);
      stdin.write(bytes(11));
      stdin.abort();
      stdin.handleEvent(DRAINED, 0);
      yield* stdinP.lost;
      expect(yield* exited).toBe(0);
      expect(log).toEqual(["in made", "in pause", "in lost null"]);
    });
  });

  test("pauseWriting and resumeWriting that throw go to the loop's exception handler; flow control goes on", async () => {
    const handled: string[] = [];
    await onSelector(function* () {
      const loop = getRunningLoop();
      loop.setExceptionHandler((_loop, context) => handled.push(`${context.message} ${(context.exception as Error).message} ${context.transport === child.stdin}`));
      const log: string[] = [];
      const exited = loop.createFuture<number>();
      const stdinP = new Logger("in", log);
      stdinP.pauseWriting = () => {
        log.push("in pause");
        throw new Error("no pause");
      };
      stdinP.resumeWriting = () => {
        log.push("in resume");
        throw new Error("no resume");
      };
      const child = yield* spawnChild("cat", [], { stdin: "pipe" }, { stdin: stdinP }, exited);
      child.stdin!.setWriteBufferLimits(10);
      child.stdin!.write(bytes(11));
      expect(log).toEqual(["in made", "in pause"]);
      while (log.length < 3) yield;
      expect(log).toEqual(["in made", "in pause", "in resume"]);
      child.stdin!.close();
      expect(yield* exited).toBe(0);
    });
    expect(handled).toEqual(["protocol.pauseWriting() failed no pause true", "protocol.resumeWriting() failed no resume true"]);
  });
});

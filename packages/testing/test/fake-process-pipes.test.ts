import { getRunningLoop, type Protocol, type ReadTransport, type WriteTransport } from "@loop/core";
import { describe, expect, test } from "vitest";
import { bytesOf, logged, one, run, sleepFor, spawn, text, turns } from "./fake-process-protocols.js";

// The pipes of FakeProcesses as @loop/process drives them, through protocols that log what
// they are given: bytes, their order, the end, and the backpressure both ways. Every run
// fails if a loop callback threw (the exception handler).

describe("a fake child's stdout: bytes, order, end", () => {
  test("bytes written as a Uint8Array arrive as those bytes and are kept as text; empty writes deliver nothing", async () => {
    const processes = one(function* (child) {
      const buffer = bytesOf("hi ");
      child.stdout.write(buffer);
      buffer.fill(0x78); // the script reuses its buffer: what it wrote is already copied
      child.stdout.write("");
      child.stdout.write(new Uint8Array(0));
      child.stdout.write("there");
      return 0;
    });
    const p = await run(processes, function* () {
      const p = logged();
      yield* spawn(processes, "p", p);
      yield* p.exited;
      yield* turns(3);
      return p;
    });
    expect(p.out).toBe("hi there");
    expect(p.log.filter((line) => line.includes("stdout"))).toEqual(["0 stdout: hi ", "0 stdout: there", "0 stdout eof", "0 stdout lost"]);
    expect(processes.started[0]?.stdout).toBe("hi there");
  });

  test("a script that closes its stdout: the parent sees the end then, and nothing written after it", async () => {
    const processes = one(function* (child) {
      child.stdout.write("a");
      child.stdout.close();
      child.stdout.write("b");
      yield* sleepFor(100);
      return 0;
    });
    const p = await run(processes, function* () {
      const p = logged();
      yield* spawn(processes, "p", p);
      yield* p.exited;
      yield* turns(3);
      return p;
    });
    expect(p.log).toEqual(["0 stdout: a", "0 stdout eof", "0 stdout lost", "100 stderr eof", "100 stdin lost", "100 exited 0", "100 stderr lost"]);
  });

  test("the parent closing stdout drops what is queued and what the script writes later; the pipe is lost once", async () => {
    const processes = one(function* (child) {
      child.stdout.write("queued");
      yield* sleepFor(10);
      child.stdout.write("later");
      yield* child.stdout.drain(); // a closed pipe never blocks the writer
      return 0;
    });
    const [p, closing] = await run(processes, function* () {
      const p = logged();
      yield* spawn(processes, "p", p);
      const transport = p.stdoutTransport as ReadTransport;
      const before = transport.isClosing();
      transport.close();
      transport.close();
      const after = [transport.isClosing(), transport.isReading()];
      transport.resumeReading();
      transport.pauseReading();
      yield* p.exited;
      yield* turns(3);
      return [p, [before, ...after]] as const;
    });
    expect(closing).toEqual([false, true, false]);
    expect(p.out).toBe("");
    expect(p.log.filter((line) => line.includes("stdout"))).toEqual(["0 stdout lost"]);
  });

  test("pauseReading holds the bytes back, in order, until resumeReading; isReading says which", async () => {
    const processes = one(function* (child) {
      child.stdout.write("1");
      yield* sleepFor(10);
      child.stdout.write("2");
      child.stdout.write("3");
      return 0;
    });
    const [p, reading] = await run(processes, function* () {
      const p = logged();
      yield* spawn(processes, "p", p);
      const transport = p.stdoutTransport as ReadTransport;
      const states = [transport.isReading()];
      transport.pauseReading();
      states.push(transport.isReading());
      transport.resumeReading(); // resumed in the same turn: nothing was held up
      transport.pauseReading();
      yield* sleepFor(50);
      states.push(transport.isReading());
      transport.resumeReading();
      transport.resumeReading();
      states.push(transport.isReading());
      yield* p.exited;
      yield* turns(3);
      return [p, states] as const;
    });
    expect(reading).toEqual([true, false, false, true]);
    expect(p.log.filter((line) => line.includes("stdout"))).toEqual(["50 stdout: 1", "50 stdout: 2", "50 stdout: 3", "50 stdout eof", "50 stdout lost"]);
  });

  test("setProtocol hands the rest of the output to the new protocol; getExtraInfo answers the fallback", async () => {
    const processes = one(function* (child) {
      child.stdout.write("old");
      yield* sleepFor(10);
      child.stdout.write("new");
      return 0;
    });
    const [p, received, info] = await run(processes, function* () {
      const p = logged();
      yield* spawn(processes, "p", p);
      yield* sleepFor(5);
      const transport = p.stdoutTransport as ReadTransport;
      const received: string[] = [];
      const next: Protocol = {
        connectionMade: () => {},
        dataReceived: (data) => received.push(text(data)),
        eofReceived: () => {
          received.push("eof");
        },
        connectionLost: () => received.push("lost"),
        pauseWriting: () => {},
        resumeWriting: () => {},
      };
      transport.setProtocol(next);
      const same = transport.getProtocol() === next;
      yield* p.exited;
      yield* turns(3);
      return [p, received, [same, transport.getExtraInfo("pipe", 7), transport.getExtraInfo("pipe")]] as const;
    });
    expect(p.out).toBe("old");
    expect(received).toEqual(["new", "eof", "lost"]);
    expect(info).toEqual([true, 7, undefined]);
  });
});

describe("a fake child's stdout: backpressure (drain)", () => {
  test("what a script writes after closing its stdout never fills the pipe: drain() returns at once", async () => {
    const times: number[] = [];
    const processes = one(function* (child) {
      child.stdout.close();
      child.stdout.write(new Uint8Array(70_000));
      yield* child.stdout.drain();
      times.push(getRunningLoop().time());
      return 0;
    });
    await run(processes, function* () {
      const p = logged();
      yield* spawn(processes, "p", p);
      (p.stdoutTransport as ReadTransport).pauseReading();
      yield* sleepFor(100);
      (p.stdoutTransport as ReadTransport).resumeReading();
      yield* p.exited;
    });
    expect(times).toEqual([0]);
  });

  test("drain() waits while more than 64 KiB is unread and returns once the parent reads it", async () => {
    const times: string[] = [];
    const processes = one(function* (child) {
      const loop = getRunningLoop();
      yield* child.stdout.drain(); // nothing queued: no wait
      child.stdout.write(new Uint8Array(65_536));
      yield* child.stdout.drain(); // exactly a pipe's worth: no wait
      times.push(`${loop.time()} under`);
      child.stdout.write("x");
      yield* child.stdout.drain();
      times.push(`${loop.time()} drained`);
      return 0;
    });
    const p = await run(processes, function* () {
      const p = logged();
      yield* spawn(processes, "p", p);
      const transport = p.stdoutTransport as ReadTransport;
      transport.pauseReading();
      yield* sleepFor(100);
      transport.resumeReading();
      yield* p.exited;
      return p;
    });
    expect(times).toEqual(["0 under", "100 drained"]);
    expect(p.out.length).toBe(65_537);
  });

  test("a writer in drain() wakes when the parent closes the pipe", async () => {
    const times: number[] = [];
    const processes = one(function* (child) {
      child.stdout.write(new Uint8Array(70_000));
      yield* child.stdout.drain();
      times.push(getRunningLoop().time());
      return 0;
    });
    await run(processes, function* () {
      const p = logged();
      yield* spawn(processes, "p", p);
      const transport = p.stdoutTransport as ReadTransport;
      transport.pauseReading();
      yield* sleepFor(50);
      transport.close();
      yield* p.exited;
    });
    expect(times).toEqual([50]);
  });

  test("a writer in drain() wakes as soon as a pipe's worth or less is unread, even if reading paused again", async () => {
    const times: number[] = [];
    const processes = one(function* (child) {
      child.stdout.write("a");
      child.stdout.write(new Uint8Array(65_536));
      yield* child.stdout.drain();
      times.push(getRunningLoop().time());
      return 0;
    });
    await run(processes, function* () {
      const p = logged();
      p.pauseOnData = true; // takes one chunk, then pauses: 64 KiB stays unread
      yield* spawn(processes, "p", p);
      const transport = p.stdoutTransport as ReadTransport;
      yield* sleepFor(100);
      transport.resumeReading();
      yield* p.exited;
    });
    expect(times).toEqual([0]);
  });

  test("a child killed in drain() and a parent that then closes the pipe: no error, exit -15", async () => {
    const processes = one(function* (child) {
      child.stdout.write(new Uint8Array(70_000));
      yield* child.stdout.drain();
      return 0;
    });
    const code = await run(processes, function* () {
      const p = logged();
      const handle = yield* spawn(processes, "p", p);
      const transport = p.stdoutTransport as ReadTransport;
      transport.pauseReading();
      yield* turns(2);
      handle.sendSignal("SIGTERM");
      const code = yield* p.exited;
      transport.close();
      yield* turns(2);
      return code;
    });
    expect(code).toBe(-15);
  });

  test("drain() when the child's stdout goes nowhere returns at once; close() is harmless; the record keeps the text", async () => {
    const processes = one(function* (child) {
      child.stdout.write(new Uint8Array(100_000).fill(0x61));
      yield* child.stdout.drain();
      yield* child.stderr.drain();
      child.stdout.close();
      child.stderr.write("e");
      const input = yield* child.stdin.read();
      const all = yield* child.stdin.readAll();
      return input.byteLength + all.byteLength;
    });
    const [handle, code] = await run(processes, function* () {
      const p = logged();
      const handle = yield* spawn(processes, "p", p, { stdin: "devnull", stdout: "devnull", stderr: "inherit" });
      return [handle, yield* p.exited] as const;
    });
    expect([handle.stdin, handle.stdout, handle.stderr]).toEqual([null, null, null]);
    expect(code).toBe(0);
    expect(processes.started[0]?.stdout.length).toBe(100_000);
    expect(processes.started[0]?.stderr).toBe("e");
  });

  test("no pipes without protocols for them, even when asked for pipes", async () => {
    const processes = one(function* () {
      return 4;
    });
    const [handle, code] = await run(processes, function* () {
      const loop = getRunningLoop();
      const exit = loop.createFuture<number>();
      const handle = yield* spawn(processes, "p", { processExited: (code: number) => exit.setResult(code) });
      return [handle, yield* exit] as const;
    });
    expect([handle.stdin, handle.stdout, handle.stderr]).toEqual([null, null, null]);
    expect(code).toBe(4);
  });
});

describe("a fake child's stdin: bytes, order, end, backpressure", () => {
  test("what the parent writes in one turn is read at once, in order; later writes come in a later read; a reused buffer is copied", async () => {
    const reads: string[] = [];
    const processes = one(function* (child) {
      reads.push(text(yield* child.stdin.read()));
      reads.push(text(yield* child.stdin.readAll()));
      return 0;
    });
    await run(processes, function* () {
      const p = logged();
      const handle = yield* spawn(processes, "p", p);
      const stdin = handle.stdin as WriteTransport;
      const buffer = bytesOf("ab");
      stdin.write(buffer);
      buffer.fill(0x2d);
      stdin.writelines([bytesOf("cd"), new Uint8Array(0), bytesOf("ef")]);
      yield* turns(3);
      stdin.write(bytesOf("gh"));
      yield* turns(3);
      stdin.write(bytesOf("ij"));
      stdin.writeEof();
      stdin.write(bytesOf("lost after the end"));
      yield* p.exited;
    });
    expect(reads).toEqual(["abcdef", "ghij"]);
  });

  test("the write side: canWriteEof, isClosing, buffer size and limits, fallback extra info", async () => {
    const processes = one(function* (child) {
      yield* child.stdin.readAll();
      return 0;
    });
    const seen = await run(processes, function* () {
      const p = logged();
      const handle = yield* spawn(processes, "p", p);
      const stdin = handle.stdin as WriteTransport;
      const seen: unknown[] = [stdin.canWriteEof(), stdin.isClosing(), stdin.getWriteBufferLimits(), stdin.getExtraInfo("pipe", 3)];
      stdin.write(bytesOf("abc"));
      seen.push(stdin.getWriteBufferSize());
      stdin.close();
      seen.push(stdin.isClosing());
      yield* p.exited;
      return seen;
    });
    expect(seen).toEqual([true, false, { low: 16_384, high: 65_536 }, 3, 3, true]);
  });

  test("setWriteBufferLimits: either limit from the other, defaults, and a RangeError for high < low or low < 0", async () => {
    const processes = one(function* (child) {
      yield* child.stdin.readAll();
    });
    const [limits, errors] = await run(processes, function* () {
      const p = logged();
      const stdin = (yield* spawn(processes, "p", p)).stdin as WriteTransport;
      const limits: unknown[] = [];
      stdin.setWriteBufferLimits(1000);
      limits.push(stdin.getWriteBufferLimits());
      stdin.setWriteBufferLimits(undefined, 10);
      limits.push(stdin.getWriteBufferLimits());
      stdin.setWriteBufferLimits(5, 5);
      limits.push(stdin.getWriteBufferLimits());
      stdin.setWriteBufferLimits(0, 0);
      limits.push(stdin.getWriteBufferLimits());
      stdin.setWriteBufferLimits();
      limits.push(stdin.getWriteBufferLimits());
      const errors: unknown[] = [];
      for (const [high, low] of [[10, 20], [10, -1], [-4, undefined]] as const) {
        try {
          stdin.setWriteBufferLimits(high, low);
        } catch (error) {
          errors.push(error);
        }
      }
      limits.push(stdin.getWriteBufferLimits());
      stdin.close();
      yield* p.exited;
      return [limits, errors] as const;
    });
    expect(limits).toEqual([
      { high: 1000, low: 250 },
      { high: 40, low: 10 },
      { high: 5, low: 5 },
      { high: 0, low: 0 },
      { high: 65_536, low: 16_384 },
      { high: 65_536, low: 16_384 },
    ]);
    expect(errors).toHaveLength(3);
    for (const error of errors) {
      expect(error).toBeInstanceOf(RangeError);
      expect((error as Error).message).toMatch(/^setWriteBufferLimits\(high, low\): need high \(-?\d+\) >= low \(-?\d+\) >= 0$/);
    }
  });

  test("the writer pauses only past the high-water mark, and again after each resume; a new limit applies to the next write", async () => {
    const processes = one(function* (child) {
      for (;;) {
        yield* sleepFor(100);
        if ((yield* child.stdin.read()).byteLength === 0) return 0;
      }
    });
    const p = await run(processes, function* () {
      const p = logged();
      const stdin = (yield* spawn(processes, "p", p)).stdin as WriteTransport;
      stdin.write(new Uint8Array(65_536));
      p.log.push(`at the mark`);
      stdin.write(new Uint8Array(1));
      yield* sleepFor(150);
      stdin.write(new Uint8Array(70_000));
      yield* sleepFor(100);
      stdin.setWriteBufferLimits(10);
      stdin.write(new Uint8Array(11));
      stdin.close();
      yield* p.exited;
      return p;
    });
    expect(p.log.filter((line) => line.includes("stdin") || line.includes("mark"))).toEqual([
      "at the mark",
      "0 stdin paused",
      "100 stdin resumed",
      "150 stdin paused",
      "200 stdin resumed",
      "250 stdin paused",
      "250 stdin lost", // closing our end loses the pipe at once; the script still reads what was written

    ]);
  });

  test("abort() discards what the script has not read: it reads the end", async () => {
    const reads: number[] = [];
    const processes = one(function* (child) {
      yield* sleepFor(10);
      reads.push((yield* child.stdin.read()).byteLength);
      return 0;
    });
    const p = await run(processes, function* () {
      const p = logged();
      const stdin = (yield* spawn(processes, "p", p)).stdin as WriteTransport;
      stdin.write(bytesOf("never read"));
      stdin.abort();
      reads.push(stdin.getWriteBufferSize());
      yield* p.exited;
      return p;
    });
    expect(reads).toEqual([0, 0]);
    expect(p.log).toContain("0 stdin lost");
  });

  test("a read of stdin after the child exited (by a task it left behind) is the end of input", async () => {
    const reads: number[] = [];
    const processes = one(function* (child) {
      getRunningLoop().createTask(
        (function* () {
          yield* sleepFor(10);
          reads.push((yield* child.stdin.read()).byteLength);
        })(),
      );
      return 0;
    });
    await run(processes, function* () {
      const p = logged();
      const stdin = (yield* spawn(processes, "p", p)).stdin as WriteTransport;
      stdin.write(bytesOf("unread at the exit"));
      yield* p.exited;
      reads.push(stdin.getWriteBufferSize()); // gone with the child
      yield* sleepFor(20);
    });
    expect(reads).toEqual([0, 0]);
  });

  test("after the child exits its stdin is closed: writes are dropped and never pause the writer", async () => {
    const processes = one(function* () {
      return 0;
    });
    const [p, state] = await run(processes, function* () {
      const p = logged();
      const stdin = (yield* spawn(processes, "p", p)).stdin as WriteTransport;
      yield* p.exited;
      stdin.write(new Uint8Array(100_000));
      yield* turns(2);
      return [p, [stdin.isClosing(), stdin.getWriteBufferSize()]] as const;
    });
    expect(state).toEqual([true, 0]);
    expect(p.log.filter((line) => line.includes("stdin"))).toEqual(["0 stdin lost"]);
  });

  test("setProtocol on stdin: the new protocol is told of pauses", async () => {
    const processes = one(function* (child) {
      yield* sleepFor(10);
      yield* child.stdin.readAll();
    });
    const told = await run(processes, function* () {
      const p = logged();
      const stdin = (yield* spawn(processes, "p", p)).stdin as WriteTransport;
      const told: string[] = [];
      const next = { connectionMade: () => {}, connectionLost: () => told.push("lost"), pauseWriting: () => told.push("paused"), resumeWriting: () => told.push("resumed") };
      stdin.setProtocol(next);
      told.push(String(stdin.getProtocol() === next));
      stdin.write(new Uint8Array(70_000));
      stdin.close();
      yield* p.exited;
      return told;
    });
    expect(told).toEqual(["true", "paused", "lost"]);
  });
});

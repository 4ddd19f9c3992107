import { execFileSync, spawn } from "node:child_process";
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureFuture, getRunningLoop, run } from "@loop/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SelectorPoller, addReader, addWriter, removeReader, removeWriter } from "../src/index.js";
import { expectNoOpenDescriptors, nativeStats } from "./helpers.js";
import { available, openFds } from "./native-available.js";

/** The readiness backend of this process's selector (the selector-uv_poll project sets it). */
const backend = process.env.LOOP_SELECTOR_BACKEND || "epoll";

/** A FIFO opened read-write and non-blocking: a pipe whose both ends are one descriptor. */
function fifo(dir: string): number {
  const path = join(dir, `fifo-${Math.random().toString(36).slice(2)}`);
  execFileSync("mkfifo", [path]);
  const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  rmSync(path);
  return fd;
}

describe.skipIf(!available)("addReader / addWriter (asyncio's fd callbacks)", () => {
  let dir = "";
  let fdsAtStart = 0;
  beforeAll(() => {
    fdsAtStart = openFds();
    dir = mkdtempSync(join(tmpdir(), "loop-selector-"));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await expectNoOpenDescriptors(fdsAtStart);
  });

  it("a reader runs in a loop callback each turn the pipe is readable, and not after removeReader", async () => {
    const fd = fifo(dir);
    try {
      const log: string[] = [];
      await run(
        function* () {
          const loop = getRunningLoop();
          const done = loop.createFuture<void>();
          const buffer = Buffer.alloc(16);
          addReader(
            fd,
            (tag: string) => {
              const n = readSync(fd, buffer);
              log.push(`${tag} ${buffer.subarray(0, n).toString()}`);
              if (log.length === 2) {
                expect(removeReader(fd)).toBe(true);
                done.setResult();
              } else {
                writeSync(fd, "second");
              }
            },
            "read",
          );
          // eslint-disable-next-line @loop/no-blocking-in-coroutine -- a few bytes into a pipe with room: the write the test watches for
          writeSync(fd, "first");
          yield* done;
          // eslint-disable-next-line @loop/no-blocking-in-coroutine -- a few bytes into a pipe with room: the write the test watches for
          writeSync(fd, "unread");
          for (let i = 0; i < 5; i++) yield;
          expect(removeReader(fd)).toBe(false);
        },
        { poller: new SelectorPoller() },
      );
      expect(log).toEqual(["read first", "read second"]);
    } finally {
      closeSync(fd);
    }
  });

  it("a writer runs while the pipe has room; a new reader replaces the old one", async () => {
    const fd = fifo(dir);
    try {
      const log: string[] = [];
      await run(
        function* () {
          const done = getRunningLoop().createFuture<void>();
          addWriter(fd, () => {
            log.push("writable");
            removeWriter(fd);
            writeSync(fd, "x");
          });
          addReader(fd, () => log.push("old reader"));
          addReader(fd, () => {
            readSync(fd, Buffer.alloc(1));
            log.push("new reader");
            removeReader(fd);
            done.setResult();
          });
          yield* done;
        },
        { poller: new SelectorPoller() },
      );
      expect(log).toEqual(["writable", "new reader"]);
    } finally {
      closeSync(fd);
    }
  });

  it("bad arguments throw at the call: TypeError for a wrong type, RangeError for a bad fd, an error naming the poller off a selector loop", async () => {
    const poller = new SelectorPoller();
    expect(poller.fds).toBe(poller);
    expect(() => poller.addReader("3" as unknown as number, () => {})).toThrow(TypeError);
    expect(() => poller.addReader(-1, () => {})).toThrow(RangeError);
    expect(() => poller.addReader(0, null as unknown as () => void)).toThrow(TypeError);
    poller.close();
    await run(function* () {
      expect(() => addReader(0, () => {})).toThrow(/SelectorPoller/);
    });
    // A regular file cannot be watched (epoll says EPERM), as asyncio's selector refuses it.
    const file = openSync(join(dir, "plain"), "w");
    try {
      await run(
        function* () {
          expect(() => addReader(file, () => {})).toThrow(expect.objectContaining({ code: "EPERM" }));
        },
        { poller: new SelectorPoller() },
      );
    } finally {
      closeSync(file);
    }
  });

  // The epoll backend's own trap. kqueue drops a filter when its descriptor number is
  // closed, and the uv_poll backend lives in libuv's set, which has this trap itself.
  it.skipIf(backend !== "epoll")("a pipe closed before removeReader while a child process holds a copy is shed from the epoll set, not reported forever (libuv#1148, uvloop#61)", async () => {
    const fd = fifo(dir);
    const rebuildsBefore = nativeStats()[4]!;
    let calls = 0;
    await run(
      function* () {
        addReader(fd, () => calls++);
        // The child gets a copy of the pipe as its fd 3, writes to it when told, and holds it until its stdin ends.
        const child = spawn("python3", ["-c", "import os,sys\nsys.stdin.readline(); os.write(3, b'x'); print('written', flush=True)\nsys.stdin.read()"], {
          stdio: ["pipe", "pipe", "inherit", fd],
        });
        const exited = new Promise((resolve) => child.once("exit", resolve));
        try {
          // eslint-disable-next-line @loop/no-blocking-in-coroutine -- closing our own descriptor number is what the test needs, and it never blocks
          closeSync(fd); // our number is gone, the open file description lives on in the child
          expect(removeReader(fd)).toBe(true); // too late for EPOLL_CTL_DEL to find it
          const written = new Promise((resolve) => child.stdout!.once("data", resolve));
          child.stdin!.write("go\n");
          yield* ensureFuture(written);
          // Host loop iterations: the stale registration is reported once, then shed.
          for (let i = 0; i < 10; i++) yield* ensureFuture(new Promise((resolve) => setImmediate(resolve)));
          expect(nativeStats()[4]).toBe(rebuildsBefore + 1);
          expect(calls).toBe(0);
        } finally {
          child.stdin!.end();
          yield* ensureFuture(exited);
        }
      },
      { poller: new SelectorPoller() },
    );
  });

  it("a reader left registered when the loop closes is dropped, the descriptor stays the caller's", async () => {
    const fd = fifo(dir);
    try {
      await run(
        function* () {
          addReader(fd, () => {});
        },
        { poller: new SelectorPoller() },
      );
      await expectNoOpenDescriptors();
      writeSync(fd, "still mine");
      expect(readSync(fd, Buffer.alloc(32))).toBe(10);
    } finally {
      closeSync(fd);
    }
  });
});

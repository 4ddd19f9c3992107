import { execFileSync } from "node:child_process";
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getRunningLoop, run } from "@loop/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SelectorPoller, addReader, addWriter, removeReader, removeWriter } from "../src/index.js";
import { expectNoOpenDescriptors } from "./helpers.js";
import { available, openFds } from "./native-available.js";

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
          writeSync(fd, "first");
          yield* done;
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

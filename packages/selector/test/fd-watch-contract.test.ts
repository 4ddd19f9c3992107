import { execFileSync } from "node:child_process";
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTask, ensureFuture, getRunningLoop, run, type Coroutine, type ErrorContext } from "@loop/core";
import { openConnection, startServer, type StreamReader, type StreamWriter } from "@loop/net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SelectorPoller, addReader, addWriter, removeReader, removeWriter } from "../src/index.js";
import { native } from "../src/native.js";
import { available } from "./native-available.js";

/** The readiness backend of this process's selector (the selector-uv_poll project sets it). */
const backend = process.env.LOOP_SELECTOR_BACKEND || "epoll";

/** The descriptors the native selector holds in this thread. */
const nativeOpen = (): number => native!.stats()[0]!;

/** A FIFO opened read-write and non-blocking: a pipe whose both ends are one descriptor. */
function fifo(dir: string): number {
  const path = join(dir, `fifo-${Math.random().toString(36).slice(2)}`);
  execFileSync("mkfifo", [path]);
  const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  rmSync(path);
  return fd;
}

interface ReactorView {
  native: typeof native;
  backend: string;
  targets: unknown[];
}
const reactorOf = (poller: SelectorPoller): ReactorView => (poller as unknown as { _reactor: ReactorView })._reactor;

function* echo(reader: StreamReader, writer: StreamWriter): Coroutine<void> {
  writer.write(yield* reader.readline());
  yield* writer.drain();
}

describe.skipIf(!available)("addReader / addWriter: the contract around the callbacks", () => {
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "loop-selector-"));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("a bad argument's error names the method it was given to", () => {
    const poller = new SelectorPoller();
    try {
      expect(() => poller.addReader(-1, () => {})).toThrow(/^addReader\(fd, …\)/);
      expect(() => poller.addWriter(-1, () => {})).toThrow(/^addWriter\(fd, …\)/);
      expect(() => poller.removeReader(-1)).toThrow(/^removeReader\(fd, …\)/);
      expect(() => poller.removeWriter(-1)).toThrow(/^removeWriter\(fd, …\)/);
      expect(() => poller.addWriter(0, "go" as unknown as () => void)).toThrow(new TypeError("addWriter(fd, callback): callback must be a function, got string"));
    } finally {
      poller.close();
    }
  });

  it("after close(), addReader throws and watches nothing", () => {
    const fd = fifo(dir);
    const poller = new SelectorPoller();
    const open = nativeOpen();
    try {
      poller.close();
      expect(() => poller.addReader(fd, () => {})).toThrow(new Error("addReader: the poller is closed"));
      expect(() => poller.addWriter(fd, () => {})).toThrow(new Error("addWriter: the poller is closed"));
      expect(nativeOpen()).toBe(open);
      expect(reactorOf(poller).targets[fd]).toBeUndefined();
    } finally {
      closeSync(fd);
    }
  });

  it("a descriptor a transport carries cannot be watched: the error says so, and the connection goes on", async () => {
    const line = await run(
      function* () {
        const server = yield* startServer(echo, "127.0.0.1", 0);
        const [reader, writer] = yield* openConnection("127.0.0.1", (server.address() as { port: number }).port);
        const fd = writer.getExtraInfo<{ fileno(): number }>("socket")!.fileno();
        expect(() => addReader(fd, () => {})).toThrow(new Error(`addReader(${fd}): file descriptor ${fd} is used by a transport or another loop; close that first`));
        writer.write("still carried\n");
        const got = Buffer.from(yield* reader.readline()).toString();
        writer.close();
        yield* writer.waitClosed();
        server.close();
        yield* server.waitClosed();
        return got;
      },
      { poller: new SelectorPoller() },
    );
    expect(line).toBe("still carried\n");
  });

  it("a descriptor one loop watches cannot be watched by another loop of the thread; once both directions are removed, it can", () => {
    const fd = fifo(dir);
    const first = new SelectorPoller();
    const second = new SelectorPoller();
    try {
      first.addReader(fd, () => {});
      first.addWriter(fd, () => {});
      expect(() => second.addWriter(fd, () => {})).toThrow(new Error(`addWriter(${fd}): file descriptor ${fd} is used by a transport or another loop; close that first`));
      expect(reactorOf(first).targets[fd]).toBeDefined();
      expect(first.removeReader(fd)).toBe(true);
      expect(() => second.addReader(fd, () => {})).toThrow(/used by a transport or another loop/);
      expect(first.removeWriter(fd)).toBe(true);
      expect(reactorOf(first).targets[fd]).toBeUndefined();
      second.addReader(fd, () => {});
      expect(second.removeReader(fd)).toBe(true);
    } finally {
      first.close();
      second.close();
      closeSync(fd);
    }
  });

  it("removeReader and removeWriter each report their own direction only", () => {
    const fd = fifo(dir);
    const poller = new SelectorPoller();
    try {
      poller.addReader(fd, () => {});
      expect(poller.removeWriter(fd)).toBe(false);
      expect(poller.removeReader(fd)).toBe(true);
      poller.addWriter(fd, () => {});
      expect(poller.removeReader(fd)).toBe(false);
      expect(poller.removeWriter(fd)).toBe(true);
      poller.addReader(fd, () => {});
      poller.addWriter(fd, () => {});
      expect(poller.removeWriter(fd)).toBe(true);
      expect(poller.removeWriter(fd)).toBe(false);
      expect(poller.removeReader(fd)).toBe(true);
      expect(nativeOpen()).toBe(0);
    } finally {
      poller.close();
      closeSync(fd);
    }
  });

  it("replacing a callback changes no interest set: only a change of direction reaches the kernel", () => {
    const fd = fifo(dir);
    const poller = new SelectorPoller();
    const reactor = reactorOf(poller);
    const real = reactor.native!;
    const calls: number[][] = [];
    reactor.native = Object.create(real, {
      watch: {
        value: (watched: number, events: number) => {
          calls.push([watched, events]);
          return real.watch(watched, events);
        },
      },
    }) as typeof real;
    try {
      poller.addReader(fd, () => {});
      poller.addReader(fd, () => {});
      poller.addWriter(fd, () => {});
      poller.addWriter(fd, () => {});
      poller.removeReader(fd);
      poller.removeWriter(fd);
      expect(calls).toEqual([
        [fd, 1],
        [fd, 3],
        [fd, 2],
        [fd, 0],
      ]);
    } finally {
      reactor.native = real;
      poller.close();
      closeSync(fd);
    }
  });

  it("when the kernel refuses a change, the error names the backend's system call and the other direction's callback stays", () => {
    for (const [backend, syscall] of [
      ["epoll", "epoll_ctl"],
      ["kqueue", "kevent"],
      ["uv_poll", "uv_poll_init"],
    ] as const) {
      const poller = new SelectorPoller();
      const real = reactorOf(poller);
      // A stand-in for the thread's reactor, whose kernel refuses changes (EBADF) when told to.
      let refuse = false;
      const fake = { backend, targets: [] as unknown[], native: { watch: () => (refuse ? -9 : 0) } };
      Object.defineProperty(poller, "_reactor", { value: fake });
      try {
        poller.addReader(7, () => {});
        refuse = true;
        expect(() => poller.addWriter(7, () => {})).toThrow(expect.objectContaining({ code: "EBADF", syscall }));
        refuse = false;
        // The reader is still there; the writer never was.
        expect(poller.removeWriter(7)).toBe(false);
        expect(poller.removeReader(7)).toBe(true);
        poller.addWriter(7, () => {});
        refuse = true;
        expect(() => poller.addReader(7, () => {})).toThrow(expect.objectContaining({ code: "EBADF", syscall }));
        refuse = false;
        expect(poller.removeReader(7)).toBe(false);
        expect(poller.removeWriter(7)).toBe(true);
      } finally {
        Object.defineProperty(poller, "_reactor", { value: real });
        poller.close();
      }
    }
  });

  it("an exception in a reader or writer callback goes to the loop's exception handler, naming the direction and the fd; the loop goes on", async () => {
    const fd = fifo(dir);
    try {
      const reported = await run(
        function* () {
          const loop = getRunningLoop();
          const contexts: ErrorContext[] = [];
          const done = loop.createFuture<void>();
          loop.setExceptionHandler((_loop, context) => {
            contexts.push(context);
            if (contexts.length === 1) {
              removeReader(fd);
              addWriter(fd, () => {
                throw new RangeError("from the writer");
              });
            } else {
              removeWriter(fd);
              done.setResult();
            }
          });
          // eslint-disable-next-line @loop/no-blocking-in-coroutine -- a byte into an empty pipe: what makes it readable
          writeSync(fd, "x");
          addReader(fd, () => {
            readSync(fd, Buffer.alloc(1));
            throw new TypeError("from the reader");
          });
          // Bounded: a callback whose failure is lost would otherwise leave the test waiting.
          for (let i = 0; i < 50 && !done.done(); i++) yield* ensureFuture(new Promise((resolve) => setImmediate(resolve)));
          return contexts.map((context) => [context.message, String(context.exception)]);
        },
        { poller: new SelectorPoller() },
      );
      expect(reported).toEqual([
        [`Exception in reader callback of fd ${fd}`, "TypeError: from the reader"],
        [`Exception in writer callback of fd ${fd}`, "RangeError: from the writer"],
      ]);
    } finally {
      closeSync(fd);
    }
  });

  it("a reader removed by an earlier callback of the same batch is not called, and nothing is reported", async () => {
    const fds = [fifo(dir), fifo(dir)];
    try {
      const { called, reported } = await run(
        function* () {
          const loop = getRunningLoop();
          const reported: string[] = [];
          loop.setExceptionHandler((_loop, context) => reported.push(context.message));
          const called: number[] = [];
          const done = loop.createFuture<void>();
          for (const fd of fds) {
            // eslint-disable-next-line @loop/no-blocking-in-coroutine -- a byte into an empty pipe: both become readable in one batch
            writeSync(fd, "x");
          }
          for (const fd of fds) {
            addReader(fd, () => {
              called.push(fd);
              for (const other of fds) removeReader(other);
              // Past the rest of this batch's records: a loop callback queued behind them.
              loop.callSoon(() => done.setResult());
            });
          }
          yield* done;
          return { called, reported };
        },
        { poller: new SelectorPoller() },
      );
      expect(called).toHaveLength(1);
      expect(reported).toEqual([]);
    } finally {
      for (const fd of fds) closeSync(fd);
    }
  });

  it("a delivered record keeps neither its target nor its bytes: the poller's record arrays hold nothing afterwards", async () => {
    const fds = [fifo(dir), fifo(dir), fifo(dir)];
    const poller = new SelectorPoller();
    try {
      await run(
        function* () {
          const done = getRunningLoop().createFuture<void>();
          let left = fds.length;
          for (const fd of fds) {
            // eslint-disable-next-line @loop/no-blocking-in-coroutine -- a byte into an empty pipe: all become readable in one batch
            writeSync(fd, "x");
            addReader(fd, () => {
              readSync(fd, Buffer.alloc(1));
              removeReader(fd);
              if (--left === 0) done.setResult();
            });
          }
          yield* done;
          for (let i = 0; i < 3; i++) yield;
        },
        { poller },
      );
      const arrays = poller as unknown as { _objects: unknown[]; _spareObjects: unknown[] };
      expect(arrays._objects.length + arrays._spareObjects.length).toBeGreaterThanOrEqual(2 * fds.length);
      expect([...arrays._objects, ...arrays._spareObjects].every((slot) => slot === null)).toBe(true);
    } finally {
      for (const fd of fds) closeSync(fd);
    }
  });

  // On the uv_poll backend this misuse aborts the process inside libuv, as the README's "Readiness backends" warns.
  it.skipIf(backend === "uv_poll")("removeReader of a descriptor closed behind the loop's back, whose number a connection now has, leaves the connection alone", async (context) => {
    let reused = true;
    const line = await run(
      function* () {
        const server = yield* startServer(echo, "127.0.0.1", 0);
        const port = (server.address() as { port: number }).port;
        const fd = fifo(dir);
        addReader(fd, () => {});
        // The misuse asyncio warns about: closing a watched descriptor before removing its reader.
        // eslint-disable-next-line @loop/no-blocking-in-coroutine -- closing our own descriptor number is the scenario, and never blocks
        closeSync(fd);
        const [reader, writer] = yield* openConnection("127.0.0.1", port);
        // The kernel hands out the lowest free number: ours, unless another thread took it first.
        reused = writer.getExtraInfo<{ fileno(): number }>("socket")!.fileno() === fd;
        expect(removeReader(fd)).toBe(true);
        writer.write("still carried\n");
        const echoed = createTask(reader.readline());
        for (let i = 0; i < 50 && !echoed.done(); i++) yield* ensureFuture(new Promise((resolve) => setImmediate(resolve)));
        const got = echoed.done() ? Buffer.from(echoed.result()).toString() : "lost";
        writer.close();
        yield* writer.waitClosed();
        server.close();
        yield* server.waitClosed();
        return got;
      },
      { poller: new SelectorPoller() },
    );
    if (!reused) return context.skip("another thread took the descriptor number first");
    expect(line).toBe("still carried\n");
    expect(nativeOpen()).toBe(0);
  });
});

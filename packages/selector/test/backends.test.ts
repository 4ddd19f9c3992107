import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { closeSync, constants, existsSync, mkdtempSync, openSync, readdirSync, readlinkSync, readSync, rmSync, writeSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { Worker } from "node:worker_threads";
import { join } from "node:path";
import { ensureFuture, getRunningLoop, run } from "@loop/core";
import { openConnection, startServer } from "@loop/net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chooseBackend } from "../src/native.js";
import { SelectorPoller, addReader, addWriter, removeReader, removeWriter } from "../src/index.js";
import { expectNoOpenDescriptors } from "./helpers.js";
import { available, openFds } from "./native-available.js";

/** The epoll sets this process has open (libuv's own, and the selector's when it uses one). */
function epollSets(): number {
  let count = 0;
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === "anon_inode:[eventpoll]") count++;
    } catch {
      // Closed while we looked.
    }
  }
  return count;
}

/** The backend this file's process runs on: what the selector's vitest projects set. */
const expected = process.env.LOOP_SELECTOR_BACKEND || "epoll";

describe("choosing the readiness backend", () => {
  it("LOOP_SELECTOR_BACKEND picks one the platform has; unset or empty is the platform's default; anything else is a RangeError naming the choices", () => {
    expect(chooseBackend(["epoll", "uv_poll"], undefined)).toBe("epoll");
    expect(chooseBackend(["epoll", "uv_poll"], "")).toBe("epoll");
    expect(chooseBackend(["kqueue", "uv_poll"], "uv_poll")).toBe("uv_poll");
    expect(() => chooseBackend(["epoll", "uv_poll"], "kqueue")).toThrow(RangeError);
    expect(() => chooseBackend(["epoll", "uv_poll"], "select")).toThrow(/LOOP_SELECTOR_BACKEND .*"epoll", "uv_poll".*got "select"/);
  });
});

describe.skipIf(!available)("LOOP_SELECTOR_BACKEND in a thread of its own", () => {
  it("is read when the thread's first SelectorPoller is made: uv_poll runs on uv_poll, an unknown name throws a RangeError at the constructor", async (context) => {
    // Workers load the built package, as a user's would (`pnpm build` first).
    if (!existsSync(new URL("../dist/index.js", import.meta.url))) {
      // Stryker's sandbox (pnpm test:mutation) has no build: nothing of the mutated sources runs here.
      if (process.env.LOOP_MUTATION_RUN === "1") return context.skip("no built package in a mutation run's sandbox");
      throw new Error("this test runs the built package: run `pnpm build` first");
    }
    const source = `
      const { parentPort, workerData } = require("node:worker_threads");
      import(workerData.selector).then((m) => {
        try {
          const poller = new m.SelectorPoller();
          parentPort.postMessage(poller.backend);
          poller.close();
        } catch (error) {
          parentPort.postMessage(error.name + ": " + error.message);
        }
      });
    `;
    const ask = (backend: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const worker = new Worker(source, { eval: true, execArgv: [], env: { ...process.env, LOOP_SELECTOR_BACKEND: backend }, workerData: { selector: new URL("../dist/index.js", import.meta.url).href } });
        worker.once("message", (answer: string) => void worker.terminate().then(() => resolve(answer)));
        worker.once("error", reject);
      });
    expect(await ask("uv_poll")).toBe("uv_poll");
    expect(await ask("epoll")).toBe("epoll");
    expect(await ask("select")).toMatch(/^RangeError: LOOP_SELECTOR_BACKEND must name .*"epoll", "uv_poll".*got "select"/);
  });
});

describe.skipIf(!available)(`the ${expected} backend`, () => {
  let dir = "";
  let fdsAtStart = 0;
  // Before any SelectorPoller of this process: the thread's selector is made by the first.
  const setsBefore = epollSets();
  const poller = new SelectorPoller();
  poller.close();
  const setsAfter = epollSets();

  beforeAll(() => {
    fdsAtStart = openFds();
    dir = mkdtempSync(join(tmpdir(), "loop-backends-"));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await expectNoOpenDescriptors(fdsAtStart);
  });

  /** A FIFO opened read-write and non-blocking: a pipe whose both ends are one descriptor. */
  function fifo(): number {
    const path = join(dir, `fifo-${Math.random().toString(36).slice(2)}`);
    execFileSync("mkfifo", [path]);
    const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
    rmSync(path);
    return fd;
  }

  it("is the one LOOP_SELECTOR_BACKEND names, and only the epoll backend opens an epoll set of its own", () => {
    expect(poller.backend).toBe(expected);
    expect(setsAfter - setsBefore).toBe(expected === "epoll" ? 1 : 0);
  });

  it("descriptors ready in one host loop iteration come in one native batch: one call into JavaScript, not one per descriptor", async () => {
    const fds = Array.from({ length: 8 }, () => fifo());
    const reactor = (poller as unknown as { _reactor: { batches: number } })._reactor;
    try {
      const seen = await run(
        function* () {
          const done = getRunningLoop().createFuture<void>();
          const batches: number[] = [];
          for (const fd of fds) {
            // eslint-disable-next-line @loop/no-blocking-in-coroutine -- a byte into an empty pipe: what makes every descriptor ready at once
            writeSync(fd, "x");
            addReader(fd, () => {
              readSync(fd, Buffer.alloc(1));
              removeReader(fd);
              batches.push(reactor.batches);
              if (batches.length === fds.length) done.setResult();
            });
          }
          yield* done;
          return batches;
        },
        { poller: new SelectorPoller() },
      );
      expect(seen).toHaveLength(8);
      expect(new Set(seen).size).toBe(1);
    } finally {
      for (const fd of fds) closeSync(fd);
    }
  });

  it("an error condition is level-triggered: a writer on a pipe whose reader is gone (POLLERR) runs again each iteration until removed", async () => {
    // libuv stops a uv_poll_t that reports POLLERR; the uv_poll backend must start it again.
    const path = join(dir, "broken");
    execFileSync("mkfifo", [path]);
    const readEnd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const writeEnd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
    rmSync(path);
    closeSync(readEnd);
    try {
      const calls = await run(
        function* () {
          const done = getRunningLoop().createFuture<number>();
          let n = 0;
          addWriter(writeEnd, () => {
            if (++n === 3) {
              removeWriter(writeEnd);
              done.setResult(n);
            }
          });
          return yield* done;
        },
        { poller: new SelectorPoller() },
      );
      expect(calls).toBe(3);
    } finally {
      closeSync(writeEnd);
    }
  });

  it("a watched descriptor closed before removeReader (asyncio forbids it) does not keep its number: a socket that gets the number next is carried as usual", async () => {
    const line = await run(
      function* () {
        const server = yield* startServer(
          function* (reader, writer) {
            writer.write(yield* reader.readline());
            yield* writer.drain();
            writer.close();
          },
          "127.0.0.1",
          0,
        );
        const fd = fifo();
        addReader(fd, () => {});
        // Host loop iterations, so that libuv has taken the uv_poll backend's registration: a
        // descriptor closed while libuv still has a change of it pending makes libuv abort
        // (its rule: uv_poll_stop before close; the README says so).
        for (let i = 0; i < 2; i++) yield* ensureFuture(new Promise((resolve) => setImmediate(resolve)));
        // eslint-disable-next-line @loop/no-blocking-in-coroutine -- closing the watched number behind the selector's back is the case under test
        closeSync(fd);
        const [reader, writer] = yield* openConnection("127.0.0.1", (server.address() as { port: number }).port);
        // The lowest free number: the one just closed (else this test proves nothing).
        expect(writer.getExtraInfo<{ fileno(): number }>("socket")!.fileno()).toBe(fd);
        writer.write("same number, new socket\n");
        const got = Buffer.from(yield* reader.readline()).toString();
        writer.close();
        yield* writer.waitClosed();
        expect(removeReader(fd)).toBe(true);
        server.close();
        yield* server.waitClosed();
        return got;
      },
      { poller: new SelectorPoller() },
    );
    expect(line).toBe("same number, new socket\n");
  });

  it.runIf(expected === "uv_poll")("uv_poll: a descriptor Node's libuv already watches is refused with EEXIST (one uv_poll_t per descriptor), and nothing is left registered", async () => {
    const server = createServer();
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    try {
      const fd = (server as unknown as { _handle: { fd: number } })._handle.fd;
      await run(
        function* () {
          expect(() => addReader(fd, () => {})).toThrow(expect.objectContaining({ code: "EEXIST", syscall: "uv_poll_init" }));
          expect(removeReader(fd)).toBe(false);
        },
        { poller: new SelectorPoller() },
      );
    } finally {
      server.close();
      await once(server, "close");
    }
  });
});

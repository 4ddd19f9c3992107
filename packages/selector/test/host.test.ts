import { spawnSync } from "node:child_process";
import { once } from "node:events";
import { createServer as createHttpServer } from "node:http";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { ensureFuture, run, type Coroutine } from "@loop/core";
import { openConnection, openUnixConnection, startServer, startUnixServer, type StreamReader, type StreamWriter } from "@loop/net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SelectorPoller } from "../src/index.js";
import { expectNoOpenDescriptors, nativeStats } from "./helpers.js";
import { available, openFds } from "./native-available.js";

function* echo(reader: StreamReader, writer: StreamWriter): Coroutine<void> {
  for (;;) {
    const line = yield* reader.readline();
    if (line.length === 0) break;
    writer.write(line);
    yield* writer.drain();
  }
}

describe.skipIf(!available)("the selector beside Node's own event loop", () => {
  let fdsAtStart = 0;
  beforeAll(() => {
    fdsAtStart = openFds();
  });
  afterAll(async () => {
    await expectNoOpenDescriptors(fdsAtStart);
  });

  it("Node's timers, an HTTP server and fetch keep running while the loop waits on the selector", async () => {
    const http = createHttpServer((_req, res) => res.end("from node:http"));
    http.listen(0, "127.0.0.1");
    await once(http, "listening");
    const { port } = http.address() as { port: number };
    try {
      const got = await run(
        function* () {
          const timer = yield* ensureFuture(new Promise<string>((resolve) => setTimeout(() => resolve("node timer"), 5)));
          const body = yield* ensureFuture(fetch(`http://127.0.0.1:${port}/`).then((r) => r.text()));
          return [timer, body];
        },
        { poller: new SelectorPoller() },
      );
      expect(got).toEqual(["node timer", "from node:http"]);
    } finally {
      http.close();
      http.closeAllConnections();
      await once(http, "close");
    }
  });

  it("once the loop is done, nothing of the selector keeps the process alive: no descriptor, an unref'd poll handle, no timer", async () => {
    await run(
      function* () {
        const server = yield* startServer(echo, "127.0.0.1", 0);
        expect(nativeStats()[0]).toBe(1);
        expect(nativeStats()[1]).toBe(1); // a listener keeps the process alive, as a Node server does
        server.close();
        yield* server.waitClosed();
      },
      { poller: new SelectorPoller() },
    );
    const [open, pollRef, timerActive] = nativeStats();
    expect([open, pollRef, timerActive]).toEqual([0, 0, 0]);
  });

  it("carries Unix socket streams, and removes the socket file when the server closes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "loop-selector-"));
    const path = join(dir, "echo.sock");
    try {
      await run(
        function* () {
          const serverSide: unknown[] = [];
          const server = yield* startUnixServer(function* (reader, writer) {
            // The connecting socket has no name: the accepted transport names both ends "".
            serverSide.push(writer.getExtraInfo("peername"), writer.getExtraInfo("sockname"));
            yield* echo(reader, writer);
          }, path);
          expect(server.address()).toBe(path);
          const [reader, writer] = yield* openUnixConnection(path);
          expect(writer.getExtraInfo("peername")).toBe(path);
          writer.write("over a unix socket\n");
          expect(Buffer.from(yield* reader.readline()).toString()).toBe("over a unix socket\n");
          expect(serverSide).toEqual(["", ""]);
          writer.close();
          yield* writer.waitClosed();
          server.close();
          yield* server.waitClosed();
        },
        { poller: new SelectorPoller() },
      );
      expect(spawnSync("test", ["-e", path]).status).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reusePort lets two listeners share a port; without it the second gets EADDRINUSE", async () => {
    await run(
      function* () {
        const first = yield* startServer(echo, "127.0.0.1", 0, { reusePort: true });
        const { port } = first.address() as { port: number };
        const second = yield* startServer(echo, "127.0.0.1", port, { reusePort: true });
        expect((second.address() as { port: number }).port).toBe(port);
        let refused: unknown = null;
        try {
          yield* startServer(echo, "127.0.0.1", port);
        } catch (error) {
          refused = error;
        }
        expect(refused).toMatchObject({ code: "EADDRINUSE", port });
        const [reader, writer] = yield* openConnection("127.0.0.1", port);
        writer.write("either one\n");
        expect(Buffer.from(yield* reader.readline()).toString()).toBe("either one\n");
        writer.close();
        yield* writer.waitClosed();
        for (const server of [first, second]) {
          server.close();
          yield* server.waitClosed();
        }
      },
      { poller: new SelectorPoller() },
    );
  });

  it("sockets are CLOEXEC: a child process inherits none of them", async () => {
    await run(
      function* () {
        const server = yield* startServer(echo, "127.0.0.1", 0);
        const [, writer] = yield* openConnection("127.0.0.1", (server.address() as { port: number }).port);
        const fd = writer.getExtraInfo<{ fileno(): number }>("socket")!.fileno();
        // The child lists its own descriptors: the connection's number is not among them
        // (unless the child happened to open something there itself: compare the targets).
        // eslint-disable-next-line @loop/no-blocking-in-coroutine -- the test reads what a child sees, once, with the loop otherwise idle
        const listing = spawnSync("sh", ["-c", `readlink /proc/$$/fd/${fd} || true`], { encoding: "utf8" }).stdout;
        expect(listing).not.toMatch(/socket:/);
        writer.close();
        yield* writer.waitClosed();
        server.close();
        yield* server.waitClosed();
      },
      { poller: new SelectorPoller() },
    );
  });

  it("runs in worker threads, one selector per thread, each with its own loop", async (context) => {
    const workerSource = `
      const { parentPort, workerData } = require("node:worker_threads");
      (async () => {
        const { run } = await import(workerData.core);
        const { openConnection } = await import(workerData.net);
        const { SelectorPoller } = await import(workerData.selector);
        const reply = await run(function* () {
          const [reader, writer] = yield* openConnection("127.0.0.1", workerData.port);
          writer.write("from worker " + workerData.id + "\\n");
          const line = Buffer.from(yield* reader.readline()).toString();
          writer.close();
          yield* writer.waitClosed();
          return line;
        }, { poller: new SelectorPoller() });
        parentPort.postMessage(reply);
      })().catch((e) => { parentPort.postMessage("error " + e.stack); });
    `;
    // Workers load the built packages, as a user's would (`pnpm build` first).
    if (!existsSync(new URL("../dist/index.js", import.meta.url))) {
      // Stryker's sandbox (pnpm test:mutation) has no build: nothing of the mutated sources runs here.
      if (process.env.LOOP_MUTATION_RUN === "1") return context.skip("no built package in a mutation run's sandbox");
      throw new Error("the worker-thread test runs the built packages: run `pnpm build` first");
    }
    const urls = {
      core: new URL("../../core/dist/index.js", import.meta.url).href,
      net: new URL("../../net/dist/index.js", import.meta.url).href,
      selector: new URL("../dist/index.js", import.meta.url).href,
    };
    await run(
      function* () {
        const server = yield* startServer(echo, "127.0.0.1", 0);
        const port = (server.address() as { port: number }).port;
        const replies = yield* ensureFuture(
          Promise.all(
            [1, 2].map(
              (id) =>
                new Promise<string>((resolve, reject) => {
                  const worker = new Worker(workerSource, { eval: true, execArgv: [], workerData: { ...urls, port, id } });
                  worker.once("message", (reply: string) => {
                    void worker.terminate().then(() => resolve(reply));
                  });
                  worker.once("error", reject);
                }),
            ),
          ),
        );
        expect(replies.sort()).toEqual(["from worker 1\n", "from worker 2\n"]);
        server.close();
        yield* server.waitClosed();
      },
      { poller: new SelectorPoller() },
    );
  });
});

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, test } from "vitest";
import { EventLoop, call, getRunningLoop, run, type Coroutine } from "../src/index.js";

describe("loop.createTask from outside the loop's turn", () => {
  test("from a Promise callback: the task runs and await-ing it gives its value", async () => {
    const loop = new EventLoop();
    let fromOutside: Promise<number> | undefined;
    const done = loop.runUntilComplete(
      (function* (): Coroutine<number> {
        // Stay idle until outside work arrives: wait on a future nobody sets for a while.
        const gate = loop.createFuture<number>();
        // eslint-disable-next-line @loop/no-promise-in-coroutine -- the point: code outside the loop's turn (a Promise reaction) starts a task
        void Promise.resolve().then(() => {
          const task = loop.createTask(
            (function* (): Coroutine<number> {
              yield;
              return 41;
            })(),
          );
          fromOutside = Promise.resolve(task).then((v) => {
            gate.setResult(v + 1);
            return v;
          });
        });
        return yield* gate;
      })(),
    );
    expect(await done).toBe(42);
    expect(await fromOutside).toBe(41);
    loop.close();
  });

  test("from a node:http handler written with async/await", async () => {
    let server: Server | undefined;
    const bodies = await run(function* () {
      const loop = getRunningLoop();
      function* handle(path: string): Coroutine<string> {
        yield;
        return `handled ${path} on the loop`;
      }
      server = createServer(async (req, res) => {
        const text = await loop.createTask(handle(req.url ?? "/"));
        res.end(text);
      });
      const srv = server;
      yield* call(() => new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve)));
      const { port } = srv.address() as AddressInfo;
      const bodies = yield* call((signal) =>
        Promise.all(["/a", "/b"].map((p) => fetch(`http://127.0.0.1:${port}${p}`, { signal }).then((r) => r.text()))),
      );
      yield* call(() => new Promise<void>((resolve) => srv.close(() => resolve())));
      return bodies;
    });
    expect(bodies).toEqual(["handled /a on the loop", "handled /b on the loop"]);
    expect(server?.listening).toBe(false);
  });
});

// "From async/await to @loop" in packages/core/README.md, program 3: apps/demo/test/guide.test.ts runs both versions.
import { call, defer, exitStack, getRunningLoop, type Coroutine } from "@loop/core";
import { sleep } from "@loop/timers";
import { createServer, type Server } from "node:http";

// #region http-async
async function lookup(path: string): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, 10));
  return `page ${path}`;
}

function startAsync(port: number): Promise<Server> {
  const server = createServer(async (req, res) => {
    res.end(await lookup(req.url ?? "/"));
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}
// #endregion

// #region http-loop
function* lookupOnLoop(path: string): Coroutine<string> {
  yield* sleep(10);
  return `page ${path}`;
}

function* serveOnLoop(port: number, ready: (server: Server) => void): Coroutine<never> {
  const loop = getRunningLoop();
  // The handler is async/await code outside the loop: it starts a task on the running
  // loop and awaits it (a Task is a PromiseLike).
  const server = createServer(async (req, res) => {
    res.end(await loop.createTask(lookupOnLoop(req.url ?? "/")));
  });
  return yield* exitStack(function* () {
    yield* call(() => new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve)));
    yield* defer(() => call(() => new Promise<void>((resolve) => server.close(() => resolve()))));
    ready(server);
    return yield* loop.createFuture<never>(); // serve until cancelled; the server closes then
  });
}
// #endregion

export { startAsync, serveOnLoop };

// One thread of server-workers.ts: an @loop loop on SelectorPoller, listening with
// reusePort on the port it is given (0: a free one, reported back). Plain JavaScript on the
// built packages, so that worker threads need no TypeScript loader.
import { parentPort, workerData } from "node:worker_threads";
import { ensureFuture, run } from "@loop/core";
import { startServer } from "@loop/net";
import { SelectorPoller } from "@loop/selector";

function* echo(reader, writer) {
  try {
    for (;;) {
      const data = yield* reader.read(65_536);
      if (data.length === 0) break;
      writer.write(data);
      yield* writer.drain();
    }
  } catch {
    // The load generator resets its connections at the end.
  }
}

await run(
  function* () {
    const server = yield* startServer(echo, "127.0.0.1", workerData.port, { reusePort: true });
    parentPort.postMessage(server.address().port);
    yield* ensureFuture(new Promise((resolve) => parentPort.once("message", resolve)));
    server.close();
    server.abortClients();
    yield* server.waitClosed();
  },
  { poller: new SelectorPoller() },
);

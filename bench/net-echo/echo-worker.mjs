// The echo loop of server-workers.ts: an @loop loop on SelectorPoller, listening with
// reusePort. In a worker thread it runs by itself on the port in workerData (0: a free one,
// reported back) until the parent says "stop"; server-workers.ts also runs it on its main
// thread, as the single-loop baseline, so that both rows run the very same code. Plain
// JavaScript on the built packages, so that worker threads need no TypeScript loader.
//
// NET_ECHO_WORK=<n> gives every message a CPU-bound handler: n FNV-1a passes over its bytes
// before the echo (a request that computes something), so that the server, not the load
// generator, is what needs the cores.
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { ensureFuture, run } from "@loop/core";
import { startServer } from "@loop/net";
import { SelectorPoller } from "@loop/selector";

const work = Number(process.env.NET_ECHO_WORK ?? 0);
let sink = 0;

/** n FNV-1a passes over the message: work the JIT cannot drop, since the hash is kept. */
function compute(data) {
  let hash = 0x811c9dc5;
  for (let pass = 0; pass < work; pass++) {
    for (let i = 0; i < data.length; i++) hash = Math.imul(hash ^ data[i], 0x01000193);
  }
  sink ^= hash;
}

function* echo(reader, writer) {
  try {
    for (;;) {
      const data = yield* reader.read(65_536);
      if (data.length === 0) break;
      if (work > 0) compute(data);
      writer.write(data);
      yield* writer.drain();
    }
  } catch {
    // The load generator resets its connections at the end.
  }
}

/**
 * Serve until `stopped` settles: `onListening` gets the bound port.
 * @param {number} port
 * @param {(port: number) => void} onListening
 * @param {Promise<unknown>} stopped
 */
export function serve(port, onListening, stopped) {
  return run(
    function* () {
      const server = yield* startServer(echo, "127.0.0.1", port, { reusePort: true });
      onListening(server.address().port);
      yield* ensureFuture(stopped);
      server.close();
      server.abortClients();
      yield* server.waitClosed();
      return sink;
    },
    { poller: new SelectorPoller() },
  );
}

if (!isMainThread) {
  await serve(
    workerData.port,
    (port) => parentPort.postMessage(port),
    new Promise((resolve) => parentPort.once("message", resolve)),
  );
}

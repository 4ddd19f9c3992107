/**
 * The multi-core echo server of the scaling benchmark: `node server-workers.ts <threads>`
 * runs one @loop loop per worker thread, each on @loop/selector's SelectorPoller and each
 * listening on the same port with `reusePort` (SO_REUSEPORT: the kernel spreads the
 * connections; the threads run net-echo/echo-worker.mjs). `<threads>` 0 runs that same
 * loop on the main thread instead: the single-loop baseline. It prints the port, then
 * answers server.ts's commands (start, report: CPU of the whole process, every thread
 * included).
 */
import { createInterface } from "node:readline";
import { Worker } from "node:worker_threads";
import { serve } from "./echo-worker.mjs";

const threads = Number(process.argv[2] ?? 1);
const lines = createInterface({ input: process.stdin });
const closed = new Promise<void>((resolve) => lines.once("close", resolve));
let port = 0;
const workers: Worker[] = [];
if (threads === 0) {
  const listening = new Promise<number>((resolve) => {
    void serve(0, resolve, closed);
  });
  port = await listening;
} else {
  for (let i = 0; i < threads; i++) {
    const worker = new Worker(new URL("./echo-worker.mjs", import.meta.url), { workerData: { port } });
    port = await new Promise<number>((resolve) => worker.once("message", resolve));
    workers.push(worker);
  }
}
process.stdout.write(`${port}\n`);
let mark = process.cpuUsage();
lines.on("line", (line) => {
  if (line === "start") {
    mark = process.cpuUsage();
    process.stdout.write("ok\n");
  } else if (line === "report") {
    const used = process.cpuUsage(mark);
    process.stdout.write(`${JSON.stringify({ cpuUs: used.user + used.system, userUs: used.user })}\n`);
  }
});
void closed.then(() => {
  for (const worker of workers) worker.postMessage("stop");
});

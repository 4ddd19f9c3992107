/**
 * The multi-core echo server of the scaling benchmark: `node server-workers.ts <threads>`
 * runs one @loop loop per worker thread, each on @loop/selector's SelectorPoller and each
 * listening on the same port with `reusePort` (SO_REUSEPORT: the kernel spreads the
 * connections; the threads run net-echo/echo-worker.mjs). It prints the port, then
 * answers server.ts's commands (start, report: CPU of the whole process, every thread
 * included).
 */
import { createInterface } from "node:readline";
import { Worker } from "node:worker_threads";

const threads = Number(process.argv[2] ?? 1);
let port = 0;
const workers: Worker[] = [];
for (let i = 0; i < threads; i++) {
  const worker = new Worker(new URL("./echo-worker.mjs", import.meta.url), { workerData: { port } });
  port = await new Promise<number>((resolve) => worker.once("message", resolve));
  workers.push(worker);
}
process.stdout.write(`${port}\n`);
let mark = process.cpuUsage();
const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  if (line === "start") {
    mark = process.cpuUsage();
    process.stdout.write("ok\n");
  } else if (line === "report") {
    const used = process.cpuUsage(mark);
    process.stdout.write(`${JSON.stringify({ cpuUs: used.user + used.system, userUs: used.user })}\n`);
  }
});
lines.on("close", () => {
  for (const worker of workers) worker.postMessage("stop");
});

/**
 * The demo's key-value server alone, for the kv-server benchmark: `node --import tsx
 * server.ts <port> [selector]` (on @loop/selector's SelectorPoller when asked) prints "listening <port>" and serves until SIGTERM/SIGINT, then shuts
 * down gracefully. It loads only the server's module (on the built @loop packages), not
 * the whole demo. A line "mem" on its stdin prints its memory (for the memory suite).
 */
import { ensureFuture, run } from "@loop/core";
import { SelectorPoller } from "@loop/selector";
import { startKvServer } from "../../apps/demo/src/kv/index.ts";

const poller = process.argv[3] === "selector" ? new SelectorPoller() : undefined;
await run(function* () {
  const server = yield* startKvServer({ port: Number(process.argv[2] ?? 0) });
  const stopped = new Promise<void>((resolve) => {
    const onSignal = (): void => resolve();
    process.once("SIGTERM", onSignal);
    process.once("SIGINT", onSignal);
  });
  // For the memory suite: a line "mem" on stdin answers, after a full GC (with
  // --expose-gc), this process's memory and the server's open connections as JSON.
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (text: string) => {
    if (!text.includes("mem")) return;
    (globalThis as { gc?: () => void }).gc?.();
    console.log(`mem ${JSON.stringify({ ...process.memoryUsage(), connections: server.connections })}`);
  });
  (process.stdin as { unref?: () => void }).unref?.();
  console.log(`listening ${server.port}`);
  yield* ensureFuture(stopped);
  yield* server.shutdown();
}, { poller });

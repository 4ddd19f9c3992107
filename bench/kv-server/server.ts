/**
 * The demo's key-value server alone, for the kv-server benchmark: `node --import tsx
 * server.ts <port>` prints "listening <port>" and serves until SIGTERM/SIGINT, then shuts
 * down gracefully. It loads only the server's module (on the built @loop packages), not
 * the whole demo.
 */
import { ensureFuture, run } from "@loop/core";
import { startKvServer } from "../../apps/demo/src/kv/index.ts";

await run(function* () {
  const server = yield* startKvServer({ port: Number(process.argv[2] ?? 0) });
  const stopped = new Promise<void>((resolve) => {
    const onSignal = (): void => resolve();
    process.once("SIGTERM", onSignal);
    process.once("SIGINT", onSignal);
  });
  console.log(`listening ${server.port}`);
  yield* ensureFuture(stopped);
  yield* server.shutdown();
});

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import { TimeoutError, ensureFuture, gather, run, taskSignal, type Coroutine } from "@loop/core";
import { sleep, timeout } from "../src/index.js";

// A retry after a handled timeout: timeout() withdraws its cancellation (uncancel), so the
// task's next taskSignal() must be live again, or the retry fails at once.

let server: Server | null = null;
const parked: ServerResponse[] = [];

afterEach(async () => {
  for (const res of parked.splice(0)) res.destroy();
  const s = server;
  server = null;
  if (s === null) return;
  s.closeAllConnections();
  await new Promise<void>((resolve) => s.close(() => resolve()));
});

/** A local server that never answers `/slow` and answers anything else at once. */
async function flakyServer(): Promise<string> {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url === "/slow") {
      parked.push(res);
      return;
    }
    res.end(`answer ${req.url ?? ""}`);
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}/`;
}

describe("taskSignal after a handled timeout", () => {
  test("a retry with fetch succeeds, and a sibling in the same gather is not cancelled", async () => {
    const url = await flakyServer();
    const out = await run(function* () {
      const log: string[] = [];
      function* fetchText(path: string): Coroutine<string> {
        const response = yield* ensureFuture(fetch(url + path, { signal: taskSignal() }));
        return yield* ensureFuture(response.text());
      }
      function* retrying(): Coroutine<string> {
        for (let attempt = 1; attempt <= 2; attempt++) {
          try {
            // The first request is never answered: it times out whatever the machine's
            // speed. The second is answered at once; its deadline only bounds a hang.
            return yield* timeout(attempt === 1 ? 50 : 30_000, () => fetchText(attempt === 1 ? "slow" : "fast"));
          } catch (error) {
            log.push(`attempt ${attempt}: ${(error as Error).name}`);
            if (!(error instanceof TimeoutError)) throw error;
          }
        }
        return "gave up";
      }
      function* sibling(): Coroutine<string> {
        yield* sleep(100);
        return "sibling done";
      }
      const results = yield* gather([retrying(), sibling()]);
      return { log, results };
    });
    expect(out).toEqual({ log: ["attempt 1: TimeoutError"], results: ["answer /fast", "sibling done"] });
  }, 60_000);
});

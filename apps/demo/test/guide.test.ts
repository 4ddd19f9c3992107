import { CancelledError, TimeoutError, call, createTask, getRunningLoop, run } from "@loop/core";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { crawl, crawlOnLoop } from "../src/guide/crawler.js";
import { getText, getTextOnLoop } from "../src/guide/fetch.js";
import { serveOnLoop, startAsync } from "../src/guide/http-handler.js";
import { countErrors, countErrorsOnLoop } from "../src/guide/lines.js";
import { processAll, processAllOnLoop } from "../src/guide/worker-pool.js";

const guideDir = fileURLToPath(new URL("../src/guide/", import.meta.url));
const readme = readFileSync(fileURLToPath(new URL("../../../packages/core/README.md", import.meta.url)), "utf8");

test("every program of the README's guide is the code in src/guide, word for word", () => {
  const regions = new Map<string, string>();
  for (const file of readdirSync(guideDir)) {
    const text = readFileSync(join(guideDir, file), "utf8");
    for (const m of text.matchAll(/\/\/ #region (\S+)\n([\s\S]*?)\/\/ #endregion\n/g)) regions.set(m[1] as string, m[2] as string);
  }
  const blocks = [...readme.matchAll(/<!-- guide: (\S+) -->\n```ts\n([\s\S]*?)```\n/g)];
  expect(blocks.map((b) => b[1]).sort()).toEqual([...regions.keys()].sort());
  for (const [, name, code] of blocks) expect(code, name).toBe(regions.get(name as string));
});

/**
 * A local server: /size/N answers N bytes; /slow… never answers, and settles `abandoned(url)`
 * when the client gives up; /reset waits for a /slow… request, then drops its connection.
 */
let server: Server;
let base: string;
const closes = new Map<string, () => void>();
const closed = new Map<string, Promise<void>>();
let slowArrived: () => void = () => {};
let slowSeen = new Promise<void>((resolve) => (slowArrived = resolve));

function abandoned(url: string): Promise<void> {
  let promise = closed.get(url);
  if (promise === undefined) {
    promise = new Promise<void>((resolve) => closes.set(url, resolve));
    closed.set(url, promise);
  }
  return promise;
}

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? "/";
    if (url.startsWith("/size/")) {
      res.end("x".repeat(Number(url.slice(6))));
    } else if (url === "/reset") {
      void slowSeen.then(() => req.socket.destroy());
    } else {
      void abandoned(url);
      res.on("close", () => closes.get(url)?.());
      slowArrived();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function nextSlowRequest(): Promise<void> {
  slowSeen = new Promise<void>((resolve) => (slowArrived = resolve));
  return slowSeen;
}

describe("1. fetch with a timeout and cancellation", () => {
  test("both versions return the body", async () => {
    expect(await getText(`${base}/size/5`, 10_000)).toBe("xxxxx");
    expect(await run(getTextOnLoop(`${base}/size/5`, 10_000))).toBe("xxxxx");
  });

  test("on the loop, the timeout raises TimeoutError and aborts the request", async () => {
    const error = await run(function* () {
      try {
        yield* getTextOnLoop(`${base}/slow?timeout`, 50);
      } catch (e) {
        return e;
      }
      return undefined;
    });
    expect(error).toBeInstanceOf(TimeoutError);
    await abandoned("/slow?timeout");
  });

  test("on the loop, cancelling the task aborts the request", async () => {
    const arrived = nextSlowRequest();
    await run(function* () {
      const task = createTask(getTextOnLoop(`${base}/slow?cancel`, 60_000));
      yield* call(() => arrived);
      task.cancel();
      try {
        yield* task;
      } catch (e) {
        expect(e).toBeInstanceOf(CancelledError);
      }
    });
    await abandoned("/slow?cancel");
  });
});

describe("2. a file line by line", () => {
  test("both versions count the same lines", async () => {
    const dir = mkdtempSync(join(tmpdir(), "loop-guide-"));
    try {
      const path = join(dir, "log.txt");
      writeFileSync(path, ["INFO a", "ERROR b", "ERROR c", "INFO d", "ERROR e"].join("\n"));
      expect(await countErrors(path)).toBe(3);
      expect(await run(countErrorsOnLoop(path))).toBe(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("3. an HTTP handler calling into the loop", () => {
  test("async/await handler", async () => {
    const srv = await startAsync(0);
    try {
      const { port } = srv.address() as AddressInfo;
      expect(await (await fetch(`http://127.0.0.1:${port}/a`)).text()).toBe("page /a");
    } finally {
      await new Promise((resolve) => srv.close(resolve));
    }
  });

  test("the handler starts a task on the running loop and awaits it; cancelling closes the server", async () => {
    let srv: Server | undefined;
    const bodies = await run(function* () {
      const loop = getRunningLoop();
      const ready = loop.createFuture<Server>();
      const serving = createTask(serveOnLoop(0, (s) => ready.setResult(s)));
      srv = yield* ready;
      const { port } = srv.address() as AddressInfo;
      const bodies = yield* call(() => Promise.all(["/a", "/b"].map(async (p) => (await fetch(`http://127.0.0.1:${port}${p}`)).text())));
      serving.cancel();
      try {
        yield* serving;
      } catch (e) {
        expect(e).toBeInstanceOf(CancelledError);
      }
      return bodies;
    });
    expect(bodies).toEqual(["page /a", "page /b"]);
    expect(srv?.listening).toBe(false);
  });
});

describe("4. a worker pool over a queue", () => {
  test("both versions process every job", async () => {
    expect((await processAll([30, 10, 20, 5], 2)).sort((a, b) => a - b)).toEqual([10, 20, 40, 60]);
    expect((await run(processAllOnLoop([30, 10, 20, 5], 2))).sort((a, b) => a - b)).toEqual([10, 20, 40, 60]);
  });
});

describe("5. a bounded-concurrency crawler", () => {
  test("both versions give the sizes in the order of the urls", async () => {
    const urls = [300, 10, 2000, 0, 7].map((n) => `${base}/size/${n}`);
    expect(await crawl(urls, 2)).toEqual([300, 10, 2000, 0, 7]);
    expect(await run(crawlOnLoop(urls, 2))).toEqual([300, 10, 2000, 0, 7]);
  });

  test("on the loop, one failing fetch aborts the requests still in flight", async () => {
    void nextSlowRequest();
    const urls = [`${base}/slow?crawl`, `${base}/reset`];
    const error = await run(function* () {
      try {
        yield* crawlOnLoop(urls, 2);
      } catch (e) {
        return e;
      }
      return undefined;
    });
    expect(error).toBeInstanceOf(TypeError); // fetch's "fetch failed"
    await abandoned("/slow?crawl");
  });
});

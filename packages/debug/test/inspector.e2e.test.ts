/// <reference lib="dom" />
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { EventLoop, type Coroutine, type Future } from "@loop/core";
import { chromium } from "playwright-core";
import { expect, test } from "vitest";
import { startInspector } from "../src/index.js";

// End to end: the inspector page in a real headless Chromium (Debian's `chromium`, which
// .ci/run installs). Locally, without it, the test is skipped with the reason; in CI its
// absence is a failure.
const CHROMIUM = "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env["CI"]) {
  throw new Error(`${CHROMIUM} is missing: the inspector's end-to-end test needs Debian's chromium package (apt-get install -y chromium)`);
}
const artifacts = join(dirname(fileURLToPath(import.meta.url)), "..", "test-artifacts");

test.skipIf(!haveChromium)(
  "the inspector page shows a known task in the tree, draws the lag chart and lists the slowest callbacks",
  async () => {
    const loop = new EventLoop({ debug: true });
    loop.debugLogger = { warn() {} };
    const stop: Future<void> = loop.createFuture();
    stop.label = "Event.wait";
    // A little steady work so that the chart and the slowest list have something to show.
    function* heartbeat(): Coroutine<void> {
      for (;;) {
        const tick = loop.createFuture<void>();
        tick.label = "sleep(20)";
        loop.callLater(20, function beat() {
          const until = performance.now() + 3;
          while (performance.now() < until) {
            // a few ms of work per beat
          }
          tick.setResult();
        });
        yield* tick;
      }
    }
    const main = loop.createTask(
      (function* () {
        const beat = loop.createTask(heartbeat(), { name: "heartbeat" });
        yield* loop.createTask(
          (function* () {
            yield* stop;
          })(),
          { name: "known-task" },
        );
        beat.cancel();
      })(),
      { name: "main" },
    );
    const running = loop.runUntilComplete(main);
    const inspector = await startInspector({ loop, port: 0 });
    const profile = mkdtempSync(join(tmpdir(), "loop-inspector-chromium-"));
    // A fresh profile directory (--user-data-dir), which playwright takes as this argument.
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      viewport: { width: 1280, height: 760 },
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    try {
      const page = browser.pages()[0] ?? (await browser.newPage());
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(inspector.url);
      await page.waitForFunction(() => document.getElementById("task-tree")?.textContent?.includes('Task "known-task"') === true, undefined, { timeout: 15_000 });
      // Several polls, so that the chart has a line and the slowest table rows.
      await page.waitForFunction(() => document.querySelectorAll("#slowest tr").length > 0, undefined, { timeout: 15_000 });
      const first = await page.evaluate(() => Number(document.body.dataset["updated"]));
      await page.waitForFunction((t) => Number(document.body.dataset["updated"]) > t, first, { timeout: 15_000 });
      const tree = (await page.textContent("#task-tree")) ?? "";
      expect(tree).toContain('Task "main" waiting on task "known-task"');
      expect(tree).toMatch(/Task "known-task" waiting on Event\.wait at .*inspector\.e2e\.test\.ts/);
      expect(await page.locator("#lag-chart .uplot canvas").count()).toBe(1);
      expect(await page.textContent("#lag-chart .u-legend")).toContain("p99");
      expect(await page.textContent("#slowest")).toMatch(/heartbeat|beat\(\)/);
      expect(await page.textContent("#status")).toMatch(/^live/);
      expect(errors).toEqual([]);
      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: join(artifacts, "inspector.png"), fullPage: true });
    } finally {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
      await inspector.close();
      loop.callSoonThreadsafe(() => stop.setResult());
      await running;
      loop.close();
    }
  },
  60_000,
);

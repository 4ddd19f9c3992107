/**
 * The API reference site (`pnpm docs:build`, TypeDoc, into docs-site/) in a real headless
 * Chromium (Debian's `chromium`): the search finds `taskGroup` and leads to its page. The
 * site is built here when it is missing (CI builds it in a step of its own first).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";

const CHROMIUM = "/usr/bin/chromium";
const root = fileURLToPath(new URL("..", import.meta.url));
const site = join(root, "docs-site");
const types: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".css": "text/css",
  ".svg": "image/svg+xml",
  ".json": "application/json",
};
let server: Server | undefined;
let base = "";

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: the docs site test needs Debian's chromium package (apt-get install -y chromium)`);
  if (!existsSync(join(site, "index.html"))) {
    const built = spawnSync("pnpm", ["run", "--silent", "docs:build"], { cwd: root, encoding: "utf8" });
    if (built.status !== 0) throw new Error(`pnpm docs:build failed:\n${built.stdout}\n${built.stderr}`);
  }
  // Served over http on loopback, as a static host would serve it.
  const http = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname)).replace(/^(\.\.[/\\])+/, "");
    const file = join(site, path.endsWith("/") ? `${path}index.html` : path);
    if (!file.startsWith(site) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream" }).end(readFileSync(file));
  });
  server = http;
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const address = http.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  base = `http://127.0.0.1:${address.port}/`;
}, 240_000);

afterAll(async () => {
  const http = server;
  if (http !== undefined) await new Promise((resolve) => http.close(resolve));
});

test("searching the reference for taskGroup lands on the page of the taskGroup function", async () => {
  const profile = mkdtempSync(join(tmpdir(), "loop-docs-chromium-"));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run", "--disable-sync"],
  });
  try {
    const page = browser.pages()[0] ?? (await browser.newPage());
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(base);
    await page.click("#tsd-search-trigger");
    await page.fill("#tsd-search-input", "taskGroup");
    const hit = page.locator("#tsd-search-results li a", { hasText: /(^|[.\s])taskGroup\s*$/ });
    await hit.first().waitFor({ timeout: 15_000 });
    await Promise.all([page.waitForURL(/taskGroup\.html$/, { timeout: 15_000 }), hit.first().click()]);
    expect(page.url()).toMatch(/\/functions\/_loop_core\.taskGroup\.html$/);
    expect(await page.textContent("h1")).toMatch(/Function taskGroup/);
    // The page shows its documentation, not just a signature.
    expect(await page.textContent(".tsd-panel.tsd-member, .col-content")).toContain("yield* taskGroup(");
    expect(errors).toEqual([]);
  } finally {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  }
}, 120_000);

import { run } from "@loop/core";
import { expect, test } from "vitest";
import { crawlAndStop, crawlSite } from "../src/scenarios/crawler.js";

test("the crawler fetches every page of the local site, never more than 20 requests at once", async () => {
  const lines: string[] = [];
  const report = await run(() => crawlSite((line) => lines.push(line), 120, 20));
  expect(report.pages).toBe(120);
  expect(report.mostInFlight).toBeLessThanOrEqual(20);
  expect(report.mostInFlight).toBeGreaterThan(1);
  expect(lines.at(-1)).toMatch(/^120 pages, \d+ bytes; the server saw at most \d+ requests at once \(limit 20\)$/);
});

test("stopping the crawl aborts every request in flight and leaves none open on the server", async () => {
  const lines: string[] = [];
  const report = await run(() => crawlAndStop((line) => lines.push(line), 30, 20));
  expect(report).toEqual({ fetched: 30, inFlightAtStop: 20, abandoned: 20, stillOpen: 0, byCtrlC: false });
  expect(lines.at(-1)).toBe("stopped: 20 requests aborted, 0 still open on the server");
});

import { readFileSync } from "node:fs";
import { afterEach, expect, test, vi } from "vitest";
import { checkNoLeaks } from "./helpers.js";

checkNoLeaks();

afterEach(() => {
  vi.restoreAllMocks();
});

const packageDir = new URL("..", import.meta.url);

test("the README's example is test/fixtures/readme-example.ts, word for word", () => {
  const readme = readFileSync(new URL("README.md", packageDir), "utf8");
  const start = readme.indexOf("```ts\n") + "```ts\n".length;
  const block = readme.slice(start, readme.indexOf("```\n", start));
  const example = readFileSync(new URL("test/fixtures/readme-example.ts", packageDir), "utf8");
  // What follows the marker line (a tool may put lines above it: Stryker adds `// @ts-nocheck`).
  expect(example.slice(example.indexOf("\n", example.indexOf("kept runnable:")) + 1)).toBe(block);
});

test("the README's example runs and prints what it promises", async () => {
  const lines: string[] = [];
  vi.spyOn(console, "log").mockImplementation((...parts: unknown[]) => {
    lines.push(parts.map(String).join(" "));
  });
  await import("./fixtures/readme-example.js");
  expect(lines).toEqual(["hello", "apple, fig, pear / status 0", "tick 1", "tick 2", "tick 3", "sleep: stopped after 100 ms, no child left"]);
});

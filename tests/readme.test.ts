import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterEach, expect, test, vi } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));

afterEach(() => {
  vi.restoreAllMocks();
});

test("the README's example is examples/readme.ts, word for word", () => {
  const readme = readFileSync(`${root}README.md`, "utf8");
  const start = readme.indexOf("```ts\n") + "```ts\n".length;
  const block = readme.slice(start, readme.indexOf("```\n", start));
  const example = readFileSync(`${root}examples/readme.ts`, "utf8");
  expect(example.slice(example.indexOf("\n") + 1)).toBe(block);
});

test("the README's example runs and prints what it promises", async () => {
  const lines: string[] = [];
  vi.spyOn(console, "log").mockImplementation((line: unknown) => {
    lines.push(String(line));
  });
  await import("../examples/readme.ts");
  expect(lines).toEqual(["a: cleaned up", "b: cleaned up", "slow: cleaned up", "slow: timed out and cancelled"]);
});

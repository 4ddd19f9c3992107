import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterEach, expect, test, vi } from "vitest";

const readme = readFileSync(fileURLToPath(new URL("../README.md", import.meta.url)), "utf8");
const examplePath = fileURLToPath(new URL("./examples/datagram-readme.ts", import.meta.url));

afterEach(() => {
  vi.restoreAllMocks();
});

test("the README's UDP example is test/examples/datagram-readme.ts, word for word", () => {
  const start = readme.indexOf("```ts\n", readme.indexOf("### Datagrams (UDP)")) + "```ts\n".length;
  const block = readme.slice(start, readme.indexOf("```\n", start));
  const example = readFileSync(examplePath, "utf8");
  // What follows the marker line (a tool may put lines above it: Stryker adds `// @ts-nocheck`).
  const marker = "word for word below this line";
  expect(example.slice(example.indexOf("\n", example.indexOf(marker)) + 1)).toBe(block);
});

test("the README's UDP example runs and prints what it promises", async () => {
  const lines: string[] = [];
  vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void lines.push(args.join(" ")));
  await import("./examples/datagram-readme.js");
  expect(lines).toEqual(["ping 127.0.0.1"]);
});

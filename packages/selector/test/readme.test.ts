import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it, vi } from "vitest";
import { available } from "./native-available.js";

const root = new URL("..", import.meta.url);

afterEach(() => {
  vi.restoreAllMocks();
});

describe("the README", () => {
  it("its first example is examples/readme.ts, word for word", () => {
    const readme = readFileSync(new URL("README.md", root), "utf8");
    const start = readme.indexOf("```ts\n") + "```ts\n".length;
    const block = readme.slice(start, readme.indexOf("```\n", start));
    const example = readFileSync(new URL("examples/readme.ts", root), "utf8");
    // What follows the marker line (a tool may put lines above it: Stryker adds `// @ts-nocheck`).
    expect(example.slice(example.indexOf("\n", example.indexOf("word for word below this line")) + 1)).toBe(block);
  });

  it.skipIf(!available)("its example runs on the native selector and prints the echoed line", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
      lines.push(args.join(" "));
    });
    await import("../examples/readme.js");
    expect(lines).toEqual(["hello over epoll (native selector)"]);
  });
});

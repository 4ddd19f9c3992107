/**
 * The repository explains itself: code and docs cite its own documents (docs/design.md, a
 * README, CONTRIBUTING.md) or asyncio's names, never a specification that is not in the
 * repository, and name no path of the machine they were written on. StrykerJS's
 * incremental files are left out: they are its cache of past sources and results, written
 * by the tool (`pnpm test:mutation`), not documents.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));

test("no file cites SPEC, ../shared or a /work/ path", () => {
  let out = "";
  try {
    out = execFileSync("git", ["grep", "-n", "-I", "-E", "\\bSPEC(\\.md)?\\b|\\.\\./shared|(file://|[[:space:]\"'`(=])/work/", "--", ".", ":!tests/self-contained.test.ts", ":!**/stryker-incremental.json"], {
      cwd: root,
      encoding: "utf8",
    });
  } catch (error) {
    if ((error as { status?: number }).status !== 1) throw error; // 1: nothing found
  }
  const hits = out.split("\n").filter((line) => line !== "");
  expect(hits).toEqual([]);
});

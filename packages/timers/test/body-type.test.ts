import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, test } from "vitest";
import { Future, getRunningLoop } from "@loop/core";
import { timeout } from "../src/index.js";
import { caught, virtual } from "./helpers.js";

// A body that returns a Future instead of a coroutine (`() => toThread(…)`) used to get a
// type error about `[Symbol.dispose]` missing from the Future: the type checker must say
// what the runtime says.

const here = fileURLToPath(new URL(".", import.meta.url));

/** The type errors of `source`, compiled as a file of this test folder with the package's settings. */
function typeErrors(source: string): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(`${here}../tsconfig.test.json`, {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    },
  })!;
  const file = `${here}body-type-snippet.ts`;
  const host = ts.createCompilerHost(config.options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.fileExists = (name) => name === file || ts.sys.fileExists(name);
  host.readFile = (name) => (name === file ? source : readFile(name));
  host.getSourceFile = (name, language) => (name === file ? ts.createSourceFile(name, source, language) : getSourceFile(name, language));
  const program = ts.createProgram([file], { ...config.options, noEmit: true }, host);
  return ts.getPreEmitDiagnostics(program, program.getSourceFile(file)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
}

describe("timeout body type", () => {
  test("a body that returns a Future is a type error quoting the runtime message", async () => {
    const errors = typeErrors(`
      import { Future, getRunningLoop, type Coroutine } from "@loop/core";
      import { timeout, timeoutAt } from "../src/index.js";
      export function* ok(): Coroutine<number> {
        return yield* timeout(100, function* () { return 1; });
      }
      export function* wrong(): Coroutine<number> {
        return yield* timeout(100, () => new Future<number>(getRunningLoop()));
      }
      export function* wrongAt(): Coroutine<number> {
        return yield* timeoutAt(100, () => Promise.resolve(1));
      }
    `);
    const runtime = await virtual(function* () {
      return yield* caught(() => timeout(10, (() => new Future<number>(getRunningLoop())) as never));
    });
    const words = (runtime as TypeError).message.replace("timeout(ms, body): ", "");
    expect(words).toMatch(/^body must be a function\*/);
    expect(errors).toHaveLength(2);
    for (const error of errors) expect(error).toContain(words);
  }, 60_000);
});

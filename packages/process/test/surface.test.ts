import { expect, test } from "vitest";
import * as processModule from "../src/index.js";

test("src/index.ts exports exactly these runtime names", () => {
  expect(Object.keys(processModule).sort()).toEqual([
    "CalledProcessError",
    "CompletedProcess",
    "DEVNULL",
    "NodeProcessDriver",
    "PIPE",
    "Process",
    "STDOUT",
    "createSubprocessExec",
    "createSubprocessShell",
    "nodeProcessDriver",
    "runProcess",
  ]);
});

test("the stdio choices are asyncio's numbers, apart from every file descriptor", () => {
  expect([processModule.PIPE, processModule.STDOUT, processModule.DEVNULL]).toEqual([-1, -2, -3]);
});

test("CalledProcessError carries its class name", () => {
  const error = new processModule.CalledProcessError(1, ["false"]);
  expect(error).toBeInstanceOf(Error);
  expect(error.name).toBe("CalledProcessError");
  expect([error.returncode, error.command, error.stdout, error.stderr]).toEqual([1, ["false"], null, null]);
});

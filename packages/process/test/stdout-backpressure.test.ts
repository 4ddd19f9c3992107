// A reader that stops reading stops the child: past twice the limit unread, the stdout
// pipe is paused, and the child blocks in write() once the pipe is full. Runs on both
// drivers (node:child_process here, SelectorPoller's in the "process-selector" project).
import { readFileSync } from "node:fs";
import { run, type Coroutine } from "@loop/core";
import { expect, test } from "vitest";
import { PIPE, createSubprocessExec } from "../src/index.js";
import { checkNoLeaks } from "./helpers.js";

checkNoLeaks();

/** The child is inside write(1, …): its stdout is full. */
function blockedWriting(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/syscall`, "utf8").startsWith("1 0x1 ");
  } catch {
    return false;
  }
}

/** Real I/O for the loop meanwhile: children started and waited for one after another. */
function* otherChildren(): Coroutine<void> {
  for (let i = 0; i < 10; i++) yield* (yield* createSubprocessExec("/bin/true")).wait();
}

test("a paused stdout holds the child in write() while other children come and go; then every byte arrives", async () => {
  const total = 4_000_000;
  const [stillBlocked, returncodeMeanwhile, got, code] = await run(function* () {
    const child = yield* createSubprocessExec("head", ["-c", String(total), "/dev/zero"], { stdout: PIPE, limit: 1024 });
    while (!blockedWriting(child.pid) && child.returncode === null) yield;
    yield* otherChildren();
    const blocked = blockedWriting(child.pid);
    const meanwhile = child.returncode;
    const out = yield* child.stdout!.read(-1);
    return [blocked, meanwhile, out.byteLength, yield* child.wait()];
  });
  expect([stillBlocked, returncodeMeanwhile]).toEqual([true, null]);
  expect([got, code]).toEqual([total, 0]);
});

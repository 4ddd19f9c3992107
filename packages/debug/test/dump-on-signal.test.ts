import { isMainThread } from "node:worker_threads";
import { EventLoop } from "@loop/core";
import { expect, test } from "vitest";
import { dumpTasksOnSignal } from "../src/index.js";
import { labelled, runTurns, waitOn } from "./helpers.js";

test("SIGUSR2 prints the task tree, once the handler is installed, until it is removed", async () => {
  const loop = new EventLoop();
  loop.createTask(waitOn(labelled<void>(loop, "Queue.get")), { name: "stuck-consumer" });
  await runTurns(loop, 1);
  const written: string[] = [];
  let signalled!: () => void;
  const arrived = new Promise<void>((resolve) => (signalled = resolve));
  const remove = dumpTasksOnSignal(loop, {
    write: (text) => {
      written.push(text);
      signalled();
    },
  });
  try {
    // Signals reach the main thread only; on a worker thread (mutation testing runs the tests
    // there) a real SIGUSR2 would end the process, so the listener is handed the signal as
    // Node's own dispatch does.
    if (isMainThread) process.kill(process.pid, "SIGUSR2");
    else process.emit("SIGUSR2", "SIGUSR2");
    await arrived;
  } finally {
    remove();
  }
  expect(written).toHaveLength(1);
  expect(written[0]).toMatch(/^\[@loop\] task tree of pid \d+ at .* \(SIGUSR2\)\n/);
  expect(written[0]).toContain('└── Task "stuck-consumer" waiting on Queue.get');
  expect(process.listenerCount("SIGUSR2")).toBe(0);
  loop.close();
});

test("a bad signal name is refused at the call", () => {
  const loop = new EventLoop();
  expect(() => dumpTasksOnSignal(loop, { signal: "USR2" as NodeJS.Signals })).toThrow(TypeError);
  loop.close();
});

test("the refusal of a bad signal name names the option and what it got", () => {
  const loop = new EventLoop();
  expect(() => dumpTasksOnSignal(loop, { signal: "USR2" as NodeJS.Signals })).toThrow(
    new TypeError('dumpTasksOnSignal(loop, { signal }): signal must be a signal name like "SIGUSR2", got USR2'),
  );
  expect(() => dumpTasksOnSignal(loop, { signal: 12 as unknown as NodeJS.Signals })).toThrow(
    new TypeError('dumpTasksOnSignal(loop, { signal }): signal must be a signal name like "SIGUSR2", got 12'),
  );
  expect(process.listenerCount("SIGUSR2")).toBe(0);
  loop.close();
});

test("once the loop is closed, the signal prints nothing", () => {
  const loop = new EventLoop();
  const written: string[] = [];
  const remove = dumpTasksOnSignal(loop, { signal: "SIGWINCH", write: (text) => written.push(text) });
  loop.close();
  try {
    // Handed to the listener as Node's own dispatch does (signals reach the main thread only).
    process.emit("SIGWINCH", "SIGWINCH");
  } finally {
    remove();
  }
  expect(written).toEqual([]);
  expect(process.listenerCount("SIGWINCH")).toBe(0);
});

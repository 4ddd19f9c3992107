import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, test } from "vitest";
import { EventLoop, coroutineFrame, creationFrames, stackFrames, suspensionFrames, userFrame, type Coroutine, type Future } from "../src/index.js";
import { StackReader, parseStackText } from "../src/stack-frames.js";

// A stack captured in a made-up checkout of @loop, as V8 prints it.
const checkout = "/home/dev/loop/packages";
const v8Stack = [
  "Error",
  `    at captureError (${checkout}/core/src/stack-frames.ts:101:17)`,
  `    at Future.next (${checkout}/core/src/future.ts:343:70)`,
  `    at sleepFor (${checkout}/timers/src/sleep.ts:40:10)`,
  "    at sleepFor.next (<anonymous>)",
  "    at fetchOne (file:///srv/app/src/fetch.ts:4:5)",
  "    at fetchOne.next (<anonymous>)",
  "    at main (file:///srv/app/src/main.ts:12:7)",
  "    at main.next (<anonymous>)",
  `    at Task.step (${checkout}/core/src/task.ts:199:30)`,
  `    at EventLoop._runReadyCallbacks (${checkout}/core/src/loop.ts:206:42)`,
  "    at process.processImmediate (node:internal/timers:483:21)",
].join("\n");

// The same stack as SpiderMonkey and JavaScriptCore print it (no header, no trampolines).
const spiderMonkeyStack = [
  `captureError@${checkout}/core/src/stack-frames.ts:101:17`,
  `sleepFor@${checkout}/timers/src/sleep.ts:40:10`,
  "fetchOne@file:///srv/app/src/fetch.ts:4:5",
  "main@file:///srv/app/src/main.ts:12:7",
  `step@${checkout}/core/src/task.ts:199:30`,
  "",
].join("\n");

function checkoutReader(): StackReader {
  const reader = new StackReader();
  for (const pkg of ["core", "timers"]) reader.addLibraryModule(`file://${checkout}/${pkg}/src/index.ts`);
  reader.setCoroutineRunner(`file://${checkout}/core/src/task.ts`);
  return reader;
}

describe("reading stacks as text", () => {
  test("a V8 stack splits into frames: function, location, engine code", () => {
    const frames = parseStackText(v8Stack);
    expect(frames).toHaveLength(11);
    expect(frames[4]).toEqual({
      functionName: "fetchOne",
      location: "file:///srv/app/src/fetch.ts:4:5",
      file: "file:///srv/app/src/fetch.ts",
      native: false,
      text: "fetchOne (file:///srv/app/src/fetch.ts:4:5)",
    });
    expect(frames[3]).toMatchObject({ functionName: "sleepFor.next", location: null, native: true });
    expect(frames[10]).toMatchObject({ native: true, file: null });
  });

  test("a SpiderMonkey stack reads the same", () => {
    const frames = parseStackText(spiderMonkeyStack);
    expect(frames.map((f) => f.functionName)).toEqual(["captureError", "sleepFor", "fetchOne", "main", "step"]);
    expect(frames[2]?.text).toBe("fetchOne (file:///srv/app/src/fetch.ts:4:5)");
  });

  test("the user's frame is the first one outside the registered library folders and the engine", () => {
    const reader = checkoutReader();
    expect(reader.userFrame(v8Stack)?.text).toBe("fetchOne (file:///srv/app/src/fetch.ts:4:5)");
    expect(reader.userFrame(spiderMonkeyStack)?.text).toBe("fetchOne (file:///srv/app/src/fetch.ts:4:5)");
    expect(reader.userFrame(undefined)).toBeUndefined();
    expect(reader.userFrame(`Error\n    at Task.step (${checkout}/core/src/task.ts:1:1)`)).toBeUndefined();
  });

  test("the coroutine is the frame just inside the coroutine runner's, trampolines skipped", () => {
    const reader = checkoutReader();
    expect(reader.coroutineFrame(v8Stack)?.text).toBe("main (file:///srv/app/src/main.ts:12:7)");
    expect(reader.coroutineFrame(spiderMonkeyStack)?.text).toBe("main (file:///srv/app/src/main.ts:12:7)");
    // Cut off before the step: unknown rather than a guess.
    expect(reader.coroutineFrame("Error\n    at f (/a.ts:1:1)")).toBeUndefined();
    expect(new StackReader().coroutineFrame(v8Stack)).toBeUndefined();
  });

  test("an application laid out as packages/core/src keeps its frames", () => {
    // Library code is known by the folders its modules registered, not by folder names:
    // this app's own monorepo looks like ours, and its frames are still the user's.
    const reader = checkoutReader();
    const appStack = [
      "Error",
      `    at captureError (${checkout}/core/src/stack-frames.ts:101:17)`,
      "    at handler (/srv/shop/packages/core/src/orders.ts:8:3)",
    ].join("\n");
    expect(reader.userFrame(appStack)?.text).toBe("handler (/srv/shop/packages/core/src/orders.ts:8:3)");
    // The process's own reader knows only the folders @loop really loaded from.
    expect(userFrame("Error\n    at handler (/srv/shop/packages/core/src/orders.ts:8:3)")?.text).toBe(
      "handler (/srv/shop/packages/core/src/orders.ts:8:3)",
    );
  });

  test("file URLs, paths and Windows paths of one file compare equal", () => {
    const reader = new StackReader();
    reader.addLibraryModule("file:///C:/work/loop/packages/core/dist/index.js");
    const [frame] = parseStackText("Error\n    at f (C:\\work\\loop\\packages\\core\\dist\\task.js:1:2)");
    expect(reader.isLibrary(frame!)).toBe(true);
    reader.addLibraryModule("http://localhost:5173/node_modules/@loop/core/dist/index.js?v=1a2b");
    const [browser] = parseStackText("f@http://localhost:5173/node_modules/@loop/core/dist/task.js?v=1a2b:3:4");
    expect(reader.isLibrary(browser!)).toBe(true);
  });
});

function* parked(gate: Future<void>): Coroutine<void> {
  yield* gate;
}

describe("reading the stacks core captures", () => {
  test("structured frames: the coroutine and the user's line of a suspended task", async () => {
    const loop = new EventLoop({ debug: true });
    const gate = loop.createFuture<void>();
    const task = loop.createTask(parked(gate), { name: "parked" });
    loop.callSoon(() => loop.callSoon(() => loop.stop()));
    await loop.runForever();
    const frames = suspensionFrames(task);
    expect(frames.length).toBeGreaterThan(2);
    expect(coroutineFrame(frames)?.functionName).toBe("parked");
    expect(coroutineFrame(frames)?.location).toMatch(/stack-frames\.test\.ts:\d+:\d+$/);
    expect(userFrame(frames)?.functionName).toBe("parked");
    expect(userFrame(creationFrames(gate))?.location).toMatch(/stack-frames\.test\.ts:\d+:\d+$/);
    // The public text agrees with the frames it was read from.
    expect(task.suspensionStack()).toContain(coroutineFrame(frames)!.text);
    gate.setResult();
    await loop.runUntilComplete(task);
    loop.close();
  });

  test("library code is told by the call sites' scripts; the host formatter's lines are what is shown", () => {
    // A formatter that maps locations (as source maps do) changes what is printed, not
    // which script runs: classification follows the call site, display the printed line.
    type Hook = ((error: Error, sites: { toString(): string }[]) => unknown) | undefined;
    const E = Error as unknown as { prepareStackTrace: Hook };
    const saved = E.prepareStackTrace;
    E.prepareStackTrace = (error, sites) =>
      [String(error), ...sites.map((site) => `    at ${site.toString().replace("stack-frames.test.ts", "mapped-source.ts")}`)].join("\n");
    try {
      const loop = new EventLoop({ debug: true });
      const future = loop.createFuture<void>();
      const frame = userFrame(creationFrames(future));
      expect(frame?.location).toMatch(/mapped-source\.ts:\d+:\d+$/);
      expect(frame?.file).toMatch(/stack-frames\.test\.ts$/);
      loop.close();
    } finally {
      E.prepareStackTrace = saved;
    }
  });

  test("a formatter that does not print one line per call site leaves the text to parse", () => {
    type Hook = ((error: Error, sites: unknown[]) => unknown) | undefined;
    const E = Error as unknown as { prepareStackTrace: Hook };
    const saved = E.prepareStackTrace;
    E.prepareStackTrace = () => "Error\n    at only (/srv/app/one.ts:1:1)";
    try {
      const loop = new EventLoop({ debug: true });
      const frames = creationFrames(loop.createFuture<void>());
      expect(frames.map((f) => f.text)).toEqual(["only (/srv/app/one.ts:1:1)"]);
      loop.close();
    } finally {
      E.prepareStackTrace = saved;
    }
  });

  test("outside debug mode nothing is captured", async () => {
    const loop = new EventLoop();
    const future = loop.createFuture<void>();
    expect(creationFrames(future)).toEqual([]);
    loop.close();
  });

  test("a module of an application's own packages/core/src is the user's code", async () => {
    // The real bug this module fixes: a folder-name pattern took any `/packages/core/src/`
    // for @loop's own and hid the frame.
    const root = mkdtempSync(join(tmpdir(), "loop-stack-"));
    try {
      const folder = join(root, "packages", "core", "src");
      mkdirSync(folder, { recursive: true });
      const file = join(folder, "orders.mjs");
      writeFileSync(file, "export function openOrder(loop) {\n  return loop.createFuture();\n}\n");
      const { openOrder } = (await import(pathToFileURL(file).href)) as { openOrder: (loop: EventLoop) => Future<void> };
      const loop = new EventLoop({ debug: true });
      const future = openOrder(loop);
      const frame = userFrame(creationFrames(future));
      expect(frame?.functionName).toBe("openOrder");
      expect(frame?.location).toMatch(/\/packages\/core\/src\/orders\.mjs:2:15$/);
      expect(stackFrames(future.creationStack()).some((f) => f.text === frame?.text)).toBe(true);
      loop.close();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

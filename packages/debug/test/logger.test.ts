import { Writable } from "node:stream";
import { EventLoop, type Coroutine } from "@loop/core";
import pino from "pino";
import { afterEach, expect, test, vi } from "vitest";
import { consoleLogger, pinoLogger, plainDetails } from "../src/index.js";
import { runTurns } from "./helpers.js";

afterEach(() => {
  vi.restoreAllMocks();
});

test("a pino logger receives each slow-callback report as one structured warn record", async () => {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString("utf8").split("\n").filter((l) => l !== ""));
      done();
    },
  });
  const loop = new EventLoop({ debug: true });
  loop.debugLogger = pinoLogger(pino({ base: null }, stream));
  loop.slowCallbackDuration = 0; // every step is "slow": the test checks the record, not timing
  function* crunch(): Coroutine<void> {
    yield* loop.createFuture<void>();
  }
  loop.createTask(crunch(), { name: "cruncher" });
  await runTurns(loop, 1);
  loop.slowCallbackDuration = Number.POSITIVE_INFINITY;
  loop.close();
  const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const record = records.find((r) => String(r["msg"]).includes('name="cruncher"'));
  expect(record).toBeDefined();
  expect(record).toMatchObject({
    level: 40,
    msg: expect.stringMatching(/^Executing <Task pending name="cruncher" coro=<crunch\(\) running at .*logger\.test\.ts:\d+:\d+>> created at .*logger\.test\.ts:\d+:\d+ took \d+\.\d ms$/),
    durationMs: expect.any(Number),
    task: { name: "cruncher", state: '<Task pending name="cruncher">' },
    creationStack: expect.stringContaining("logger.test.ts"),
    suspensionStack: expect.stringContaining("crunch"),
  });
});

test("pinoLogger rejects what is not a logger, at the call", () => {
  expect(() => pinoLogger({} as never)).toThrow(TypeError);
});

test("pinoLogger's refusal says what a logger is, for null, a function and a warn that is not a method", () => {
  const warnFn = Object.assign(() => {}, { warn: () => {} });
  for (const bad of [null, undefined, warnFn, { warn: "loud" }, "pino"]) {
    expect(() => pinoLogger(bad as never)).toThrow(new TypeError("pinoLogger(logger): logger must be a pino logger (an object with warn(obj, msg))"));
  }
});

test("plainDetails keeps null and plain values as they are", () => {
  expect(plainDetails({ nothing: null, flag: false, zero: 0, text: "" })).toEqual({ nothing: null, flag: false, zero: 0, text: "" });
});

test("consoleLogger writes one line to stderr", () => {
  const spy = vi.spyOn(console, "error").mockImplementation(() => {});
  consoleLogger.warn("Executing <Task> took 200.0 ms", { durationMs: 200 });
  expect(spy.mock.calls).toEqual([["[@loop debug] Executing <Task> took 200.0 ms"]]);
});

test("plainDetails turns tasks, futures and objects into JSON-friendly values and drops undefined", () => {
  const loop = new EventLoop();
  const future = loop.createFuture<number>();
  const error = new Error("boom");
  expect(plainDetails({ future, error, n: 1, s: "x", gone: undefined, obj: { toString: () => "obj" } })).toEqual({
    future: "<Future pending>",
    error,
    n: 1,
    s: "x",
    obj: "obj",
  });
  expect(plainDetails(undefined)).toEqual({});
  loop.close();
});

import { afterEach, describe, expect, test, vi } from "vitest";
import { EventLoop, createTask, getRunningLoop, run, type Coroutine } from "../src/index.js";
import { VirtualPoller, runVirtual, sleep } from "./helpers.js";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("run", () => {
  test("resolves with main's result; main may be a coroutine or a function returning one", async () => {
    expect(
      await run(
        (function* () {
          yield;
          return 1;
        })(),
        { poller: new VirtualPoller() },
      ),
    ).toBe(1);
    expect(await runVirtual(function* () {
      yield* sleep(10);
      return "two";
    })).toBe("two");
  });

  test("rejects with main's error, the same object", async () => {
    const boom = new Error("boom");
    await expect(
      runVirtual(function* () {
        yield;
        throw boom;
      }),
    ).rejects.toBe(boom);
  });

  test("rejects when main is not a coroutine, or when main() throws", async () => {
    await expect(run(42 as never)).rejects.toThrow(TypeError);
    await expect(run((() => Promise.resolve(1)) as never)).rejects.toThrow(/got a Promise/);
    const boom = new Error("sync");
    await expect(
      run(() => {
        throw boom;
      }),
    ).rejects.toBe(boom);
  });

  test("inside a running loop it rejects, saying to yield* instead", async () => {
    const msg = await runVirtual(function* () {
      const p = run(function* () {});
      let message = "";
      // eslint-disable-next-line @loop/no-promise-in-coroutine -- run() inside a loop rejects at once; the test reads that rejection without adopting it
      p.catch((e: Error) => (message = e.message));
      yield* sleep(1);
      return message;
    });
    expect(msg).toMatch(/run\(\) cannot be called from a running event loop/);
    expect(msg).toMatch(/yield\* main\(\)/);
  });

  test("cancels the tasks left over and lets their finally blocks yield, then closes the loop", async () => {
    const log: string[] = [];
    let loop: EventLoop | null = null;
    await runVirtual(function* () {
      loop = getRunningLoop();
      createTask(
        (function* () {
          try {
            yield* sleep(1000);
          } finally {
            log.push("cleanup start");
            yield* sleep(5);
            yield;
            log.push("cleanup end");
          }
        })(),
      );
      yield* sleep(1);
      return "main done";
    });
    expect(log).toEqual(["cleanup start", "cleanup end"]);
    expect(loop!.isClosed()).toBe(true);
  });

  test("leftover tasks are cleaned up after main fails too", async () => {
    const log: string[] = [];
    await expect(
      runVirtual(function* () {
        createTask(
          (function* () {
            try {
              yield* sleep(1000);
            } finally {
              log.push("cleaned");
            }
          })(),
        );
        yield;
        throw new Error("main failed");
      }),
    ).rejects.toThrow("main failed");
    expect(log).toEqual(["cleaned"]);
  });

  test("an error a leftover task raises while being cancelled goes to the exception handler", async () => {
    const printed = vi.spyOn(console, "error").mockImplementation(() => {});
    await runVirtual(function* () {
      createTask(
        (function* () {
          try {
            yield* sleep(1000);
          } finally {
            // eslint-disable-next-line no-unsafe-finally
            throw new Error("cleanup broke");
          }
        })(),
        { name: "leftover" },
      );
      yield;
    });
    const lines = printed.mock.calls.map((c) => String(c[0]));
    expect(lines.some((l) => l.startsWith('[@loop] unhandled exception during run() shutdown (task "leftover")') && l.includes("cleanup broke"))).toBe(true);
  });

  test("shuts the default executor down, waiting for it", async () => {
    const calls: unknown[] = [];
    await runVirtual(function* () {
      getRunningLoop().setDefaultExecutor({ shutdown: (opts) => void calls.push(opts) });
    });
    expect(calls).toEqual([{ wait: true }]);
  });

  test("the debug option turns debug mode on", async () => {
    const debug = await run(
      function* (): Coroutine<boolean> {
        return getRunningLoop().getDebug();
      },
      { debug: true, poller: new VirtualPoller() },
    );
    expect(debug).toBe(true);
  });

  test("runs on the default poller when none is given", async () => {
    expect(
      await run(function* () {
        yield* sleep(1);
        return getRunningLoop().poller.name;
      }),
    ).toBe("default");
  });
});

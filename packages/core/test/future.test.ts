import { describe, expect, test } from "vitest";
import { CancelledError, ContextVar, EventLoop, Future, InvalidStateError, getRunningLoop, type Coroutine } from "../src/index.js";
import { VirtualPoller, runVirtual, turn, virtualLoop } from "./helpers.js";

function newLoop(): EventLoop {
  return new EventLoop({ poller: new VirtualPoller() });
}

describe("Future states", () => {
  test("a pending future: result() and exception() throw InvalidStateError", () => {
    const loop = newLoop();
    const f = loop.createFuture<number>();
    expect(f.done()).toBe(false);
    expect(f.cancelled()).toBe(false);
    expect(() => f.result()).toThrow(InvalidStateError);
    expect(() => f.exception()).toThrow(InvalidStateError);
    expect(String(f)).toBe("<Future pending>");
    expect(f.getLoop()).toBe(loop);
    loop.close();
  });

  test("a resolved future: result() gives the value, exception() is null", () => {
    const loop = newLoop();
    const f = loop.createFuture<string>();
    f.setResult("v");
    expect(f.done()).toBe(true);
    expect(f.result()).toBe("v");
    expect(f.exception()).toBe(null);
    expect(String(f)).toBe('<Future finished result="v">');
    loop.close();
  });

  test("a failed future: result() throws the error itself, exception() returns it — even undefined", () => {
    const loop = newLoop();
    const boom = new TypeError("boom");
    const f = loop.createFuture<number>();
    f.setException(boom);
    expect(() => f.result()).toThrow(boom);
    expect(f.exception()).toBe(boom);
    expect(String(f)).toBe("<Future finished exception=TypeError: boom>");
    const g = loop.createFuture<number>();
    g.setException(undefined);
    let thrown: unknown = "nothing";
    try {
      g.result();
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBe(undefined);
    expect(g.done()).toBe(true);
    loop.close();
  });

  test("a cancelled future: result() and exception() throw CancelledError with the message", () => {
    const loop = newLoop();
    const f = loop.createFuture<number>();
    expect(f.cancel("stop it")).toBe(true);
    expect(f.cancelled()).toBe(true);
    expect(f.done()).toBe(true);
    expect(() => f.result()).toThrow(CancelledError);
    expect(() => f.result()).toThrow("stop it");
    expect(() => f.exception()).toThrow(CancelledError);
    expect(String(f)).toBe("<Future cancelled>");
    loop.close();
  });

  test("setResult, setException on a done future throw InvalidStateError; cancel returns false", () => {
    const loop = newLoop();
    const f = loop.createFuture<number>();
    f.setResult(1);
    expect(() => f.setResult(2)).toThrow(InvalidStateError);
    expect(() => f.setException(new Error())).toThrow(InvalidStateError);
    expect(f.cancel()).toBe(false);
    expect(f.result()).toBe(1);
    const c = loop.createFuture<number>();
    c.cancel();
    expect(() => c.setResult(1)).toThrow(/already cancelled/);
    loop.close();
  });

  test("new Future() takes the running loop, and needs one", async () => {
    expect(() => new Future()).toThrow(/outside a running event loop/);
    const loop = await runVirtual(function* () {
      return new Future<number>().getLoop();
    });
    expect(loop).toBeInstanceOf(EventLoop);
  });

  test("InvalidStateError and TypeError messages say what is wrong", () => {
    const loop = newLoop();
    const f = loop.createFuture<number>();
    expect(() => f.result()).toThrow("Result is not ready: the future is still pending (wait on it with yield* first)");
    expect(() => f.exception()).toThrow("Exception is not set: the future is still pending");
    expect(() => f.addDoneCallback(42 as never)).toThrow("addDoneCallback(callback): callback must be a function");
    f.setResult(1);
    expect(() => f.setException(new Error())).toThrow("setException() on a future that is already finished");
    loop.close();
  });

  test("a result shown in toString is shortened only past 60 characters", () => {
    const loop = newLoop();
    const fits = loop.createFuture<string>();
    fits.setResult("x".repeat(58)); // 60 characters with its quotes
    expect(String(fits)).toBe(`<Future finished result="${"x".repeat(58)}">`);
    const over = loop.createFuture<string>();
    over.setResult("x".repeat(59));
    expect(String(over)).toBe(`<Future finished result="${"x".repeat(56)}...>`);
    loop.close();
  });

  test("a long result is shortened in toString", () => {
    const loop = newLoop();
    const f = loop.createFuture<string>();
    f.setResult("x".repeat(100));
    expect(String(f)).toMatch(/^<Future finished result="x+\.\.\.>$/);
    const g = loop.createFuture<object>();
    g.setResult({ toString: () => { throw new Error("no"); } });
    expect(String(g)).toBe("<Future finished result=<unprintable>>");
    loop.close();
  });
});

describe("done callbacks", () => {
  test("run in registration order, each through callSoon (not synchronously)", async () => {
    const { loop, poller } = virtualLoop();
    const f = loop.createFuture<number>();
    const log: string[] = [];
    f.addDoneCallback((x) => log.push(`a${x.result()}:${poller.turns}`));
    f.addDoneCallback(() => log.push(`b:${poller.turns}`));
    f.addDoneCallback(() => log.push(`c:${poller.turns}`));
    loop.callSoon(() => {
      f.setResult(1);
      log.push("set");
      loop.callSoon(() => loop.stop());
    });
    await loop.runForever();
    loop.close();
    expect(log).toEqual(["set", "a1:2", "b:2", "c:2"]);
  });

  test("a callback added to a done future still runs through callSoon", async () => {
    const { loop } = virtualLoop();
    const f = loop.createFuture<number>();
    f.setResult(7);
    const log: number[] = [];
    f.addDoneCallback((x) => log.push(x.result()));
    expect(log).toEqual([]);
    loop.callSoon(() => loop.stop());
    await loop.runForever();
    loop.close();
    expect(log).toEqual([7]);
  });

  test("removeDoneCallback removes every registration and says how many", async () => {
    const { loop } = virtualLoop();
    const f = loop.createFuture<number>();
    const log: string[] = [];
    const a = (): number => log.push("a");
    const b = (): number => log.push("b");
    const c = (): number => log.push("c");
    f.addDoneCallback(a);
    f.addDoneCallback(b);
    f.addDoneCallback(a);
    f.addDoneCallback(c);
    expect(f.removeDoneCallback(a)).toBe(2);
    expect(f.removeDoneCallback(a)).toBe(0);
    f.addDoneCallback(a);
    expect(f.removeDoneCallback(b)).toBe(1);
    f.setResult(1);
    loop.callSoon(() => loop.stop());
    await loop.runForever();
    loop.close();
    expect(log).toEqual(["c", "a"]);
  });

  test("callbacks removed down to none, then added again, run in their new order", async () => {
    const { loop } = virtualLoop();
    const f = loop.createFuture<number>();
    const log: string[] = [];
    const a = (): number => log.push("a");
    const b = (): number => log.push("b");
    f.addDoneCallback(a);
    f.addDoneCallback(b);
    expect(f.removeDoneCallback(b)).toBe(1);
    expect(f.removeDoneCallback(a)).toBe(1);
    expect(f.removeDoneCallback(a)).toBe(0);
    f.addDoneCallback(b);
    f.addDoneCallback(a);
    f.addDoneCallback(b);
    f.setResult(1);
    loop.callSoon(() => loop.stop());
    await loop.runForever();
    loop.close();
    expect(log).toEqual(["b", "a", "b"]);
  });

  test("removeDoneCallback of the only callback leaves none", async () => {
    const { loop } = virtualLoop();
    const f = loop.createFuture<number>();
    const log: string[] = [];
    const a = (): number => log.push("a");
    f.addDoneCallback(a);
    expect(f.removeDoneCallback(a)).toBe(1);
    f.setResult(1);
    loop.callSoon(() => loop.stop());
    await loop.runForever();
    loop.close();
    expect(log).toEqual([]);
  });

  test("removeDoneCallback of a callback never added leaves the one that was, context or not", async () => {
    const log = await runVirtual(function* () {
      const loop = getRunningLoop();
      const log: string[] = [];
      const a = (): number => log.push("a");
      const b = (): number => log.push("b");
      const plain = loop.createFuture<number>();
      plain.addDoneCallback(a);
      log.push(`plain: removed ${plain.removeDoneCallback(b)}`);
      // With a ContextVar set, the callback is registered with (a copy of) the context.
      new ContextVar<number>("v").set(1);
      const inContext = loop.createFuture<number>();
      inContext.addDoneCallback(a);
      log.push(`in context: removed ${inContext.removeDoneCallback(b)}`);
      plain.setResult(1);
      inContext.setResult(1);
      yield* plain;
      yield* inContext;
      yield;
      return log;
    });
    expect(log).toEqual(["plain: removed 0", "in context: removed 0", "a", "a"]);
  });

  test("removeDoneCallback on a future without callbacks returns 0, whatever it is given (null too)", () => {
    const loop = newLoop();
    const f = loop.createFuture<number>();
    expect([f.removeDoneCallback(() => {}), f.removeDoneCallback(null as never), f.removeDoneCallback(undefined as never)]).toEqual([0, 0, 0]);
    loop.close();
  });

  test("addDoneCallback checks its argument", () => {
    const loop = newLoop();
    expect(() => loop.createFuture().addDoneCallback(42 as never)).toThrow(TypeError);
    loop.close();
  });
});

describe("waiting on a future", () => {
  test("yield* of a done future does not suspend", async () => {
    const turns = await runVirtual(function* () {
      const f = new Future<number>();
      f.setResult(3);
      const before = turn();
      const v = yield* f;
      const w = yield* f;
      return [v + w, turn() - before];
    });
    expect(turns).toEqual([6, 0]);
  });

  test("yield* of a pending future suspends until it is done and gives its result", async () => {
    const log = await runVirtual(function* () {
      const f = new Future<number>();
      const loop = f.getLoop();
      loop.callLater(10, () => f.setResult(5));
      const v = yield* f;
      return [v, loop.time()];
    });
    expect(log).toEqual([5, 10]);
  });

  test("yield* of a failed future throws its error in the coroutine", async () => {
    const boom = new Error("boom");
    const caught = await runVirtual(function* () {
      const f = new Future<number>();
      f.getLoop().callSoon(() => f.setException(boom));
      try {
        yield* f;
      } catch (e) {
        return e;
      }
      return null;
    });
    expect(caught).toBe(boom);
  });

  test("a coroutine driven by hand (not by a task) that waits on a pending future gets InvalidStateError", () => {
    const loop = newLoop();
    const f = loop.createFuture<number>();
    function* body(): Coroutine<number> {
      return yield* f;
    }
    const coro = body();
    expect(() => {
      coro.next();
      coro.next();
    }).toThrow(InvalidStateError);
    loop.close();
  });

  test("the InvalidStateError of a wait outside a task says to yield* it in a task or await it", () => {
    const loop = newLoop();
    const f = loop.createFuture<number>();
    expect(() => f.next()).toThrow(
      "a pending future can only be waited on from a coroutine run by a task (yield* it there); outside the loop, await it",
    );
    loop.close();
  });

  test("a coroutine closed while it waits in yield* future ends at once with the value given to return()", async () => {
    const out = await runVirtual(function* () {
      const log: string[] = [];
      const f = new Future<number>();
      const coro = (function* (): Coroutine<number> {
        try {
          return yield* f;
        } finally {
          log.push("finally");
        }
      })();
      coro.next();
      const closed = coro.return(5);
      return [closed, log, f.done()];
    });
    expect(out).toEqual([{ done: true, value: 5 }, ["finally"], false]);
  });

  test("a Future is PromiseLike: await gives the result, or rejects with the error or a CancelledError", async () => {
    const { loop } = virtualLoop();
    const ok = loop.createFuture<number>();
    const bad = loop.createFuture<number>();
    const gone = loop.createFuture<number>();
    const boom = new Error("boom");
    loop.callSoon(() => {
      ok.setResult(1);
      bad.setException(boom);
      gone.cancel("bye");
      loop.stop();
    });
    await loop.runForever();
    loop.close();
    expect(await ok).toBe(1);
    await expect(bad).rejects.toBe(boom);
    await expect(gone).rejects.toBeInstanceOf(CancelledError);
    await expect(gone).rejects.toThrow("bye");
    expect(await ok.then((v) => v + 1)).toBe(2);
  });
});

async function gcUntil(done: () => boolean): Promise<boolean> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return false;
  for (let i = 0; i < 50 && !done(); i++) {
    gc();
    await new Promise<void>((r) => setImmediate(r));
  }
  return done();
}

// Full collections take seconds on a loaded machine: these tests wait for them, not for time.
describe("errors never retrieved", { timeout: 60_000 }, () => {
  test("a future whose error nobody retrieved is reported once it is garbage-collected", async () => {
    const loop = newLoop();
    const reports: string[] = [];
    loop.setExceptionHandler((_l, ctx) => reports.push(`${ctx.message}|${(ctx.exception as Error).message}`));
    (() => {
      loop.createFuture<number>().setException(new Error("lost"));
    })();
    const seen = await gcUntil(() => reports.length > 0);
    if ((globalThis as { gc?: unknown }).gc !== undefined) expect(seen).toBe(true);
    expect(reports.slice(0, 1)).toEqual(seen ? ["Future exception was never retrieved|lost"] : []);
    loop.close();
  });

  test("a retrieved error is not reported", async () => {
    const loop = newLoop();
    const reports: string[] = [];
    loop.setExceptionHandler((_l, ctx) => reports.push(ctx.message));
    (() => {
      const f = loop.createFuture<number>();
      f.setException(new Error("seen"));
      f.exception();
      const g = loop.createFuture<number>();
      g.setException(new Error("seen too"));
      try {
        g.result();
      } catch {
        // retrieved
      }
    })();
    // A sentinel failure proves collection ran far enough to report.
    (() => {
      loop.createFuture<number>().setException(new Error("sentinel"));
    })();
    await gcUntil(() => reports.length > 0);
    expect(reports.every((m) => m === "Future exception was never retrieved")).toBe(true);
    expect(reports.length).toBeLessThanOrEqual(1);
    loop.close();
  });
});

describe("labels", () => {
  test("every future has a public label, undefined until a primitive sets it", () => {
    const loop = newLoop();
    const f = loop.createFuture<void>();
    expect(f.label).toBe(undefined);
    f.label = "Queue.get";
    expect(f.label).toBe("Queue.get");
    loop.close();
  });
});

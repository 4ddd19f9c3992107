import { describe, expect, test } from "vitest";
import { CancelledError, Future, createTask, shield, type Coroutine } from "../src/index.js";
import { catching, runVirtual, sleep, virtualLoop } from "./helpers.js";

describe("shield", () => {
  test("cancelling the outer leaves the inner running to completion", async () => {
    const out = await runVirtual(function* () {
      const log: string[] = [];
      const inner = createTask(
        (function* () {
          yield* sleep(20);
          log.push("inner finished");
          return "saved";
        })(),
      );
      const waiter = createTask(
        (function* (): Coroutine<string> {
          return yield* shield(inner);
        })(),
      );
      yield* sleep(5);
      waiter.cancel();
      const e = yield* catching(waiter);
      log.push(`waiter: ${(e as Error).name}`);
      const r = yield* inner;
      return [log, r, inner.cancelled()];
    });
    expect(out).toEqual([["waiter: CancelledError", "inner finished"], "saved", false]);
  });

  test("the inner's result, or error, is delivered when the outer is not cancelled", async () => {
    const out = await runVirtual(function* () {
      const ok = yield* shield(
        (function* () {
          yield* sleep(1);
          return 7;
        })(),
      );
      const boom = new Error("boom");
      const e = yield* catching(
        shield(
          (function* () {
            yield* sleep(1);
            throw boom;
          })(),
        ),
      );
      return [ok, e === boom];
    });
    expect(out).toEqual([7, true]);
  });

  test("cancelling the inner cancels the outer", async () => {
    const out = await runVirtual(function* () {
      const inner = createTask(
        (function* () {
          yield* sleep(100);
        })(),
      );
      const outer = shield(inner);
      yield* sleep(1);
      inner.cancel();
      const e = yield* catching(outer);
      return [e instanceof CancelledError, outer.cancelled()];
    });
    expect(out).toEqual([true, true]);
  });

  test("a done awaitable is returned as it is", async () => {
    const { loop } = virtualLoop();
    const f = loop.createFuture<number>();
    f.setResult(1);
    expect(shield(f)).toBe(f);
    loop.close();
  });

  test("an error of the inner finishing as the outer is cancelled is retrieved, not reported", async () => {
    const { loop } = virtualLoop();
    const reports: string[] = [];
    loop.setExceptionHandler((_l, ctx) => reports.push(ctx.message));
    await loop.runUntilComplete(
      (function* () {
        const inner = loop.createFuture<number>();
        const outer = shield(inner);
        // Same turn: the inner's done callback still sees the outer cancelled.
        outer.cancel();
        inner.setException(new Error("late"));
        yield* sleep(1);
        expect(inner._logTraceback).toBe(false);
        const inner2 = loop.createFuture<number>();
        const outer2: Future<number> = shield(inner2);
        inner2.cancel();
        yield* catching(outer2);
      })(),
    );
    loop.close();
    expect(reports).toEqual([]);
  });

  test("the outer and the inner cancelled in the same turn: the outer's cancellation stands and nothing is reported", async () => {
    const { loop } = virtualLoop();
    const reported: unknown[] = [];
    loop.setExceptionHandler((_l, ctx) => reported.push(ctx.exception ?? ctx.message));
    const out = await loop.runUntilComplete(
      (function* () {
        const inner = loop.createFuture<number>();
        const outer = shield(inner);
        outer.cancel("outer");
        inner.cancel("inner");
        const e = yield* catching(outer);
        yield* sleep(1);
        return [e instanceof CancelledError, (e as Error).message, inner.cancelled()];
      })(),
    );
    loop.close();
    expect(out).toEqual([true, "outer", true]);
    expect(reported).toEqual([]);
  });

  test("once the cancelled outer has let go, an error the inner ends with later is not retrieved: it stays for the never-retrieved report", async () => {
    const { loop } = virtualLoop();
    const out = await loop.runUntilComplete(
      (function* () {
        const inner = loop.createFuture<number>();
        const outer = shield(inner);
        outer.cancel();
        yield* sleep(1); // the outer's done callback has run
        const error = new Error("after the waiter left");
        inner.setException(error);
        yield* sleep(1);
        const unretrieved = inner._logTraceback;
        expect(inner.exception()).toBe(error); // retrieve it here, so the test itself leaves no report
        return unretrieved;
      })(),
    );
    loop.close();
    expect(out).toBe(true);
  });
});

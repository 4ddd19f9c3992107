/**
 * openConnection and startServer at the edges of their one wait: the connect or listen
 * settling in the same turn as a cancel, an abort or a failure, and what they leave behind
 * (no transport, no listener, no abort listener on the signal). A driver under the test's
 * hand (fake-net.ts) reaches these states without racing real sockets.
 */
import { getEventListeners } from "node:events";
import { CancelledError, TimeoutError, createTask, getRunningLoop, type Awaitable, type Coroutine } from "@loop/core";
import { runVirtual } from "@loop/testing";
import { describe, expect, it } from "vitest";
import { openConnection, openUnixConnection, startServer, startUnixServer, type ClientConnected } from "../src/index.js";
import { FakeNetDriver, fakeServerHandle } from "./fake-net.js";

const handler: ClientConnected = function* () {};

function* outcome(coro: Coroutine<unknown> | Awaitable<unknown>): Coroutine<unknown> {
  try {
    return yield* coro;
  } catch (error) {
    return error;
  }
}

describe("openConnection's wait for the driver", () => {
  it("is labelled with the address it connects to, and hands the driver host, port and TLS options", async () => {
    const driver = new FakeNetDriver();
    await runVirtual(
      function* () {
        const loop = getRunningLoop();
        const tcp = createTask(openConnection("db.local", 5432, { tls: true, serverHostname: "db" }));
        const unix = createTask(openUnixConnection("/run/db.sock"));
        yield;
        expect(tcp.waitingOn()!.label).toBe("openConnection to db.local:5432");
        expect(unix.waitingOn()!.label).toBe("openConnection to /run/db.sock");
        expect(driver.connects.map((c) => c.options)).toEqual([
          { host: "db.local", port: 5432, tls: true, serverHostname: "db" },
          { path: "/run/db.sock", tls: undefined },
        ]);
        driver.establish(0, loop);
        driver.establish(1, loop);
        for (const task of [tcp, unix]) {
          const [, writer] = yield* task;
          writer.close();
        }
      },
      { net: driver },
    );
  });

  it("timing out throws a TimeoutError naming the address and the timeout, and gives up the connect", async () => {
    const driver = new FakeNetDriver();
    await runVirtual(
      function* () {
        const loop = getRunningLoop();
        const error = (yield* outcome(openConnection("db.local", 5432, { timeout: 50 }))) as TimeoutError & { code: string; address: string; port: number };
        expect(error).toBeInstanceOf(TimeoutError);
        expect(error.message).toBe("openConnection: connecting to db.local:5432 timed out after 50 ms");
        expect([error.code, error.address, error.port]).toEqual(["ETIMEDOUT", "db.local", 5432]);
        expect(loop.time()).toBe(50);
        expect(driver.connects[0]!.future.cancelled()).toBe(true);
      },
      { net: driver },
    );
  });

  it("leaves no abort listener on the signal, whether it connected, failed or timed out", async () => {
    const driver = new FakeNetDriver();
    await runVirtual(
      function* () {
        const loop = getRunningLoop();
        const signal = new AbortController().signal;
        const connected = createTask(openConnection("h", 1, { signal }));
        const failed = createTask(openConnection("h", 2, { signal }));
        const timedOut = createTask(openConnection("h", 3, { signal, timeout: 10 }));
        yield;
        expect(getEventListeners(signal, "abort")).toHaveLength(3);
        driver.establish(0, loop);
        driver.connects[1]!.future.setException(new Error("refused"));
        const [, writer] = yield* connected;
        writer.close();
        expect(((yield* outcome(failed)) as Error).message).toBe("refused");
        expect(yield* outcome(timedOut)).toBeInstanceOf(TimeoutError);
        expect(getEventListeners(signal, "abort")).toHaveLength(0);
      },
      { net: driver },
    );
  });

  it("a connect that failed in the turn the signal aborted reports the connect's error", async () => {
    const driver = new FakeNetDriver();
    await runVirtual(
      function* () {
        const controller = new AbortController();
        const task = createTask(outcome(openConnection("h", 1, { signal: controller.signal })));
        yield;
        const refused = new Error("ECONNREFUSED");
        driver.connects[0]!.future.setException(refused);
        controller.abort(new Error("stop"));
        expect(yield* task).toBe(refused);
      },
      { net: driver },
    );
  });

  it("a connect that failed in the turn its task was cancelled ends in CancelledError", async () => {
    const driver = new FakeNetDriver();
    await runVirtual(
      function* () {
        const task = createTask(openConnection("h", 1));
        yield;
        driver.connects[0]!.future.setException(new Error("ECONNREFUSED"));
        task.cancel();
        expect(yield* outcome(task)).toBeInstanceOf(CancelledError);
      },
      { net: driver },
    );
  });

  it("a connection made in the turn its task was cancelled (and its signal aborted) is aborted, and the task ends in CancelledError", async () => {
    const driver = new FakeNetDriver();
    await runVirtual(
      function* () {
        const loop = getRunningLoop();
        const controller = new AbortController();
        const task = createTask(openConnection("h", 1, { signal: controller.signal }));
        yield;
        const transport = driver.establish(0, loop);
        controller.abort(new Error("stop"));
        task.cancel();
        expect(yield* outcome(task)).toBeInstanceOf(CancelledError);
        expect(transport.log).toEqual(["abort"]);
      },
      { net: driver },
    );
  });
});

describe("startServer's wait for the driver", () => {
  it("is labelled with the address it listens on (* for every interface), and hands the driver its options", async () => {
    const driver = new FakeNetDriver();
    await runVirtual(
      function* () {
        const named = createTask(startServer(handler, "127.0.0.1", 8080, { backlog: 5, reusePort: true }));
        const any = createTask(startServer(handler, undefined, 0));
        const unix = createTask(startUnixServer(handler, "/run/s.sock", { backlog: 1 }));
        yield;
        expect([named, any, unix].map((task) => task.waitingOn()!.label)).toEqual(["startServer on 127.0.0.1:8080", "startServer on *:0", "startServer on /run/s.sock"]);
        expect(driver.listens.map((l) => l.options)).toEqual([
          { host: "127.0.0.1", port: 8080, backlog: 5, tls: undefined, reusePort: true },
          { host: undefined, port: 0, backlog: undefined, tls: undefined, reusePort: undefined },
          { path: "/run/s.sock", backlog: 1, tls: undefined },
        ]);
        const log: string[] = [];
        for (const pending of driver.listens) pending.future.setResult(fakeServerHandle(log));
        for (const task of [named, any, unix]) {
          const server = yield* task;
          server.close();
          yield* server.waitClosed();
        }
        expect(log).toEqual(["server close", "server close", "server close"]);
      },
      { net: driver },
    );
  });

  it("a listener made in the turn its task was cancelled is closed, and the task ends in CancelledError", async () => {
    const driver = new FakeNetDriver();
    await runVirtual(
      function* () {
        const task = createTask(startServer(handler, "h", 0));
        yield;
        const log: string[] = [];
        driver.listens[0]!.future.setResult(fakeServerHandle(log));
        task.cancel();
        expect(yield* outcome(task)).toBeInstanceOf(CancelledError);
        expect(log).toEqual(["server close"]);
      },
      { net: driver },
    );
  });

  it("a listen that failed in the turn its task was cancelled ends in CancelledError; one that failed alone throws its error", async () => {
    const driver = new FakeNetDriver();
    await runVirtual(
      function* () {
        const cancelled = createTask(startServer(handler, "h", 0));
        const failed = createTask(startServer(handler, "h", 0));
        const waiting = createTask(startServer(handler, "h", 0));
        yield;
        const inUse = new Error("EADDRINUSE");
        driver.listens[0]!.future.setException(new Error("EADDRINUSE"));
        cancelled.cancel();
        driver.listens[1]!.future.setException(inUse);
        waiting.cancel();
        expect(yield* outcome(cancelled)).toBeInstanceOf(CancelledError);
        expect(yield* outcome(failed)).toBe(inUse);
        expect(yield* outcome(waiting)).toBeInstanceOf(CancelledError);
        expect(driver.listens[2]!.future.cancelled()).toBe(true);
      },
      { net: driver },
    );
  });
});

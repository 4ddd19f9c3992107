import { constants } from "node:os";
import { execFileSync } from "node:child_process";
import { closeSync, constants as fsConstants, mkdtempSync, openSync, read, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CancelledError, run, type Coroutine, type EventLoop, type Future, type Transport } from "@loop/core";
import { createConnection, nodeNetDriver, openUnixConnection } from "@loop/net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SelectorPoller, SelectorTransport } from "../src/index.js";
import { blackhole, expectNoOpenDescriptors, nativeOpen } from "./helpers.js";
import { available } from "./native-available.js";
import { Recorder, externalRefs, failure, selector, tableEntries } from "./net-driver-kit.js";

/** A port nothing listens on: one the selector just listened on and closed. */
function* closedPort(): Coroutine<number> {
  const { loop, driver } = selector();
  const listener = yield* driver.listen(loop, () => new Recorder(), { host: "127.0.0.1", port: 0 });
  const port = (listener.address() as { port: number }).port;
  listener.close();
  return port;
}

describe.skipIf(!available)("the selector's connect (asyncio's loop.create_connection)", () => {
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "loop-selector-connect-"));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("a refused TCP connect fails with Node's ECONNREFUSED error and gives back its socket, table entry and loop ref", async () => {
    await run(
      function* () {
        const { loop, driver, reactor } = selector();
        const port = yield* closedPort();
        // Another listener holds a loop ref throughout: the connect must give back its own only.
        const other = yield* driver.listen(loop, () => new Recorder(), { host: "127.0.0.1", port: 0 });
        const refsBefore = externalRefs(loop);
        const error = yield* failure(driver.connect(loop, () => new Recorder(), { host: "127.0.0.1", port }));
        expect(error).toBeInstanceOf(Error);
        expect(error.message).toBe(`connect ECONNREFUSED 127.0.0.1:${port}`);
        expect({ ...error }).toEqual({ code: "ECONNREFUSED", errno: -constants.errno.ECONNREFUSED, syscall: "connect", address: "127.0.0.1", port });
        yield; // the future's done callbacks run in the next turn
        expect(nativeOpen()).toBe(1);
        expect(tableEntries(reactor)).toBe(1);
        expect(externalRefs(loop)).toBe(refsBefore);
        other.close();
      },
      { poller: new SelectorPoller() },
    );
  });

  it("a Unix connect to a path nobody listens on fails at once with ENOENT naming the path, and no address or port", async () => {
    await run(
      function* () {
        const { loop, reactor } = selector();
        const path = join(dir, "nobody.sock");
        const refsBefore = externalRefs(loop);
        const error = yield* failure(openUnixConnection(path));
        expect(error.message).toBe(`connect ENOENT ${path}`);
        expect({ ...error }).toEqual({ code: "ENOENT", errno: -constants.errno.ENOENT, syscall: "connect", path });
        expect(tableEntries(reactor)).toBe(0);
        expect(externalRefs(loop)).toBe(refsBefore);
      },
      { poller: new SelectorPoller() },
    );
  });

  it("a lookup that answers after the loop closed is dropped, not handed to the closed loop", async () => {
    // Every thread of Node's pool blocks reading a pipe, so the lookup queued behind them
    // can only answer once the test writes to it, after the loop has closed.
    const fifo = join(dir, "pool-blocker");
    execFileSync("mkfifo", [fifo]);
    const fd = openSync(fifo, fsConstants.O_RDWR);
    const threads = Math.max(1, Number(process.env.UV_THREADPOOL_SIZE ?? 4));
    const blocked = Array.from({ length: threads }, () => new Promise((resolve) => read(fd, Buffer.alloc(1), 0, 1, null, resolve)));
    const uncaught: unknown[] = [];
    const record = (error: unknown): void => {
      uncaught.push(error);
    };
    process.prependListener("uncaughtException", record);
    try {
      let loop: EventLoop | null = null;
      try {
        await run(
          function* () {
            const s = selector();
            loop = s.loop;
            s.driver.connect(loop, () => new Recorder(), { host: "localhost", port: 9 });
          },
          { poller: new SelectorPoller() },
        );
      } finally {
        writeSync(fd, "x".repeat(threads));
      }
      const closed = loop as unknown as EventLoop;
      expect(closed.isClosed()).toBe(true);
      // The lookup gives back its loop ref first thing when it answers.
      await new Promise<void>((resolve) => {
        const unref = closed.unrefExternal.bind(closed);
        closed.unrefExternal = () => {
          unref();
          resolve();
        };
      });
      await Promise.all(blocked);
      await new Promise((resolve) => setImmediate(resolve));
      expect(uncaught).toEqual([]);
    } finally {
      process.removeListener("uncaughtException", record);
      closeSync(fd);
    }
  });

  it("a Unix connection names the socket path as its peer, also once closed", async () => {
    await run(
      function* () {
        const { loop, driver } = selector();
        const path = join(dir, "peer.sock");
        const listener = yield* driver.listen(loop, () => new Recorder(), { path });
        const transport = yield* driver.connect(loop, () => new Recorder(), { path });
        expect(transport.getExtraInfo("peername")).toBe(path);
        transport.abort();
        expect(transport.getExtraInfo("peername")).toBe(path);
        listener.close();
      },
      { poller: new SelectorPoller() },
    );
    await expectNoOpenDescriptors();
  });

  it("a host that does not resolve fails with the resolver's own error, given the host and port it was for", async () => {
    await run(
      function* () {
        const { loop, driver } = selector();
        const refsBefore = externalRefs(loop);
        const error = yield* failure(driver.connect(loop, () => new Recorder(), { host: "no-such-host.invalid", port: 80 }));
        expect(error).toMatchObject({ syscall: "getaddrinfo", hostname: "no-such-host.invalid", address: "no-such-host.invalid", port: 80 });
        expect(nativeOpen()).toBe(0);
        expect(externalRefs(loop)).toBe(refsBefore);
      },
      { poller: new SelectorPoller() },
    );
  });

  it("a connect cancelled while the peer never answers closes its socket and gives back its loop ref; the loop's close closes one still connecting", async () => {
    let pending: Future<Transport> | null = null;
    await run(
      function* () {
        const { loop, driver, reactor } = selector();
        const hole = yield* blackhole();
        try {
          const open = nativeOpen();
          const refsBefore = externalRefs(loop);
          const future = driver.connect(loop, () => new Recorder(), { host: hole.host, port: hole.port });
          while (nativeOpen() === open) yield;
          future.cancel();
          expect(yield* failure(future)).toBeInstanceOf(CancelledError);
          yield; // the future's done callbacks run in the next turn
          expect(nativeOpen()).toBe(open);
          expect(tableEntries(reactor)).toBe(open);
          expect(externalRefs(loop)).toBe(refsBefore);
          // One still connecting when the loop closes: its socket goes, its future is left alone.
          pending = driver.connect(loop, () => new Recorder(), { host: hole.host, port: hole.port });
          while (nativeOpen() === open) yield;
        } finally {
          yield* hole.cleanup();
        }
      },
      { poller: new SelectorPoller() },
    );
    expect(nativeOpen()).toBe(0);
    expect((pending as Future<Transport> | null)?.done()).toBe(false);
    await expectNoOpenDescriptors();
  });

  it("a connect cancelled while its host is being looked up opens no socket when the answer comes", async () => {
    await run(
      function* () {
        const { loop, driver } = selector();
        const listener = yield* driver.listen(loop, () => new Recorder(), { port: 0 });
        const refsBefore = externalRefs(loop);
        const future = driver.connect(loop, () => new Recorder(), { host: "localhost", port: (listener.address() as { port: number }).port });
        future.cancel();
        // The lookup holds a loop ref until it answers; its answer reaches the attempt a turn later.
        while (externalRefs(loop) > refsBefore) yield;
        for (let i = 0; i < 3; i++) yield;
        expect(nativeOpen()).toBe(1);
        listener.close();
      },
      { poller: new SelectorPoller() },
    );
    await expectNoOpenDescriptors();
  });

  it("a connect cancelled after its socket connected, before it was reported, closes it gracefully: the server hears EOF, not a reset", async () => {
    await run(
      function* () {
        const { loop, driver, reactor } = selector();
        const served: Recorder[] = [];
        const listener = yield* driver.listen(
          loop,
          () => {
            const r = new Recorder();
            served.push(r);
            return r;
          },
          { host: "127.0.0.1", port: 0 },
        );
        const port = (listener.address() as { port: number }).port;
        const future = driver.connect(loop, () => new Recorder(), { host: "127.0.0.1", port });
        while (nativeOpen() === 1) yield; // the connecting socket is open
        future.cancel();
        while (served.length === 0 || served[0]!.log.at(-1)?.startsWith("lost") !== true) yield;
        expect(served[0]!.log).toEqual(["made", "eof", "lost null"]);
        expect(nativeOpen()).toBe(1);
        expect(tableEntries(reactor)).toBe(1);
        listener.close();
      },
      { poller: new SelectorPoller() },
    );
    await expectNoOpenDescriptors();
  });

  it("a protocol factory that throws fails the connect with its error and closes the connection (the server hears EOF)", async () => {
    await run(
      function* () {
        const { loop, driver, reactor } = selector();
        const served: Recorder[] = [];
        const listener = yield* driver.listen(
          loop,
          () => {
            const r = new Recorder();
            served.push(r);
            return r;
          },
          { host: "127.0.0.1", port: 0 },
        );
        const refsBefore = externalRefs(loop);
        const boom = new Error("no protocol for you");
        const error = yield* failure(
          driver.connect(
            loop,
            () => {
              throw boom;
            },
            { host: "127.0.0.1", port: (listener.address() as { port: number }).port },
          ),
        );
        expect(error).toBe(boom);
        while (served.length === 0 || served[0]!.log.at(-1)?.startsWith("lost") !== true) yield;
        expect(served[0]!.log).toEqual(["made", "eof", "lost null"]);
        expect(nativeOpen()).toBe(1);
        expect(tableEntries(reactor)).toBe(1);
        expect(externalRefs(loop)).toBe(refsBefore);
        listener.close();
      },
      { poller: new SelectorPoller() },
    );
    await expectNoOpenDescriptors();
  });

  it("{ tls: false } is a plain connection on the selector's raw sockets; without a host it connects to localhost", async () => {
    await run(
      function* () {
        const { loop, driver } = selector();
        // No host: every interface, IPv6 with IPv4 mapped in, wherever "localhost" resolves.
        const listener = yield* driver.listen(loop, () => new Recorder(), { port: 0 });
        const port = (listener.address() as { port: number }).port;
        const [transport] = yield* createConnection(() => new Recorder(), "127.0.0.1", port, { tls: false });
        expect(transport).toBeInstanceOf(SelectorTransport);
        transport.abort();
        const local = yield* driver.connect(loop, () => new Recorder(), { port });
        expect(local).toBeInstanceOf(SelectorTransport);
        expect((local.getExtraInfo("peername") as { port: number }).port).toBe(port);
        local.abort();
        listener.close();
      },
      { poller: new SelectorPoller() },
    );
    await expectNoOpenDescriptors();
  });

  it("startTls on a selector transport fails with a TypeError saying to connect with { tls } instead; one carried by Node's driver goes to Node's startTls", async () => {
    await run(
      function* () {
        const { loop, driver } = selector();
        const listener = yield* driver.listen(loop, () => new Recorder(), { host: "127.0.0.1", port: 0 });
        const protocol = new Recorder();
        const transport = yield* driver.connect(loop, () => protocol, { host: "127.0.0.1", port: (listener.address() as { port: number }).port });
        const error = yield* failure(driver.startTls(loop, transport, protocol, {}));
        expect(error).toBeInstanceOf(TypeError);
        expect(error.message).toMatch(/^startTls: a selector transport cannot be upgraded.*connect with \{ tls \}/);
        expect(transport.isClosing()).toBe(false);
        transport.abort();
        // A connection carried by Node's driver is Node's to upgrade: the handshake starts.
        const carried = new Recorder();
        const nodeTransport = yield* nodeNetDriver.connect(loop, () => carried, { host: "127.0.0.1", port: (listener.address() as { port: number }).port });
        const upgrading = driver.startTls(loop, nodeTransport, carried, {});
        expect(upgrading.done()).toBe(false);
        upgrading.cancel();
        expect(yield* failure(upgrading)).toBeInstanceOf(CancelledError);
        listener.close();
      },
      { poller: new SelectorPoller() },
    );
    await expectNoOpenDescriptors();
  });
});

import { closeSync, existsSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { constants, networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { run, type ErrorContext, type EventLoop, type ServerHandle } from "@loop/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SelectorNetDriver, SelectorPoller, SelectorTransport } from "../src/index.js";
import { ERROR, READABLE } from "../src/native.js";
import type { FdTarget, Reactor } from "../src/reactor.js";
import { expectNoOpenDescriptors, nativeOpen } from "./helpers.js";
import { available } from "./native-available.js";
import { Recorder, externalRefs, failure, selector, tableEntries } from "./net-driver-kit.js";

// Local file checks, done between loop turns: each is one system call on a temporary directory.
function isThere(path: string): boolean {
  return existsSync(path);
}

function plainFile(path: string): void {
  closeSync(openSync(path, "w"));
}

function removeFile(path: string): void {
  rmSync(path);
}

function portOf(handle: ServerHandle): number {
  return (handle.address() as { port: number }).port;
}

/** A factory that keeps every protocol it makes. */
function recorders(): { made: Recorder[]; factory: () => Recorder } {
  const made: Recorder[] = [];
  return {
    made,
    factory: () => {
      const r = new Recorder();
      made.push(r);
      return r;
    },
  };
}

/** Captures the loop's exception handler calls. */
function exceptionsOf(loop: EventLoop): ErrorContext[] {
  const seen: ErrorContext[] = [];
  loop.setExceptionHandler((_loop, context) => {
    seen.push(context);
  });
  return seen;
}

/**
 * A driver on the real reactor whose addon answers `listen` as `listen` says (to play a
 * host without IPv6) and records each call of `listen` and `reading`.
 */
function fakeAddon(
  poller: SelectorPoller,
  reactor: Reactor,
  listen: (real: Reactor["native"]["listen"], ...args: Parameters<Reactor["native"]["listen"]>) => number,
): { driver: SelectorNetDriver; listens: unknown[][]; readings: unknown[][] } {
  const real = reactor.native;
  const listens: unknown[][] = [];
  const readings: unknown[][] = [];
  const native = Object.create(real, {
    listen: {
      value: (...args: Parameters<Reactor["native"]["listen"]>) => {
        listens.push(args);
        return listen((...a) => real.listen(...a), ...args);
      },
    },
    reading: {
      value: (fd: number, on: boolean) => {
        readings.push([fd, on]);
        real.reading(fd, on);
      },
    },
  }) as Reactor["native"];
  const fake = Object.create(reactor, { native: { value: native } }) as Reactor;
  return { driver: new SelectorNetDriver(poller, fake), listens, readings };
}

/** Whether this host has IPv6 on its loopback interface (::1). */
const ipv6 = Object.values(networkInterfaces()).some((addresses) => addresses?.some((a) => a.internal && a.family === "IPv6"));

describe.skipIf(!available)("the selector's listen (asyncio's loop.create_server)", () => {
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "loop-selector-listen-"));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(!ipv6)("without a host it listens on every interface at the given port: '::' with IPv4 mapped in", async () => {
    await run(
      function* () {
        const { loop, driver } = selector();
        const probe = yield* driver.listen(loop, () => new Recorder(), { host: "127.0.0.1", port: 0 });
        const port = portOf(probe);
        probe.close();
        const { made, factory } = recorders();
        const listener = yield* driver.listen(loop, factory, { port });
        expect(listener.address()).toEqual({ address: "::", family: "IPv6", port });
        for (const host of ["127.0.0.1", "::1"]) {
          const transport = yield* driver.connect(loop, () => new Recorder(), { host, port });
          transport.abort();
        }
        while (made.length < 2) yield;
        listener.close();
        listener.close(); // a second close does nothing
        expect(listener.address()).toBe(null);
      },
      { poller: new SelectorPoller() },
    );
    await expectNoOpenDescriptors();
  });

  it.skipIf(!ipv6)("an explicit '::' listens on IPv6 only, as asyncio sets IPV6_V6ONLY: an IPv4 connect is refused", async () => {
    await run(
      function* () {
        const { loop, driver } = selector();
        const listener = yield* driver.listen(loop, () => new Recorder(), { host: "::", port: 0 });
        const port = portOf(listener);
        const refused = yield* failure(driver.connect(loop, () => new Recorder(), { host: "127.0.0.1", port }));
        expect(refused).toMatchObject({ code: "ECONNREFUSED" });
        listener.close();
      },
      { poller: new SelectorPoller() },
    );
    await expectNoOpenDescriptors();
  });

  it("a port in use fails with Node's EADDRINUSE error from listen, and gives back its loop ref; a listener closed twice gives back its own once", async () => {
    await run(
      function* () {
        const { loop, driver, reactor } = selector();
        // Another listener holds a loop ref throughout: each gives back its own only, once.
        const keeper = yield* driver.listen(loop, () => new Recorder(), { host: "127.0.0.1", port: 0 });
        const first = yield* driver.listen(loop, () => new Recorder(), { host: "127.0.0.1", port: 0 });
        const port = portOf(first);
        const refsBefore = externalRefs(loop);
        const error = yield* failure(driver.listen(loop, () => new Recorder(), { host: "127.0.0.1", port }));
        expect(error.message).toBe(`listen EADDRINUSE 127.0.0.1:${port}`);
        expect({ ...error }).toEqual({ code: "EADDRINUSE", errno: -constants.errno.EADDRINUSE, syscall: "listen", address: "127.0.0.1", port });
        expect(externalRefs(loop)).toBe(refsBefore);
        expect(tableEntries(reactor)).toBe(2);
        first.close();
        first.close();
        expect(externalRefs(loop)).toBe(refsBefore - 1);
        keeper.close();
      },
      { poller: new SelectorPoller() },
    );
    await expectNoOpenDescriptors();
  });

  it("a host that does not resolve fails with the resolver's error, given the host and port it was for", async () => {
    await run(
      function* () {
        const { loop, driver } = selector();
        const refsBefore = externalRefs(loop);
        const error = yield* failure(driver.listen(loop, () => new Recorder(), { host: "no-such-host.invalid", port: 8080 }));
        expect(error).toMatchObject({ syscall: "getaddrinfo", address: "no-such-host.invalid", port: 8080 });
        expect(externalRefs(loop)).toBe(refsBefore);
      },
      { poller: new SelectorPoller() },
    );
  });

  it("a listen cancelled before it opened leaves nothing open and reports nothing, whether its host was an address, a name or one that does not resolve", async () => {
    await run(
      function* () {
        const { loop, driver } = selector();
        const seen = exceptionsOf(loop);
        const refsBefore = externalRefs(loop);
        for (const host of ["127.0.0.1", "localhost", "no-such-host.invalid", undefined]) {
          const future = driver.listen(loop, () => new Recorder(), { host, port: 0 });
          future.cancel();
          // A name's lookup holds a loop ref until it answers, a turn before the listener hears it.
          while (externalRefs(loop) > refsBefore) yield;
          for (let i = 0; i < 3; i++) yield;
          expect(nativeOpen()).toBe(0);
        }
        expect(seen).toEqual([]);
      },
      { poller: new SelectorPoller() },
    );
  });

  it("a Unix listener names its path, and on close removes its socket file but never another file at that path", async () => {
    await run(
      function* () {
        const { loop, driver } = selector();
        const path = join(dir, "server.sock");
        const listener = yield* driver.listen(loop, () => new Recorder(), { path });
        expect(listener.address()).toBe(path);
        const transport = yield* driver.connect(loop, () => new Recorder(), { path });
        transport.abort();
        listener.close();
        expect(isThere(path)).toBe(false);
        // A plain file where the socket would go: the bind fails and the file stays.
        const plain = join(dir, "plain");
        plainFile(plain);
        const error = yield* failure(driver.listen(loop, () => new Recorder(), { path: plain }));
        expect(error).toMatchObject({ code: "EADDRINUSE", syscall: "listen", path: plain });
        expect(error.message).toBe(`listen EADDRINUSE ${plain}`);
        expect(isThere(plain)).toBe(true);
        // A path another server listens on: the failed listen leaves that server's socket file.
        const taken = yield* driver.listen(loop, () => new Recorder(), { path });
        expect(yield* failure(driver.listen(loop, () => new Recorder(), { path }))).toMatchObject({ code: "EADDRINUSE", path });
        expect(isThere(path)).toBe(true);
        taken.close();
        expect(taken.address()).toBe(null);
        // The socket file replaced by another file while serving: close leaves that file alone.
        const replaced = yield* driver.listen(loop, () => new Recorder(), { path });
        removeFile(path);
        plainFile(path);
        replaced.close();
        expect(isThere(path)).toBe(true);
      },
      { poller: new SelectorPoller() },
    );
    await expectNoOpenDescriptors();
  });

  it("an accepted Unix connection names neither end (the client's socket is unnamed)", async () => {
    await run(
      function* () {
        const { loop, driver } = selector();
        const path = join(dir, "names.sock");
        const { made, factory } = recorders();
        const listener = yield* driver.listen(loop, factory, { path });
        const transport = yield* driver.connect(loop, () => new Recorder(), { path });
        while (made.length === 0) yield;
        const accepted = made[0]!.transport!;
        expect([accepted.getExtraInfo("peername"), accepted.getExtraInfo("sockname")]).toEqual(["", ""]);
        accepted.abort();
        expect(accepted.getExtraInfo("peername")).toBe("");
        transport.abort();
        listener.close();
      },
      { poller: new SelectorPoller() },
    );
    await expectNoOpenDescriptors();
  });

  it("connections accepted in the batch that closes the listener are closed gracefully, not served", async () => {
    await run(
      function* () {
        const { loop, driver, reactor } = selector();
        let listener: ServerHandle | null = null;
        const { made, factory } = recorders();
        listener = yield* driver.listen(
          loop,
          () => {
            listener!.close(); // the first connection closes the listener
            return factory();
          },
          { host: "127.0.0.1", port: 0 },
        );
        const port = portOf(listener);
        // Both connect in one turn, so both wait in the accept queue for the same batch.
        const clients = [new Recorder(), new Recorder()];
        const futures = clients.map((client) => driver.connect(loop, () => client, { host: "127.0.0.1", port }));
        for (const future of futures) yield* future;
        while (!clients.some((client) => client.log.at(-1)?.startsWith("lost") === true)) yield;
        expect(made.length).toBe(1);
        expect(clients.map((client) => client.log.join(",")).sort()).toEqual(["made", "made,eof,lost null"]);
        for (const client of clients) client.transport!.abort();
        made[0]!.transport!.abort();
        for (let i = 0; i < 3; i++) yield;
        expect(tableEntries(reactor)).toBe(0);
      },
      { poller: new SelectorPoller() },
    );
    await expectNoOpenDescriptors();
  });

  it("a protocol factory that throws for an accepted connection is reported to the loop, the connection closed, and serving goes on", async () => {
    await run(
      function* () {
        const { loop, driver } = selector();
        const seen = exceptionsOf(loop);
        const boom = new Error("factory failed");
        let calls = 0;
        const listener = yield* driver.listen(
          loop,
          () => {
            if (calls++ === 0) throw boom;
            return new Recorder();
          },
          { host: "127.0.0.1", port: 0 },
        );
        const port = portOf(listener);
        const first = new Recorder();
        yield* driver.connect(loop, () => first, { host: "127.0.0.1", port });
        while (first.log.at(-1)?.startsWith("lost") !== true) yield;
        expect(first.log).toEqual(["made", "eof", "lost null"]);
        expect(seen).toEqual([{ message: "Error in the protocol factory or connectionMade of an accepted connection", exception: boom }]);
        const second = yield* driver.connect(loop, () => new Recorder(), { host: "127.0.0.1", port });
        while (calls < 2) yield;
        expect(listener.transports.size).toBe(1);
        second.abort();
        listener.close();
      },
      { poller: new SelectorPoller() },
    );
    await expectNoOpenDescriptors();
  });

  it("transports is a live view of the open connections the listener accepted", async () => {
    await run(
      function* () {
        const { loop, driver } = selector();
        const { made, factory } = recorders();
        const listener = yield* driver.listen(loop, factory, { host: "127.0.0.1", port: 0 });
        const other = yield* driver.listen(loop, () => new Recorder(), { host: "127.0.0.1", port: 0 });
        const port = portOf(listener);
        const clients = [yield* driver.connect(loop, () => new Recorder(), { host: "127.0.0.1", port }), yield* driver.connect(loop, () => new Recorder(), { host: "127.0.0.1", port })];
        yield* driver.connect(loop, () => new Recorder(), { host: "127.0.0.1", port: portOf(other) });
        while (made.length < 2) yield;
        const accepted = made.map((r) => r.transport as SelectorTransport);
        expect(accepted[0]!.getExtraInfo("peername")).toMatchObject({ address: "127.0.0.1", family: "IPv4" });
        const set = listener.transports;
        expect(set.size).toBe(2);
        expect([...set.values()]).toEqual(accepted);
        expect([...set.keys()]).toEqual(accepted);
        expect([...set]).toEqual(accepted);
        expect([...set.entries()]).toEqual(accepted.map((t) => [t, t]));
        const visited: unknown[] = [];
        set.forEach(function (this: unknown, value, key, whole) {
          visited.push([value, key, whole, this]);
        }, "self");
        expect(visited).toEqual(accepted.map((t) => [t, t, set, "self"]));
        expect(set.has(accepted[0]!)).toBe(true);
        expect(set.has(clients[0]!)).toBe(false);
        accepted[0]!.abort();
        expect(set.size).toBe(1);
        expect(set.has(accepted[0]!)).toBe(false);
        expect([...set]).toEqual([accepted[1]]);
        for (const t of [...clients, accepted[1]!]) t.abort();
        for (const r of [...other.transports]) r.abort();
        listener.close();
        other.close();
      },
      { poller: new SelectorPoller() },
    );
    await expectNoOpenDescriptors();
  });

  it("out of descriptors on accept (the addon's EMFILE record), the listener reports it, rests a second, then accepts again", async () => {
    await run(
      function* () {
        const { loop, poller, reactor } = selector();
        const seen = exceptionsOf(loop);
        const { driver, readings } = fakeAddon(poller, reactor, (listen, ...args) => listen(...args));
        const { made, factory } = recorders();
        const listener = yield* driver.listen(loop, factory, { host: "127.0.0.1", port: 0 });
        const fd = (reactor.targets as (FdTarget | undefined)[]).findIndex((target) => target === (listener as unknown as FdTarget));
        expect(fd).toBeGreaterThanOrEqual(0);
        expect(readings).toEqual([[fd, true]]);
        // What the addon does on EMFILE: stop reading the listener and send the record.
        reactor.native.reading(fd, false);
        const retries: [number, () => void][] = [];
        const callLater = loop.callLater.bind(loop);
        loop.callLater = ((delay: number, callback: () => void) => {
          retries.push([delay, callback]);
          return callLater(60_000, () => {});
        }) as typeof loop.callLater;
        const target = listener as unknown as FdTarget;
        target.handleEvent(ERROR, constants.errno.EMFILE, 3, null);
        expect(seen).toHaveLength(1);
        expect(seen[0]!.message).toBe("socket.accept() out of system resource");
        expect(seen[0]!.exception).toMatchObject({ code: "EMFILE", errno: -constants.errno.EMFILE, syscall: "accept", address: "127.0.0.1", port: 0 });
        expect(retries.map(([delay]) => delay)).toEqual([1000]);
        // Other records of a listener are not about accepting: nothing is reported.
        target.handleEvent(ERROR, constants.errno.ECONNRESET, 1, null);
        target.handleEvent(READABLE, constants.errno.EMFILE, 3, null);
        expect(seen).toHaveLength(1);
        expect(retries).toHaveLength(1);
        // Paused: a client connects (the kernel queues it) but is not accepted yet.
        const client = yield* driver.connect(loop, () => new Recorder(), { host: "127.0.0.1", port: portOf(listener) });
        for (let i = 0; i < 5; i++) yield;
        expect(made).toEqual([]);
        retries[0]![1]();
        expect(readings.at(-1)).toEqual([fd, true]);
        while (made.length === 0) yield;
        // A retry after the listener closed touches nothing.
        listener.close();
        const count = readings.length;
        retries[0]![1]();
        expect(readings.length).toBe(count);
        loop.callLater = callLater;
        client.abort();
        made[0]!.transport!.abort();
      },
      { poller: new SelectorPoller() },
    );
    await expectNoOpenDescriptors();
  });

  it("where the host has no IPv6 (EAFNOSUPPORT), every interface means 0.0.0.0, with the same backlog and reusePort", async () => {
    await run(
      function* () {
        const { loop, poller, reactor } = selector();
        const { driver, listens } = fakeAddon(poller, reactor, (listen, family, ...rest) => (family === 6 ? -constants.errno.EAFNOSUPPORT : listen(family, ...rest)));
        const listener = yield* driver.listen(loop, () => new Recorder(), { port: 0, backlog: 7, reusePort: true });
        expect(listens).toEqual([
          [6, "::", 0, 7, true, true],
          [4, "0.0.0.0", 0, 7, true, false],
        ]);
        expect(listener.address()).toMatchObject({ address: "0.0.0.0", family: "IPv4" });
        listener.close();
        listens.length = 0;
        const plain = yield* driver.listen(loop, () => new Recorder(), { port: 0 });
        expect(listens).toEqual([
          [6, "::", 0, 511, false, true],
          [4, "0.0.0.0", 0, 511, false, false],
        ]);
        plain.close();
        // An explicit IPv6 address is not replaced, and other errors are not retried.
        listens.length = 0;
        const refused = yield* failure(driver.listen(loop, () => new Recorder(), { host: "::1", port: 0 }));
        expect(refused).toMatchObject({ code: "EAFNOSUPPORT", syscall: "listen" });
        expect(listens).toHaveLength(1);
      },
      { poller: new SelectorPoller() },
    );
    await run(
      function* () {
        const { loop, poller, reactor } = selector();
        const { driver, listens } = fakeAddon(poller, reactor, (listen, family, ...rest) => (family === 6 ? -constants.errno.EACCES : listen(family, ...rest)));
        const refused = yield* failure(driver.listen(loop, () => new Recorder(), { port: 0 }));
        expect(refused).toMatchObject({ code: "EACCES", syscall: "listen" });
        expect(listens).toHaveLength(1);
      },
      { poller: new SelectorPoller() },
    );
    await expectNoOpenDescriptors();
  });
});

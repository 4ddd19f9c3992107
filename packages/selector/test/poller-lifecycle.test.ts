import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { createConnection, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EventLoop, ensureFuture, type LoopDriver, type Protocol } from "@loop/core";
import { startServer } from "@loop/net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { SelectorPoller } from "../src/index.js";
import { CTL_SLAB, native } from "../src/native.js";
import { spawnUnsupportedReason } from "../src/processes.js";
import { available } from "./native-available.js";

/**
 * The poller's side of the thread's reactor, seen through its internals: what a wait,
 * a wake-up and a close leave behind there is the behaviour under test.
 */
interface ReactorView {
  batches: number;
  _clients: unknown[];
  _armedDeadline: number;
  native: { stats(): number[] };
}
interface PollerView {
  _reactor: ReactorView;
  _deadline: number;
  _queued: number;
  _maybeResume(now: number): void;
}
const view = (poller: SelectorPoller): PollerView => poller as unknown as PollerView;

/** A poller attached to a driver that counts resumes; the driver's loop never runs. */
function harness(poller = new SelectorPoller()): { poller: SelectorPoller; loop: EventLoop; resumes: () => number; next: () => Promise<void> } {
  let count = 0;
  let waiting: (() => void) | null = null;
  const loop = new EventLoop();
  const driver: LoopDriver = {
    loop,
    resume() {
      count++;
      const w = waiting;
      waiting = null;
      w?.();
    },
    externalPending: () => 0,
  };
  poller.attach(driver);
  return { poller, loop, resumes: () => count, next: () => new Promise<void>((resolve) => (waiting = resolve)) };
}

/** Host macrotask turns (setImmediate): enough for any batch the selector was asked for. */
async function hostTurns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** `promise`, which must settle within a bounded number of host turns (a lost resume fails fast). */
async function within<T>(promise: Promise<T>): Promise<T> {
  const late = Symbol("late");
  const result = await Promise.race([promise, hostTurns(100).then(() => late)]);
  if (result === late) throw new Error("not settled within 100 host loop iterations");
  return result as T;
}

/** [descriptors open, poll handle ref'd, loop timer armed, idle handle active, rebuilds]. */
function stats(): number[] {
  return native!.stats();
}

describe.skipIf(!available)("SelectorPoller: waits, wake-ups and close on the thread's reactor", () => {
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "loop-selector-"));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("wakeup() before attach, and wait()/wakeup() after close(), ask the selector for no batch", async () => {
    const poller = new SelectorPoller();
    const reactor = view(poller)._reactor;
    await hostTurns(3);
    const before = reactor.batches;
    poller.wakeup();
    await hostTurns(5);
    expect(reactor.batches).toBe(before);

    const h = harness(poller);
    const resumed = h.next();
    poller.wait(0);
    await within(resumed);
    await hostTurns(3);
    // One wait(0): exactly one batch, counted up.
    expect(reactor.batches).toBe(before + 1);
    poller.close();
    poller.wakeup();
    poller.wait(0);
    poller.wait(5);
    await hostTurns(5);
    expect(reactor.batches).toBe(before + 1);
    expect(stats()[2]).toBe(0); // no loop timer either
    expect(h.resumes()).toBe(1);
    expect(reactor._clients).toEqual([]); // it was the thread's only loop
  });

  it("close() takes the poller out of the thread's reactor, whichever joined first", () => {
    const first = harness();
    const second = harness();
    const clients = view(first.poller)._reactor._clients;
    expect(clients).toContain(first.poller);
    expect(clients).toContain(second.poller);
    first.poller.close();
    expect(clients).not.toContain(first.poller);
    expect(clients).toContain(second.poller);
    second.poller.close();
    expect(clients).not.toContain(second.poller);
  });

  it("one loop's wake-ups do not resume another loop of the same thread, neither before its first wait nor while it waits", async () => {
    const quiet = harness();
    const busy = harness();
    let resumed = busy.next();
    busy.poller.wait(0);
    await within(resumed);
    await hostTurns(3);
    expect(quiet.resumes()).toBe(0); // attached, never waited
    quiet.poller.wait(null);
    resumed = busy.next();
    busy.poller.wakeup();
    await within(resumed);
    resumed = busy.next();
    busy.poller.wait(0);
    await within(resumed);
    await hostTurns(3);
    expect(quiet.resumes()).toBe(0);
    expect(busy.resumes()).toBe(3);
    quiet.poller.close();
    busy.poller.close();
  });

  it("the loop timer is armed for the earliest deadline of the thread's loops, whichever asked last", () => {
    const soon = harness();
    const late = harness();
    soon.poller.wait(30);
    late.poller.wait(60_000);
    const reactor = view(soon.poller)._reactor;
    expect(reactor._armedDeadline).toBe(view(soon.poller)._deadline);
    expect(stats()[2]).toBe(1);
    soon.poller.close();
    expect(reactor._armedDeadline).toBe(view(late.poller)._deadline);
    late.poller.close();
    expect(stats()[2]).toBe(0);
  });

  it("a timed wait is over when the clock reaches its deadline, not later", () => {
    const h = harness();
    h.poller.wait(20);
    const deadline = view(h.poller)._deadline;
    view(h.poller)._maybeResume(deadline - 1);
    expect(h.resumes()).toBe(0);
    view(h.poller)._maybeResume(deadline);
    expect(h.resumes()).toBe(1);
    h.poller.close();
  });

  it("wait(0) asks for a batch in this host iteration without arming the loop timer", async () => {
    const h = harness();
    const resumed = h.next();
    h.poller.wait(0);
    expect(stats()[2]).toBe(0);
    await within(resumed);
    h.poller.wait(-1);
    expect(stats()[2]).toBe(0);
    h.poller.close();
  });

  it("processes: the same native driver on every access where the system can spawn", () => {
    const poller = new SelectorPoller();
    try {
      const drivers = poller.processes;
      if (spawnUnsupportedReason(native!) === null) {
        expect(drivers).toBeDefined();
        expect(poller.processes).toBe(drivers);
      } else {
        expect(drivers).toBeUndefined();
      }
    } finally {
      poller.close();
    }
  });

  it("records of one batch reach the loop through one loop callback", async () => {
    const fds = [fifo(dir), fifo(dir)];
    const h = harness();
    const callSoon = vi.spyOn(h.loop, "callSoon");
    try {
      for (const fd of fds) {
        writeSync(fd, "x");
        h.poller.addReader(fd, () => {});
      }
      const resumed = h.next();
      h.poller.wait(0);
      await within(resumed);
      expect(view(h.poller)._queued).toBeGreaterThanOrEqual(2);
      expect(callSoon).toHaveBeenCalledTimes(1);
    } finally {
      h.poller.close();
      for (const fd of fds) closeSync(fd);
    }
  });

  it("a reader added before the loop first runs: readiness waits for the loop, and other loops keep being resumed meanwhile", async () => {
    const fd = fifo(dir);
    const early = new SelectorPoller();
    const other = harness();
    try {
      writeSync(fd, "x");
      const calls: string[] = [];
      early.addReader(fd, () => {
        calls.push("read");
        early.removeReader(fd);
      });
      const resumed = other.next();
      other.poller.wait(0);
      await within(resumed);
      expect(calls).toEqual([]);
      const loop = new EventLoop({ poller: early });
      try {
        await loop.runUntilComplete(
          (function* () {
            for (let i = 0; i < 50 && calls.length === 0; i++) yield* ensureFuture(hostTurns(1));
          })(),
        );
      } finally {
        loop.close();
      }
      expect(calls).toEqual(["read"]);
    } finally {
      other.poller.close();
      early.close();
      closeSync(fd);
    }
  });

  it("a connection accepted while the loop is stopped is closed in an orderly way when the loop closes, not leaked", async () => {
    const poller = new SelectorPoller();
    const loop = new EventLoop({ poller });
    const openBefore = stats()[0]!;
    const server = await loop.runUntilComplete(startServer(function* () {}, "127.0.0.1", 0));
    const { port } = server.address() as { port: number };
    const client: Socket = createConnection(port, "127.0.0.1");
    const outcome = new Promise<string>((resolve) => {
      client.once("end", () => resolve("end"));
      client.once("error", (error: NodeJS.ErrnoException) => resolve(String(error.code)));
    });
    client.resume();
    await once(client, "connect");
    // The selector accepts it in a batch of its own; the loop is not running to take it.
    for (let i = 0; i < 50 && view(poller)._queued === 0; i++) await hostTurns(1);
    expect(view(poller)._queued).toBe(1);
    loop.close();
    expect(await Promise.race([outcome, hostTurns(50).then(() => "still open")])).toBe("end");
    client.destroy();
    expect(stats()[0]).toBe(openBefore);
  });

  it("close() closes the accepted descriptors still queued, not one a record of an earlier batch named", async (context) => {
    const h = harness();
    const poller = h.poller;
    const internals = poller as unknown as { _queued: number; _numbers: number[]; _dispatch(): void; _reactor: { targets: ({ abort?(): void } | undefined)[] } };
    const path = join(dir, "stale.sock");
    const quiet: Protocol = { connectionMade() {}, connectionLost() {}, pauseWriting() {}, resumeWriting() {}, dataReceived() {}, eofReceived() {} };
    const listening = poller.net!.listen(h.loop, () => quiet, { path });
    expect(listening.done()).toBe(true);
    const client = createConnection(path);
    client.on("error", () => {});
    const fifoFd = fifo(dir);
    const other = new SelectorPoller();
    let reusedFd = -1;
    try {
      // Batch 1: the ACCEPT record, delivered by hand (this loop never runs): a transport takes it.
      for (let i = 0; i < 50 && internals._queued === 0; i++) await hostTurns(1);
      expect(internals._queued).toBe(1);
      const accepted = internals._numbers[1]!;
      internals._dispatch();
      expect(internals._reactor.targets[accepted]?.constructor.name).toBe("SelectorTransport");
      // Batch 2: one READABLE record, delivered by hand too; the record arrays have swapped twice.
      writeSync(fifoFd, "x");
      poller.addReader(fifoFd, () => {});
      for (let i = 0; i < 50 && internals._queued === 0; i++) await hostTurns(1);
      poller.removeReader(fifoFd);
      internals._dispatch();
      expect(internals._queued).toBe(0);
      // The accepted connection ends; its number goes to a descriptor another loop watches.
      internals._reactor.targets[accepted]!.abort!();
      reusedFd = fifo(dir);
      // The kernel hands out the lowest free number: that one, unless another thread took it first.
      if (reusedFd !== accepted) return context.skip("another thread took the descriptor number first");
      other.addReader(reusedFd, () => {});
      const open = stats()[0]!;
      poller.close();
      // The listener was this loop's to close; the other loop's watch stays.
      expect(stats()[0]).toBe(open - 1);
      expect(other.removeReader(reusedFd)).toBe(true);
      expect(stats()[0]).toBe(open - 2);
    } finally {
      poller.close();
      other.close();
      client.destroy();
      closeSync(fifoFd);
      if (reusedFd >= 0) closeSync(reusedFd);
    }
  });

  it("close() closes no descriptor a queued record other than an ACCEPT happens to name", async (context) => {
    const h = harness();
    const poller = h.poller;
    const internals = poller as unknown as { _queued: number; _dispatch(): void; _reactor: { ctl: Int32Array } };
    const ctl = internals._reactor.ctl;
    const path = join(dir, "data.sock");
    const quiet: Protocol = { connectionMade() {}, connectionLost() {}, pauseWriting() {}, resumeWriting() {}, dataReceived() {}, eofReceived() {} };
    poller.net!.listen(h.loop, () => quiet, { path });
    const client = createConnection(path);
    client.on("error", () => {});
    const other = new SelectorPoller();
    const watched = fifo(dir);
    try {
      for (let i = 0; i < 50 && internals._queued === 0; i++) await hostTurns(1);
      internals._dispatch(); // the ACCEPT, by hand (this loop never runs): a transport takes it and reads
      other.addReader(watched, () => {});
      // Reads land at increasing slab offsets, and a DATA record's first number is its offset:
      // make the second one name the descriptor the other loop watches.
      const used = ctl[CTL_SLAB]!;
      if (used >= watched) return context.skip("the slab is already past the watched descriptor's number");
      client.write(Buffer.alloc(watched - used));
      for (let i = 0; i < 50 && ctl[CTL_SLAB] !== watched; i++) await hostTurns(1);
      client.write("more");
      for (let i = 0; i < 50 && ctl[CTL_SLAB] === watched; i++) await hostTurns(1);
      expect(ctl[CTL_SLAB]).toBe(watched + 4);
      expect(internals._queued).toBe(2);
      const open = stats()[0]!;
      poller.close();
      // This loop's listener and connection are gone; the other loop's watch is not.
      expect(stats()[0]).toBe(open - 2);
      expect(other.removeReader(watched)).toBe(true);
      expect(stats()[0]).toBe(open - 3);
    } finally {
      poller.close();
      other.close();
      client.destroy();
      closeSync(watched);
    }
  });
});

/** A FIFO opened read-write and non-blocking: a pipe whose both ends are one descriptor. */
function fifo(dir: string): number {
  const path = join(dir, `fifo-${Math.random().toString(36).slice(2)}`);
  execFileSync("mkfifo", [path]);
  const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  rmSync(path);
  return fd;
}

import { once } from "node:events";
import { createConnection, createServer, type Socket } from "node:net";
import { EventLoop, ensureFuture, getRunningLoop, run, type LoopDriver } from "@loop/core";
import { openConnection, startServer } from "@loop/net";
import { describe, expect, it } from "vitest";
import { SelectorPoller } from "../src/index.js";
import { CTL_FLUSHES, CTL_QUEUED, CTL_SLAB, native, type NativeSelector } from "../src/native.js";
import { available } from "./native-available.js";

/** The thread's reactor, through the internals under test. */
interface ReactorView {
  native: NativeSelector;
  targets: unknown[];
  ctl: Int32Array;
  _inBatch: boolean;
  stage(fd: number, data: Uint8Array): boolean;
}
const reactorOf = (poller: SelectorPoller): ReactorView => (poller as unknown as { _reactor: ReactorView })._reactor;

/** A descriptor number the addon does not know: staged bytes for it are dropped when taken. */
const NOBODY = 999_999;

/** Host macrotask turns (setImmediate): enough for any batch or flush the selector was asked for. */
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

/** Counts the reactor's calls into the addon by name while `body` runs. */
async function countingCalls(reactor: ReactorView, body: (calls: Map<string, number>) => Promise<void> | void): Promise<void> {
  const real = reactor.native;
  const calls = new Map<string, number>();
  const counted = (name: "arm" | "wake" | "flushSoon") => ({
    value: (...args: unknown[]) => {
      calls.set(name, (calls.get(name) ?? 0) + 1);
      return (real[name] as (...a: unknown[]) => unknown)(...args);
    },
  });
  // The addon's functions are not enumerable: the stand-in inherits them and overrides three.
  reactor.native = Object.create(real, { arm: counted("arm"), wake: counted("wake"), flushSoon: counted("flushSoon") }) as NativeSelector;
  try {
    await body(calls);
  } finally {
    reactor.native = real;
  }
}

/** A poller attached to a driver that counts resumes and can act inside them; its loop never runs. */
function harness(onResume: () => void = () => {}): { poller: SelectorPoller; resumes: () => number; next: () => Promise<void> } {
  const poller = new SelectorPoller();
  let count = 0;
  let waiting: (() => void) | null = null;
  const driver: LoopDriver = {
    loop: new EventLoop(),
    resume() {
      count++;
      onResume();
      const w = waiting;
      waiting = null;
      w?.();
    },
    externalPending: () => 0,
  };
  poller.attach(driver);
  return { poller, resumes: () => count, next: () => new Promise<void>((resolve) => (waiting = resolve)) };
}

describe.skipIf(!available)("the thread's reactor: batches, the staging queue, the loop timer", () => {
  it("a new reactor has no descriptor taken", () => {
    const poller = new SelectorPoller();
    try {
      expect(reactorOf(poller).targets.filter((target) => target !== undefined)).toEqual([]);
    } finally {
      poller.close();
    }
  });

  it("the staging queue takes writes of up to 64 KiB, 1 MiB in all, 16384 of them; beyond, the caller writes through the addon", async () => {
    const poller = new SelectorPoller();
    const reactor = reactorOf(poller);
    try {
      await hostTurns(2);
      expect(reactor.ctl[CTL_QUEUED]).toBe(0);
      const chunk = new Uint8Array(64 * 1024);
      expect(reactor.stage(NOBODY, new Uint8Array(64 * 1024 + 1))).toBe(false);
      for (let i = 0; i < 16; i++) expect(reactor.stage(NOBODY, chunk)).toBe(true);
      expect(reactor.stage(NOBODY, new Uint8Array(1))).toBe(false);
      expect(reactor.ctl[CTL_QUEUED]).toBe(16);
      await hostTurns(3);
      expect(reactor.ctl[CTL_QUEUED]).toBe(0);

      const byte = new Uint8Array(1);
      let taken = 0;
      while (taken < 20_000 && reactor.stage(NOBODY, byte)) taken++;
      expect(taken).toBe(16384);
      await hostTurns(3);
      expect(reactor.ctl[CTL_QUEUED]).toBe(0);
    } finally {
      poller.close();
    }
  });

  it("writes staged outside a batch are sent in the same host iteration, asking the addon once; inside a batch, the batch's own flush sends them", async () => {
    const poller = new SelectorPoller();
    const reactor = reactorOf(poller);
    try {
      await hostTurns(2);
      await countingCalls(reactor, async (calls) => {
        const flushes = reactor.ctl[CTL_FLUSHES]!;
        for (let i = 0; i < 3; i++) expect(reactor.stage(NOBODY, new Uint8Array(10))).toBe(true);
        expect(calls.get("flushSoon")).toBe(1);
        // One host turn: the check phase of this very iteration flushed them.
        await hostTurns(1);
        expect(reactor.ctl[CTL_QUEUED]).toBe(0);
        expect(reactor.ctl[CTL_FLUSHES]).toBe(flushes + 1);
      });
      await countingCalls(reactor, async (calls) => {
        await run(
          function* () {
            expect(reactor._inBatch).toBe(true);
            for (let i = 0; i < 3; i++) expect(reactor.stage(NOBODY, new Uint8Array(10))).toBe(true);
            yield;
          },
          { poller: new SelectorPoller() },
        );
        expect(calls.get("flushSoon")).toBeUndefined();
        await hostTurns(1);
        expect(reactor.ctl[CTL_QUEUED]).toBe(0);
      });
    } finally {
      poller.close();
    }
  });

  it("many wake-ups before a batch ask the addon for one; two loops resumed by one batch that then wait arm the loop timer once", async () => {
    const first = harness(() => first.poller.wait(60_000));
    const second = harness(() => second.poller.wait(30_000));
    const reactor = reactorOf(first.poller);
    try {
      await countingCalls(reactor, async (calls) => {
        first.poller.wait(null);
        second.poller.wait(null);
        expect(calls.get("arm")).toBeUndefined(); // nothing was armed: nothing to disarm
        const resumed = Promise.all([first.next(), second.next()]);
        for (let i = 0; i < 5; i++) {
          first.poller.wakeup();
          second.poller.wakeup();
        }
        expect(calls.get("wake")).toBe(1);
        await within(resumed);
        expect(calls.get("wake")).toBe(1);
        expect(calls.get("arm")).toBe(1);
      });
      // Another batch with the same earliest deadline leaves the armed timer alone.
      const third = harness();
      await countingCalls(reactor, async (calls) => {
        const resumed = third.next();
        third.poller.wait(0);
        await within(resumed);
        await hostTurns(2);
        expect(calls.get("arm")).toBeUndefined();
      });
      third.poller.close();
    } finally {
      first.poller.close();
      second.poller.close();
    }
    expect(native!.stats()[2]).toBe(0);
  });

  it("an accepted connection whose listener has no target any more is closed in an orderly way, not leaked", async () => {
    const outcome = await run(
      function* () {
        const server = yield* startServer(function* () {}, "127.0.0.1", 0);
        const { port } = server.address() as { port: number };
        const poller = new SelectorPoller();
        const reactor = reactorOf(poller);
        poller.close();
        // As when the listener was closed after the addon accepted in this batch: records
        // for a descriptor no target owns.
        const fd = reactor.targets.findIndex((target) => target?.constructor.name === "SelectorListener");
        expect(fd).toBeGreaterThanOrEqual(0);
        const listener = reactor.targets[fd];
        reactor.targets[fd] = undefined;
        const open = native!.stats()[0]!;
        const client = createConnection(port, "127.0.0.1");
        const result = new Promise<string>((resolve) => {
          client.once("end", () => resolve("end"));
          client.once("error", (error: NodeJS.ErrnoException) => resolve(String(error.code)));
        });
        client.resume();
        yield* ensureFuture(once(client, "connect"));
        const got = yield* ensureFuture(Promise.race([result, hostTurns(50).then(() => "still open")]));
        client.destroy();
        expect(native!.stats()[0]).toBe(open);
        reactor.targets[fd] = listener;
        server.close();
        yield* server.waitClosed();
        return got;
      },
      { poller: new SelectorPoller() },
    );
    expect(outcome).toBe("end");
  });

  it("records other than DATA carry no bytes: a backlog of megabytes is a count, not a place in the slab", async () => {
    const total = 16 * 1024 * 1024;
    let received = 0;
    let peer: Socket | null = null;
    const server = createServer((socket) => {
      peer = socket;
      socket.pause();
      socket.on("data", (chunk: Buffer) => (received += chunk.length));
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    // An error thrown inside a batch reaches no loop: it is the process's uncaught exception.
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown): void => void uncaught.push(error);
    process.on("uncaughtException", onUncaught);
    try {
      await run(
        function* () {
          const [, writer] = yield* openConnection("127.0.0.1", (server.address() as { port: number }).port);
          writer.write(Buffer.alloc(total, 7));
          // The peer does not read: the flush after this batch leaves a backlog and reports its size.
          for (let i = 0; i < 5; i++) yield* ensureFuture(hostTurns(1));
          expect(writer.transport.getWriteBufferSize()).toBeGreaterThan(1024 * 1024);
          peer!.resume();
          yield* writer.drain();
          writer.close();
          yield* writer.waitClosed();
        },
        { poller: new SelectorPoller() },
      );
      for (let i = 0; i < 500 && received < total; i++) await hostTurns(1);
      expect(received).toBe(total);
      expect(uncaught).toEqual([]);
    } finally {
      process.off("uncaughtException", onUncaught);
      server.close();
      await once(server, "close");
    }
  });

  it("a record for a descriptor no target owns is dropped: only an ACCEPT's number is a descriptor to close, never a DATA record's slab offset", async (context) => {
    let peer: Socket | null = null;
    const node = createServer((socket) => {
      peer = socket;
    });
    node.listen(0, "127.0.0.1");
    await once(node, "listening");
    let skipped = "";
    try {
      await run(
        function* () {
          const poller = getRunningLoop().poller as SelectorPoller;
          const reactor = reactorOf(poller);
          const listener = yield* startServer(function* () {}, "127.0.0.1", 0);
          const listenerFd = reactor.targets.findIndex((target) => target?.constructor.name === "SelectorListener");
          const [reader, writer] = yield* openConnection("127.0.0.1", (node.address() as { port: number }).port);
          const fd = writer.getExtraInfo<{ fileno(): number }>("socket")!.fileno();
          for (let i = 0; i < 50 && peer === null; i++) yield* ensureFuture(hostTurns(1));
          // Reads land at increasing slab offsets: make the next one land at the listener's number.
          const used = reactor.ctl[CTL_SLAB]!;
          if (used >= listenerFd) skipped = "the slab is already past the listener's number";
          else {
            peer!.write(Buffer.alloc(listenerFd - used));
            yield* reader.readexactly(listenerFd - used);
            expect(reactor.ctl[CTL_SLAB]).toBe(listenerFd);
            // As when the connection's transport was closed earlier in the batch.
            const transport = reactor.targets[fd];
            reactor.targets[fd] = undefined;
            const open = native!.stats()[0]!;
            peer!.write("more");
            for (let i = 0; i < 50 && reactor.ctl[CTL_SLAB] === listenerFd; i++) yield* ensureFuture(hostTurns(1));
            expect(reactor.ctl[CTL_SLAB]).toBe(listenerFd + 4);
            expect(native!.stats()[0]).toBe(open);
            expect(listener.address()).not.toBeNull();
            reactor.targets[fd] = transport;
          }
          writer.close();
          yield* writer.waitClosed();
          listener.close();
          yield* listener.waitClosed();
        },
        { poller: new SelectorPoller() },
      );
    } finally {
      node.close();
      (peer as Socket | null)?.destroy();
      await once(node, "close");
    }
    if (skipped !== "") context.skip(skipped);
  });
});

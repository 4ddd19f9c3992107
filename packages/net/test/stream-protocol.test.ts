/**
 * StreamReaderProtocol and StreamWriter between a transport and the stream pair, driven
 * directly with a transport under the test's hand: flow control (drain) across pause,
 * resume, cancel and loss; waitClosed; a server connection's handler task (its name, its
 * end closing the connection); a write-only stream (no reader); TLS (half-close refused)
 * and startTls swapping transports; the labels of the writer's waits.
 */
import { Buffer } from "node:buffer";
import { CancelledError, createTask, currentTask, getRunningLoop, type Awaitable, type Coroutine, type ErrorContext, type Future, type Transport } from "@loop/core";
import { runVirtual } from "@loop/testing";
import { describe, expect, it } from "vitest";
import { ConnectionResetError, StreamReader, StreamReaderProtocol, StreamWriter, type ClientConnected } from "../src/index.js";
import { FakeNetDriver, FakeTransport } from "./fake-net.js";

function* outcome(coro: Coroutine<unknown> | Awaitable<unknown>): Coroutine<unknown> {
  try {
    return yield* coro;
  } catch (error) {
    return error;
  }
}

/** A client-side pair over `transport`, as openConnection makes it. */
function clientPair(transport: FakeTransport, reader: StreamReader | null = new StreamReader()): { protocol: StreamReaderProtocol; writer: StreamWriter; reader: StreamReader | null } {
  const loop = getRunningLoop();
  const protocol = new StreamReaderProtocol(reader, null, loop);
  transport.setProtocol(protocol);
  protocol.connectionMade(transport);
  return { protocol, writer: new StreamWriter(transport, protocol, reader, loop), reader };
}

/** How many drain() waits the protocol keeps (its memory: a cancelled one must not stay). */
function drainWaiters(protocol: StreamReaderProtocol): number {
  return (protocol as unknown as { _rare: { drainWaiters: unknown[] | null } | null })._rare?.drainWaiters?.length ?? 0;
}

/** A stand-in for the Server a protocol reports to. */
function trackerLog(log: string[]) {
  return {
    connectionOpened: () => log.push("opened"),
    connectionClosed: (t: Transport) => log.push(`closed ${String(t.getExtraInfo("name"))}`),
    handlerStarted: () => log.push("handler started"),
    handlerFinished: () => log.push("handler finished"),
    transportReplaced: (old: Transport, replacement: Transport) => log.push(`replaced ${String(old.getExtraInfo("name"))} by ${String(replacement.getExtraInfo("name"))}`),
  };
}

describe("drain()", () => {
  it("returns without a wait while writing is not paused", async () => {
    await runVirtual(function* () {
      const { writer } = clientPair(new FakeTransport());
      expect(writer.drain().next().done).toBe(true);
    });
  });

  it("waits while paused, returns on resume, and after a resume returns at once again", async () => {
    await runVirtual(function* () {
      const { protocol, writer } = clientPair(new FakeTransport());
      protocol.pauseWriting();
      const task = createTask(writer.drain());
      yield;
      expect(task.done()).toBe(false);
      protocol.resumeWriting();
      yield* task;
      expect(writer.drain().next().done).toBe(true);
    });
  });

  it("a drain cancelled while paused leaves no waiter behind, and a resume in its turn does not trip over it", async () => {
    await runVirtual(function* () {
      const { protocol, writer } = clientPair(new FakeTransport());
      protocol.pauseWriting();
      const left = createTask(writer.drain());
      yield;
      left.cancel();
      expect(yield* outcome(left)).toBeInstanceOf(CancelledError);
      expect(drainWaiters(protocol)).toBe(0);
      const cancelled = createTask(writer.drain());
      const kept = createTask(writer.drain());
      yield;
      cancelled.cancel();
      protocol.resumeWriting();
      expect(yield* outcome(cancelled)).toBeInstanceOf(CancelledError);
      expect(yield* outcome(kept)).toBeUndefined();
    });
  });

  it("a drain woken by a resume does not take away the wait of a drain that started after the next pause", async () => {
    await runVirtual(function* () {
      const { protocol, writer } = clientPair(new FakeTransport());
      protocol.pauseWriting();
      const first = createTask(writer.drain());
      yield;
      protocol.resumeWriting();
      protocol.pauseWriting();
      // The second waits before the first has run its cleanup.
      const second = writer.drain();
      const wait = second.next().value as Future<void>;
      yield* first;
      protocol.resumeWriting();
      expect(wait.done()).toBe(true);
    });
  });

  it("once the connection is lost it throws: the error it was lost to, else ConnectionResetError; waiting drains get the error too", async () => {
    await runVirtual(function* () {
      const reset = new Error("ECONNRESET");
      const lost = clientPair(new FakeTransport());
      lost.protocol.pauseWriting();
      const waiting = createTask(lost.writer.drain());
      yield;
      lost.protocol.connectionLost(reset);
      expect(yield* outcome(waiting)).toBe(reset);
      expect(yield* outcome(lost.writer.drain())).toBe(reset);
      const closed = clientPair(new FakeTransport(), null);
      closed.protocol.connectionLost(null);
      const error = yield* outcome(closed.writer.drain());
      expect(error).toBeInstanceOf(ConnectionResetError);
      expect((error as Error).message).toBe("Connection lost");
    });
  });

  it("throws the reader's error (the connection's) before anything else", async () => {
    await runVirtual(function* () {
      const { reader, writer } = clientPair(new FakeTransport());
      const reset = new Error("ECONNRESET");
      reader!.setException(reset);
      expect(yield* outcome(writer.drain())).toBe(reset);
    });
  });

  it("right after close() it lets the loss be reported first, and throws it", async () => {
    await runVirtual(function* () {
      const transport = new FakeTransport({}, getRunningLoop());
      const { writer } = clientPair(transport);
      writer.close();
      expect(yield* outcome(writer.drain())).toBeInstanceOf(ConnectionResetError);
    });
  });
});

describe("waitClosed()", () => {
  it("returns when the connection closes cleanly and throws the error it was lost to, waiting or after", async () => {
    await runVirtual(function* () {
      const clean = clientPair(new FakeTransport());
      const waitingClean = createTask(clean.writer.waitClosed());
      const reset = new Error("ECONNRESET");
      const failed = clientPair(new FakeTransport());
      const waitingFailed = createTask(failed.writer.waitClosed());
      yield;
      clean.protocol.connectionLost(null);
      failed.protocol.connectionLost(reset);
      expect(yield* outcome(waitingClean)).toBeUndefined();
      expect(yield* outcome(waitingFailed)).toBe(reset);
      expect(yield* outcome(failed.writer.waitClosed())).toBe(reset);
      expect(yield* outcome(clean.writer.waitClosed())).toBeUndefined();
    });
  });

  it("a waitClosed cancelled in the turn the connection is lost does not trip the loss", async () => {
    await runVirtual(function* () {
      const { protocol, writer } = clientPair(new FakeTransport());
      const cancelled = createTask(writer.waitClosed());
      const kept = createTask(writer.waitClosed());
      yield;
      cancelled.cancel();
      protocol.connectionLost(null);
      expect(yield* outcome(cancelled)).toBeInstanceOf(CancelledError);
      expect(yield* outcome(kept)).toBeUndefined();
    });
  });

  it("is labelled with the peer, or the bare method name when there is none", async () => {
    await runVirtual(function* () {
      const named = clientPair(new FakeTransport({ peername: { address: "10.0.0.1", port: 7 } }));
      const bare = clientPair(new FakeTransport());
      const tasks = [createTask(named.writer.waitClosed()), createTask(bare.writer.waitClosed())];
      yield;
      expect(tasks.map((task) => task.waitingOn()!.label)).toEqual(["StreamWriter.waitClosed to 10.0.0.1:7", "StreamWriter.waitClosed"]);
      named.protocol.connectionLost(null);
      bare.protocol.connectionLost(null);
      for (const task of tasks) yield* task;
    });
  });
});

describe("the reading side of the protocol", () => {
  it("a clean loss is the end of the stream; bytes or an end arriving after the loss are dropped", async () => {
    await runVirtual(function* () {
      const { protocol, reader } = clientPair(new FakeTransport());
      protocol.dataReceived(Buffer.from("ab"));
      protocol.connectionLost(null);
      protocol.dataReceived(Buffer.from("late"));
      protocol.eofReceived();
      expect(Buffer.from(yield* reader!.read()).toString()).toBe("ab");
    });
  });

  it("a write-only stream (no reader) connects, takes bytes, half-closes and closes without one", async () => {
    await runVirtual(function* () {
      const { protocol, writer } = clientPair(new FakeTransport(), null);
      protocol.dataReceived(Buffer.from("ignored"));
      expect(protocol.eofReceived()).toBe(true);
      writer.write("x");
      protocol.connectionLost(new Error("EPIPE"));
      expect(((yield* outcome(writer.waitClosed())) as Error).message).toBe("EPIPE");
    });
  });

  it("over TLS an end from the peer closes the connection (no half-open TLS); over plain TCP it stays half-open", async () => {
    await runVirtual(function* () {
      expect(clientPair(new FakeTransport({ sslcontext: {} })).protocol.eofReceived()).toBe(false);
      expect(clientPair(new FakeTransport()).protocol.eofReceived()).toBe(true);
    });
  });
});

describe("a server's connection", () => {
  function* serve(onClient: ClientConnected, extra: Record<string, unknown>, log: string[]): Coroutine<{ protocol: StreamReaderProtocol; transport: FakeTransport }> {
    const loop = getRunningLoop();
    const protocol = new StreamReaderProtocol(new StreamReader(), onClient, loop, trackerLog(log));
    const transport = new FakeTransport(extra, loop);
    transport.setProtocol(protocol);
    protocol.connectionMade(transport);
    yield* [];
    return { protocol, transport };
  }

  it("runs its handler as a task named after the peer, reports it to the server, and closes the connection when it returns", async () => {
    await runVirtual(function* () {
      const names: string[] = [];
      const log: string[] = [];
      const handler: ClientConnected = function* () {
        names.push(currentTask()!.getName());
        yield;
      };
      const named = yield* serve(handler, { peername: { address: "10.0.0.1", port: 7 }, name: "a" }, log);
      const bare = yield* serve(handler, { name: "b" }, log);
      // A bounded number of turns: the handlers return, then the closes are reported.
      for (let turn = 0; turn < 10 && !log.includes("closed b"); turn++) yield;
      expect(names).toEqual(["client 10.0.0.1:7", "client connection"]);
      expect(named.transport.log).toEqual(["close"]);
      expect(bare.transport.log).toEqual(["close"]);
      expect(log).toEqual(["opened", "handler started", "opened", "handler started", "handler finished", "handler finished", "closed a", "closed b"]);
    });
  });

  it("a handler cancelled is not reported as a failure, and its connection is closed", async () => {
    const errors: ErrorContext[] = [];
    await runVirtual(function* () {
      getRunningLoop().setExceptionHandler((_loop, context) => errors.push(context));
      const log: string[] = [];
      let handlerTask: ReturnType<typeof currentTask> = null;
      const { transport } = yield* serve(
        function* (reader) {
          handlerTask = currentTask();
          yield* reader.read();
        },
        { name: "a" },
        log,
      );
      yield;
      handlerTask!.cancel();
      yield;
      yield;
      expect(transport.log).toEqual(["close"]);
      expect(log).toContain("handler finished");
    });
    expect(errors).toEqual([]);
  });

  it("a protocol without a reader starts no handler; one without a tracker runs its handler all the same", async () => {
    const errors: ErrorContext[] = [];
    await runVirtual(function* () {
      const loop = getRunningLoop();
      loop.setExceptionHandler((_loop, context) => errors.push(context));
      const ran: string[] = [];
      const handler: ClientConnected = function* () {
        ran.push("handler");
        yield* [];
      };
      const noReader = new StreamReaderProtocol(null, handler, loop);
      noReader.connectionMade(new FakeTransport());
      const noTracker = new StreamReaderProtocol(new StreamReader(), handler, loop);
      const transport = new FakeTransport();
      noTracker.connectionMade(transport);
      yield;
      yield;
      expect(ran).toEqual(["handler"]);
      expect(transport.log).toEqual(["close"]);
    });
    expect(errors).toEqual([]);
  });

  it("a connection lost before it was made is not reported to the server", async () => {
    await runVirtual(function* () {
      const log: string[] = [];
      const protocol = new StreamReaderProtocol(new StreamReader(), function* () {}, getRunningLoop(), trackerLog(log));
      protocol.connectionLost(new Error("ECONNRESET"));
      yield;
      expect(log).toEqual([]);
    });
  });
});

describe("StreamWriter.startTls", () => {
  it("swaps the transport under the writer, the reader and the server, labels its wait, and passes the side", async () => {
    const driver = new FakeNetDriver();
    await runVirtual(
      function* () {
        const loop = getRunningLoop();
        const log: string[] = [];
        const reader = new StreamReader({ limit: 2 });
        const protocol = new StreamReaderProtocol(reader, null, loop, trackerLog(log));
        const plain = new FakeTransport({ name: "plain" });
        protocol.connectionMade(plain);
        const writer = new StreamWriter(plain, protocol, reader, loop);
        protocol.dataReceived(Buffer.from("abcde"));
        expect(plain.log).toEqual(["pause"]);
        const upgrading = createTask(writer.startTls({ ca: "x" }));
        yield;
        expect(upgrading.waitingOn()!.label).toBe("StreamWriter.startTls");
        expect(driver.upgrades[0]!.options).toEqual({ ca: "x", server: false });
        const tls = new FakeTransport({ name: "tls", sslcontext: {} });
        driver.upgrades[0]!.future.setResult(tls);
        yield* upgrading;
        expect(writer.transport).toBe(tls);
        expect(log).toEqual(["replaced plain by tls"]);
        expect(tls.log).toEqual(["pause"]);
        expect(protocol.eofReceived()).toBe(false);
        // And back to a plain transport: not TLS any more.
        const again = createTask(writer.startTls());
        yield;
        const back = new FakeTransport({ name: "back" });
        driver.upgrades[1]!.future.setResult(back);
        yield* again;
        expect(protocol.eofReceived()).toBe(true);
      },
      { net: driver },
    );
  });

  it("a paused writer stays paused across the swap", async () => {
    const driver = new FakeNetDriver();
    await runVirtual(
      function* () {
        const { protocol, writer } = clientPair(new FakeTransport());
        const upgrading = createTask(writer.startTls());
        yield;
        driver.upgrades[0]!.future.setResult(new FakeTransport());
        yield* upgrading;
        protocol.pauseWriting();
        const task = createTask(writer.drain());
        yield;
        expect(task.done()).toBe(false);
        protocol.resumeWriting();
        yield* task;
      },
      { net: driver },
    );
  });

  it("works on a write-only stream", async () => {
    const driver = new FakeNetDriver();
    await runVirtual(
      function* () {
        const { writer } = clientPair(new FakeTransport(), null);
        const upgrading = createTask(writer.startTls());
        yield;
        const tls = new FakeTransport({ sslcontext: {} });
        driver.upgrades[0]!.future.setResult(tls);
        yield* upgrading;
        expect(writer.transport).toBe(tls);
      },
      { net: driver },
    );
  });

  it("throws when the poller's network driver cannot start TLS", async () => {
    await runVirtual(
      function* () {
        const { writer } = clientPair(new FakeTransport());
        const error = yield* outcome(writer.startTls());
        expect(error).toEqual(new Error("StreamWriter.startTls: this poller's network driver cannot start TLS"));
      },
      { net: new FakeNetDriver({ tls: false }) },
    );
  });
});

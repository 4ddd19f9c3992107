import { createTask, getRunningLoop, type Coroutine } from "@loop/core";
import { MemoryNetwork, runVirtual } from "@loop/testing";
import { Buffer } from "node:buffer";
import { describe, expect, it } from "vitest";
import { openConnection, openUnixConnection, startServer, startUnixServer, type StreamWriter } from "../src/index.js";
import { catching, streamSuite } from "./stream-suite.js";

interface MemoryEnd {
  peer: MemoryEnd | null;
  reset(): void;
  abort(): void;
}

let network = new MemoryNetwork();

streamSuite({
  name: "the in-memory network (virtual time)",
  host: "localhost",
  unknownHost: "no-such-host",
  run<T>(main: () => Coroutine<T>): Promise<T> {
    network = new MemoryNetwork({ latency: 1 });
    network.addHost("blackhole");
    return runVirtual(main, { net: network });
  },
  resetConnection(writer: StreamWriter): void {
    const end = writer.getExtraInfo<MemoryEnd>("socket")!;
    end.peer?.reset();
    end.abort();
  },
  *unreachable() {
    network.partition("localhost", "blackhole");
    yield* [];
    return {
      host: "blackhole",
      port: 80,
      *cleanup(): Coroutine<void> {
        network.heal();
        yield* [];
      },
    };
  },
  *tick(): Coroutine<void> {
    const loop = getRunningLoop();
    const later = loop.createFuture<void>();
    loop.callLater(1, () => later.setResult());
    yield* later;
  },
  expectNoOpenHandles(): Promise<void> {
    expect(network.openConnections).toBe(0);
    expect(network.openListeners).toBe(0);
    return Promise.resolve();
  },
});

describe("openConnection over the in-memory network", () => {
  it("aborting the signal mid-connect throws the signal's reason and leaves nothing open", async () => {
    const far = new MemoryNetwork();
    far.addHost("far");
    far.partition("localhost", "far");
    await runVirtual(
      function* () {
        const controller = new AbortController();
        getRunningLoop().callLater(100, () => controller.abort(new Error("stop")));
        const error = yield* catching(openConnection("far", 1, { signal: controller.signal }));
        expect((error as Error).message).toBe("stop");
        expect(getRunningLoop().time()).toBe(100);
      },
      { net: far },
    );
    expect(far.openConnections).toBe(0);
  });

  it("a 10-second latency costs virtual time only: the loop clock shows one round trip to connect and one more for a reply", async () => {
    const slow = new MemoryNetwork({ latency: 10_000 });
    await runVirtual(
      function* () {
        const loop = getRunningLoop();
        const server = yield* startServer(
          function* (reader, writer) {
            writer.write(yield* reader.readline());
          },
          "localhost",
          7,
        );
        const [reader, writer] = yield* openConnection("localhost", 7);
        expect(loop.time()).toBe(20_000);
        writer.write("echo?\n");
        expect(Buffer.from(yield* reader.readline()).toString()).toBe("echo?\n");
        expect(loop.time()).toBe(40_000);
        writer.close();
        server.close();
        server.abortClients();
        yield* server.waitClosed();
      },
      { net: slow },
    );
  });

  it("startTls on the in-memory network marks both ends as TLS (no encryption), so a STARTTLS exchange can be tested", async () => {
    const network = new MemoryNetwork({ latency: 1 });
    await runVirtual(
      function* () {
        const server = yield* startServer(
          function* (reader, writer) {
            yield* reader.readline();
            writer.write("GO\n");
            yield* writer.startTls({});
            expect(writer.canWriteEof()).toBe(false);
            writer.write(yield* reader.readline());
          },
          "localhost",
          25,
        );
        const [reader, writer] = yield* openConnection("localhost", 25);
        writer.write("STARTTLS\n");
        yield* reader.readline();
        yield* writer.startTls({ ca: "unused" });
        expect(writer.getExtraInfo("sslcontext")).toBe("memory-tls");
        writer.write("secret\n");
        expect(Buffer.from(yield* reader.readline()).toString()).toBe("secret\n");
        writer.close();
        server.close();
        yield* server.waitClosed();
      },
      { net: network },
    );
    expect(network.openConnections).toBe(0);
  });
});

describe("Unix sockets on the in-memory network", () => {
  it("serve and connect by path; address() is the path; a path nobody listens on fails with ENOENT", async () => {
    const network = new MemoryNetwork();
    await runVirtual(
      function* () {
        const server = yield* startUnixServer(function* (reader, writer) {
          writer.write(yield* reader.readline());
        }, "/run/app.sock");
        expect(server.address()).toBe("/run/app.sock");
        const [reader, writer] = yield* openUnixConnection("/run/app.sock");
        expect(writer.getExtraInfo("peername")).toBe("/run/app.sock");
        writer.write("by path\n");
        expect(Buffer.from(yield* reader.readline()).toString()).toBe("by path\n");
        writer.close();
        const missing = (yield* catching(openUnixConnection("/run/none.sock"))) as { code?: string; address?: string };
        expect(missing.code).toBe("ENOENT");
        expect(missing.address).toBe("/run/none.sock");
        server.close();
        yield* server.waitClosed();
      },
      { net: network },
    );
    expect(network.openConnections).toBe(0);
  });
});

describe("cancellation races", () => {
  it("a task cancelled in the turn its connection completes closes that connection", async () => {
    const network = new MemoryNetwork({ latency: 5 });
    await runVirtual(
      function* () {
        const loop = getRunningLoop();
        const server = yield* startServer(function* (reader) {
          yield* reader.read();
        }, "localhost", 1);
        const task = createTask(openConnection("localhost", 1));
        // The connection completes at t=10; cancel in that same turn, after it resolved.
        const at10 = loop.createFuture<void>();
        loop.callAt(10, () => {
          loop.callSoon(() => task.cancel());
          at10.setResult();
        });
        yield* at10;
        expect(yield* catching(task)).toBeInstanceOf(Error);
        server.close();
        yield* server.waitClosed();
      },
      { net: network },
    );
    expect(network.openConnections).toBe(0);
  });
});

import { getRunningLoop, type Coroutine } from "@loop/core";
import { MemoryNetwork, runVirtual } from "@loop/testing";
import { expect } from "vitest";
import type { StreamWriter } from "../src/index.js";
import { streamSuite } from "./stream-suite.js";

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

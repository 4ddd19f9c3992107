/**
 * `Server`'s own bookkeeping, on a handle of the test's: what close() does to the handle,
 * to serveForever and to waiters, and how connections and handlers are counted for
 * waitClosed(). (The socket-level behaviour is in node-listener.test.ts.)
 */
import { getRunningLoop, run, type ServerHandle, type Transport } from "@loop/core";
import { describe, expect, it } from "vitest";
import { Server } from "../src/server.js";

class Handle implements ServerHandle {
  readonly transports = new Set<Transport>();
  closes = 0;
  address(): string {
    return "fake";
  }
  close(): void {
    this.closes++;
  }
}

function fakeTransport(log: string[], name: string): Transport {
  return {
    abort: () => log.push(`abort ${name}`),
    close: () => log.push(`close ${name}`),
  } as unknown as Transport;
}

function served(): { server: Server; handle: Handle } {
  const server = new Server(getRunningLoop(), "fake");
  const handle = new Handle();
  server._setHandle(handle);
  return { server, handle };
}

describe("Server's bookkeeping", () => {
  it("close() closes the handle once, however often it is called", async () => {
    await run(function* () {
      const { server, handle } = served();
      expect(server.address()).toBe("fake");
      server.close();
      server.close();
      expect(handle.closes).toBe(1);
      yield* server.waitClosed();
    });
  });

  it("a handler that starts and finishes after close() and the last wake-up breaks nothing", async () => {
    await run(function* () {
      const { server } = served();
      server.close();
      yield* server.waitClosed();
      // A connection accepted just before close() whose handler only starts now.
      server.handlerStarted();
      expect(() => server.handlerFinished()).not.toThrow();
      yield* server.waitClosed();
    });
  });

  it("transportReplaced swaps a tracked connection's transport, and ignores one it does not track", async () => {
    await run(function* () {
      const { server } = served();
      const log: string[] = [];
      const old = fakeTransport(log, "old");
      server.connectionOpened(old);
      server.transportReplaced(old, fakeTransport(log, "tls"));
      server.transportReplaced(fakeTransport(log, "gone"), fakeTransport(log, "stranger"));
      server.abortClients();
      expect(log).toEqual(["abort tls"]);
      server.closeClients();
      expect(log).toEqual(["abort tls", "close tls"]);
      server.close();
    });
  });
});

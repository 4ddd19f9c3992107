/**
 * createConnection's timeout on the in-memory network (virtual time): which error wins
 * when the connect fails in the very turn its timeout expires.
 */
import type { BaseTransport, Protocol } from "@loop/core";
import { MemoryNetwork, runVirtual } from "@loop/testing";
import { describe, expect, it } from "vitest";
import { createConnection } from "../src/index.js";
import { catching } from "./stream-suite.js";

const quiet = (): Protocol => ({
  connectionMade(_transport: BaseTransport) {},
  dataReceived() {},
  eofReceived: () => false,
  connectionLost() {},
  pauseWriting() {},
  resumeWriting() {},
});

describe("createConnection's timeout", () => {
  it("a connect that fails in the turn its timeout expires reports the connect's error, not a timeout", async () => {
    const network = new MemoryNetwork();
    const error = (await runVirtual(() => catching(createConnection(quiet, "no-such-host", 80, { timeout: 0 })), { net: network })) as Error & { code?: string };
    expect(error.constructor).toBe(Error);
    expect(error.code).toBe("ENOTFOUND");
    expect(network.openConnections).toBe(0);
  });
});

import { run } from "@loop/core";
import { describe, expect, it } from "vitest";
import * as net from "../src/index.js";
import { openConnection, openUnixConnection, startServer, startUnixServer } from "../src/index.js";

describe("the public surface of @loop/net", () => {
  it("exports exactly these names", () => {
    expect(Object.keys(net).sort()).toEqual(
      [
        "ConnectionResetError",
        "DEFAULT_LIMIT",
        "DatagramSocket",
        "IncompleteReadError",
        "LimitOverrunError",
        "NodeNetDriver",
        "Server",
        "StreamReader",
        "StreamReaderProtocol",
        "StreamWriter",
        "chunks",
        "createConnection",
        "createDatagramEndpoint",
        "createServer",
        "createUnixServer",
        "getNetDriver",
        "lines",
        "nodeNetDriver",
        "openConnection",
        "openDatagramSocket",
        "openUnixConnection",
        "startServer",
        "startUnixServer",
      ].sort(),
    );
  });
});

describe("argument errors are thrown at the call, before any coroutine runs", () => {
  const handler = function* (): Generator<undefined, void, unknown> {};

  it("openConnection checks host, port and options", () => {
    expect(() => openConnection("", 80)).toThrow(TypeError);
    expect(() => openConnection(1 as unknown as string, 80)).toThrow(TypeError);
    expect(() => openConnection("localhost", "80" as unknown as number)).toThrow(TypeError);
    expect(() => openConnection("localhost", 0)).toThrow(RangeError);
    expect(() => openConnection("localhost", 70_000)).toThrow(RangeError);
    expect(() => openConnection("localhost", 80, { limit: 0 })).toThrow(RangeError);
    expect(() => openConnection("localhost", 80, { limit: -1 })).toThrow(/limit/);
    expect(() => openConnection("localhost", 80, { timeout: -1 })).toThrow(RangeError);
    expect(() => openConnection("localhost", 80, { tls: "yes" as unknown as boolean })).toThrow(TypeError);
    expect(() => openConnection("localhost", 80, { signal: {} as AbortSignal })).toThrow(TypeError);
    expect(() => openUnixConnection("")).toThrow(TypeError);
  });

  it("startServer checks the handler, host, port and options", () => {
    expect(() => startServer(null as unknown as typeof handler, "127.0.0.1", 0)).toThrow(TypeError);
    expect(() => startServer(handler, 5 as unknown as string, 0)).toThrow(TypeError);
    expect(() => startServer(handler, "127.0.0.1", -1)).toThrow(RangeError);
    expect(() => startServer(handler, "127.0.0.1", 0, { limit: 0 })).toThrow(RangeError);
    expect(() => startServer(handler, "127.0.0.1", 0, { backlog: -2 })).toThrow(RangeError);
    expect(() => startUnixServer(handler, "")).toThrow(TypeError);
  });
});

describe("openConnection's signal", () => {
  it("an aborted signal abandons the attempt with the signal's reason", async () => {
    await run(function* () {
      const controller = new AbortController();
      const reason = new Error("given up");
      controller.abort(reason);
      try {
        yield* openConnection("127.0.0.1", 9, { signal: controller.signal });
        expect.unreachable();
      } catch (error) {
        expect(error).toBe(reason);
      }
    });
  });
});

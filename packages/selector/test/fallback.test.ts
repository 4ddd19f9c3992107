import { run, type Coroutine } from "@loop/core";
import { openConnection, startServer, type StreamReader, type StreamWriter } from "@loop/net";
import { describe, expect, it, vi } from "vitest";

// As if node-gyp had failed on install: the addon is not there.
vi.mock("../src/native.js", async (importOriginal) => ({
  ...(await importOriginal<typeof import("../src/native.js")>()),
  native: null,
  nativeLoadError: new Error("Could not locate the bindings file"),
}));

const { SelectorPoller, selectorAvailable, selectorUnavailableReason } = await import("../src/index.js");

function* echo(reader: StreamReader, writer: StreamWriter): Coroutine<void> {
  writer.write(yield* reader.readline());
  yield* writer.drain();
}

describe("without the native addon", () => {
  it("SelectorPoller warns once, names the reason, and runs the loop on Node's timers and socket driver", async () => {
    const warn = vi.spyOn(process, "emitWarning").mockImplementation(() => {});
    try {
      expect(selectorAvailable()).toBe(false);
      expect(selectorUnavailableReason()).toMatch(/bindings file/);
      const poller = new SelectorPoller();
      new SelectorPoller().close();
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toMatch(/not available \(Could not locate the bindings file\).*Node's timers and socket driver/);
      expect(poller.native).toBe(false);
      expect(poller.net).toBeUndefined();
      expect(poller.fds).toBeUndefined();
      expect(poller.processes).toBeUndefined();
      const line = await run(
        function* () {
          const server = yield* startServer(echo, "127.0.0.1", 0);
          const [reader, writer] = yield* openConnection("127.0.0.1", (server.address() as { port: number }).port);
          writer.write("still works\n");
          const got = Buffer.from(yield* reader.readline()).toString();
          writer.close();
          yield* writer.waitClosed();
          server.close();
          yield* server.waitClosed();
          return got;
        },
        { poller },
      );
      expect(line).toBe("still works\n");
      expect(() => new SelectorPoller().addReader(0, () => {})).toThrow(/native selector is not available.*node-gyp/);
    } finally {
      warn.mockRestore();
    }
  });
});

describe("the addon check", () => {
  it("refuses a binary of another interface version (a stale prebuild) and one without a selector, saying why", async () => {
    const { checkAddon } = await vi.importActual<typeof import("../src/native.js")>("../src/native.js");
    expect(() => checkAddon({ arm() {}, abi: 2 })).toThrow(/interface 2, this @loop\/selector needs 5 .*rebuild/);
    expect(() => checkAddon({ init() {} }, "win32")).toThrow(/no native selector on win32/);
    const good = { arm() {}, abi: 5 };
    expect(checkAddon(good)).toBe(good);
  });
});

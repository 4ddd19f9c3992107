/**
 * The argument checks of the protocol-level API (createConnection, createServer,
 * createUnixServer): a bad argument throws at the call, with the exact class and a message
 * naming the argument; every value at the edge of a range is checked on both sides. The
 * calls here never run their coroutine, so no socket is opened.
 */
import type { BaseTransport, Protocol } from "@loop/core";
import { describe, expect, it } from "vitest";
import { createConnection, createServer, createUnixServer, type TlsServerOptions } from "../src/index.js";

class Quiet implements Protocol {
  connectionMade(_transport: BaseTransport): void {}
  dataReceived(_data: Uint8Array): void {}
  eofReceived(): boolean {
    return false;
  }
  connectionLost(_error: Error | null): void {}
  pauseWriting(): void {}
  resumeWriting(): void {}
}

const quiet = (): Protocol => new Quiet();

/** What `call` throws, checked to be exactly of `kind` with exactly `message`. */
function expectThrows(call: () => unknown, kind: typeof TypeError | typeof RangeError, message: string): void {
  let thrown: unknown = null;
  try {
    call();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(kind);
  expect((thrown as Error).constructor).toBe(kind);
  expect((thrown as Error).message).toBe(message);
}

/** The call is accepted: it returns the (unstarted) coroutine without throwing. */
function expectAccepted(call: () => unknown): void {
  expect(call).not.toThrow();
}

describe("createConnection's argument checks", () => {
  const where = "createConnection(protocolFactory, host, port)";

  it("protocolFactory must be a function", () => {
    expectThrows(() => createConnection(null as unknown as () => Protocol, "127.0.0.1", 80), TypeError, `${where}: protocolFactory must be a function returning a Protocol, got object`);
    expectThrows(() => createConnection(new Quiet() as unknown as () => Protocol, "127.0.0.1", 80), TypeError, `${where}: protocolFactory must be a function returning a Protocol, got object`);
  });

  it("host must be a non-empty string", () => {
    expectThrows(() => createConnection(quiet, "", 80), TypeError, `${where}: host must be a non-empty string`);
    expectThrows(() => createConnection(quiet, 127 as unknown as string, 80), TypeError, `${where}: host must be a non-empty string`);
    expectThrows(() => createConnection(quiet, undefined as unknown as string, 80), TypeError, `${where}: host must be a non-empty string`);
    expectAccepted(() => createConnection(quiet, "h", 80));
  });

  it("port must be a number", () => {
    expectThrows(() => createConnection(quiet, "127.0.0.1", "80" as unknown as number), TypeError, `${where}: port must be a number, got string`);
  });

  it("port must be an integer from 1 to 65535: 0 and 65536 are out, 1 and 65535 in", () => {
    expectThrows(() => createConnection(quiet, "127.0.0.1", 0), RangeError, `${where}: port must be an integer from 1 to 65535, got 0`);
    expectThrows(() => createConnection(quiet, "127.0.0.1", 65536), RangeError, `${where}: port must be an integer from 1 to 65535, got 65536`);
    expectThrows(() => createConnection(quiet, "127.0.0.1", 1.5), RangeError, `${where}: port must be an integer from 1 to 65535, got 1.5`);
    expectAccepted(() => createConnection(quiet, "127.0.0.1", 1));
    expectAccepted(() => createConnection(quiet, "127.0.0.1", 65535));
  });

  it("opts must be an object when given", () => {
    const message = "createConnection(…, opts): opts must be an object like { tls, serverHostname, timeout }";
    expectThrows(() => createConnection(quiet, "127.0.0.1", 80, null as unknown as object), TypeError, message);
    expectThrows(() => createConnection(quiet, "127.0.0.1", 80, 5 as unknown as object), TypeError, message);
    expectAccepted(() => createConnection(quiet, "127.0.0.1", 80, {}));
    expectAccepted(() => createConnection(quiet, "127.0.0.1", 80, undefined));
  });

  it("timeout must be a number of 0 or more milliseconds: -1 and NaN are out, 0 in", () => {
    const message = (got: string): string => `createConnection(…, { timeout }): timeout must be 0 or more milliseconds, got ${got}`;
    expectThrows(() => createConnection(quiet, "127.0.0.1", 80, { timeout: -1 }), RangeError, message("-1"));
    expectThrows(() => createConnection(quiet, "127.0.0.1", 80, { timeout: -0.5 }), RangeError, message("-0.5"));
    expectThrows(() => createConnection(quiet, "127.0.0.1", 80, { timeout: Number.NaN }), RangeError, message("NaN"));
    expectThrows(() => createConnection(quiet, "127.0.0.1", 80, { timeout: "5" as unknown as number }), RangeError, message("5"));
    expectThrows(() => createConnection(quiet, "127.0.0.1", 80, { timeout: null as unknown as number }), RangeError, message("null"));
    expectAccepted(() => createConnection(quiet, "127.0.0.1", 80, { timeout: 0 }));
    expectAccepted(() => createConnection(quiet, "127.0.0.1", 80, { timeout: 2500 }));
  });
});

describe("createServer's argument checks", () => {
  const where = "createServer(protocolFactory, host, port)";

  it("protocolFactory must be a function", () => {
    expectThrows(() => createServer(undefined as unknown as () => Protocol, "127.0.0.1", 0), TypeError, "createServer(protocolFactory, …): protocolFactory must be a function returning a Protocol, got undefined");
  });

  it("host must be a string or undefined (every interface)", () => {
    expectThrows(() => createServer(quiet, 127 as unknown as string, 0), TypeError, `${where}: host must be a string or undefined, got number`);
    expectThrows(() => createServer(quiet, null as unknown as string, 0), TypeError, `${where}: host must be a string or undefined, got object`);
    expectAccepted(() => createServer(quiet, undefined, 0));
    expectAccepted(() => createServer(quiet, "127.0.0.1", 0));
  });

  it("port must be a number", () => {
    expectThrows(() => createServer(quiet, "127.0.0.1", "0" as unknown as number), TypeError, `${where}: port must be a number, got string`);
    expectThrows(() => createServer(quiet, "127.0.0.1", undefined as unknown as number), TypeError, `${where}: port must be a number, got undefined`);
  });

  it("port must be an integer from 0 to 65535: -1 and 65536 are out, 0 and 65535 in", () => {
    expectThrows(() => createServer(quiet, "127.0.0.1", -1), RangeError, `${where}: port must be an integer from 0 to 65535, got -1`);
    expectThrows(() => createServer(quiet, "127.0.0.1", 65536), RangeError, `${where}: port must be an integer from 0 to 65535, got 65536`);
    expectThrows(() => createServer(quiet, "127.0.0.1", 0.5), RangeError, `${where}: port must be an integer from 0 to 65535, got 0.5`);
    expectAccepted(() => createServer(quiet, "127.0.0.1", 0));
    expectAccepted(() => createServer(quiet, "127.0.0.1", 65535));
  });

  it("opts must be an object when given", () => {
    const message = "createServer(…, opts): opts must be an object like { backlog, tls, reusePort }";
    expectThrows(() => createServer(quiet, "127.0.0.1", 0, null as unknown as object), TypeError, message);
    expectThrows(() => createServer(quiet, "127.0.0.1", 0, "opts" as unknown as object), TypeError, message);
    expectAccepted(() => createServer(quiet, "127.0.0.1", 0, {}));
  });

  it("backlog must be an integer of 0 or more: -1, 1.5 and '5' are out, 0 in", () => {
    const message = "createServer(…, { backlog }): backlog must be an integer of 0 or more";
    expectThrows(() => createServer(quiet, "127.0.0.1", 0, { backlog: -1 }), RangeError, message);
    expectThrows(() => createServer(quiet, "127.0.0.1", 0, { backlog: 1.5 }), RangeError, message);
    expectThrows(() => createServer(quiet, "127.0.0.1", 0, { backlog: "5" as unknown as number }), RangeError, message);
    expectAccepted(() => createServer(quiet, "127.0.0.1", 0, { backlog: 0 }));
    expectAccepted(() => createServer(quiet, "127.0.0.1", 0, { backlog: 511 }));
  });

  it("tls must be an object of TLS server options", () => {
    const message = "createServer(…, { tls }): tls must be an object of TLS server options (key, cert, …)";
    expectThrows(() => createServer(quiet, "127.0.0.1", 0, { tls: null as unknown as TlsServerOptions }), TypeError, message);
    expectThrows(() => createServer(quiet, "127.0.0.1", 0, { tls: true as unknown as TlsServerOptions }), TypeError, message);
    expectAccepted(() => createServer(quiet, "127.0.0.1", 0, { tls: {} }));
  });

  it("reusePort must be a boolean", () => {
    const message = "createServer(…, { reusePort }): reusePort must be a boolean";
    expectThrows(() => createServer(quiet, "127.0.0.1", 0, { reusePort: "yes" as unknown as boolean }), TypeError, message);
    expectThrows(() => createServer(quiet, "127.0.0.1", 0, { reusePort: 1 as unknown as boolean }), TypeError, message);
    expectAccepted(() => createServer(quiet, "127.0.0.1", 0, { reusePort: true }));
    expectAccepted(() => createServer(quiet, "127.0.0.1", 0, { reusePort: false }));
  });
});

describe("createUnixServer's argument checks", () => {
  it("path must be a non-empty string", () => {
    const message = (got: string): string => `createUnixServer(protocolFactory, path): path must be a non-empty string, got ${got}`;
    expectThrows(() => createUnixServer(quiet, ""), TypeError, message("string"));
    expectThrows(() => createUnixServer(quiet, 5 as unknown as string), TypeError, message("number"));
    expectThrows(() => createUnixServer(quiet, undefined as unknown as string), TypeError, message("undefined"));
    expectAccepted(() => createUnixServer(quiet, "x.sock"));
  });

  it("the other arguments are checked as createServer checks them, under createUnixServer's name", () => {
    expectThrows(() => createUnixServer(null as unknown as () => Protocol, "x.sock"), TypeError, "createUnixServer(protocolFactory, …): protocolFactory must be a function returning a Protocol, got object");
    expectThrows(() => createUnixServer(quiet, "x.sock", { backlog: -1 }), RangeError, "createUnixServer(…, { backlog }): backlog must be an integer of 0 or more");
    expectThrows(() => createUnixServer(quiet, "x.sock", { tls: 1 as unknown as TlsServerOptions }), TypeError, "createUnixServer(…, { tls }): tls must be an object of TLS server options (key, cert, …)");
  });
});

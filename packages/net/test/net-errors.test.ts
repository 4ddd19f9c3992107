/** The streams layer's errors (asyncio's IncompleteReadError and LimitOverrunError, Python's ConnectionResetError) and how connection errors name their address. */
import { describe, expect, it } from "vitest";
import { withAddress, type NetError } from "../src/errors.js";
import { ConnectionResetError, IncompleteReadError, LimitOverrunError } from "../src/index.js";

describe("the streams' errors", () => {
  it("IncompleteReadError says how many bytes came of how many, as asyncio's does ('undefined' when reading to a separator)", () => {
    const partial = new Uint8Array(3);
    const counted = new IncompleteReadError(partial, 5);
    expect(counted).toBeInstanceOf(Error);
    expect(counted.name).toBe("IncompleteReadError");
    expect(counted.message).toBe("3 bytes read on a total of 5 expected bytes");
    expect(counted.partial).toBe(partial);
    expect(counted.expected).toBe(5);
    const toSeparator = new IncompleteReadError(partial, null);
    expect(toSeparator.message).toBe("3 bytes read on a total of undefined expected bytes");
    expect(toSeparator.expected).toBe(null);
    expect(String(new IncompleteReadError(new Uint8Array(0), 0))).toBe("IncompleteReadError: 0 bytes read on a total of 0 expected bytes");
  });

  it("LimitOverrunError carries its message and how much may be consumed", () => {
    const error = new LimitOverrunError("Separator is not found, and chunk exceed the limit", 7);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("LimitOverrunError");
    expect(error.message).toBe("Separator is not found, and chunk exceed the limit");
    expect(error.consumed).toBe(7);
  });

  it("ConnectionResetError defaults to 'Connection lost' and ECONNRESET, and keeps a transport's own", () => {
    const plain = new ConnectionResetError();
    expect(plain).toBeInstanceOf(Error);
    expect(plain.name).toBe("ConnectionResetError");
    expect(plain.message).toBe("Connection lost");
    expect(plain.code).toBe("ECONNRESET");
    const own = new ConnectionResetError("write EPIPE", "EPIPE");
    expect([own.message, own.code]).toEqual(["write EPIPE", "EPIPE"]);
  });
});

describe("withAddress", () => {
  it("names the host and port a connection error was for, keeping what the error already says", () => {
    const bare = withAddress(new Error("refused"), "db.local", 5432, undefined) as NetError;
    expect([bare.address, bare.port, bare.path]).toEqual(["db.local", 5432, undefined]);
    const named = withAddress(Object.assign(new Error("refused"), { address: "10.0.0.5", port: 15432 }), "db.local", 5432, undefined) as NetError;
    expect([named.address, named.port]).toEqual(["10.0.0.5", 15432]);
  });

  it("leaves out what it was not given", () => {
    const noHost = withAddress(new Error("x"), undefined, 80, undefined) as NetError;
    expect("address" in noHost).toBe(false);
    expect(noHost.port).toBe(80);
    const noPort = withAddress(new Error("x"), "example.com", undefined, undefined) as NetError;
    expect(noPort.address).toBe("example.com");
    expect("port" in noPort).toBe(false);
  });

  it("names a Unix socket's path as path and address, and ignores host and port then", () => {
    const error = withAddress(new Error("ENOENT"), "ignored", 1, "/run/app.sock") as NetError;
    expect([error.path, error.address, error.port]).toEqual(["/run/app.sock", "/run/app.sock", undefined]);
    const own = withAddress(Object.assign(new Error("ENOENT"), { path: "/a", address: "/b" }), undefined, undefined, "/run/app.sock") as NetError;
    expect([own.path, own.address]).toEqual(["/a", "/b"]);
  });

  it("returns anything that is not an object as it is", () => {
    for (const thrown of [null, undefined, "failed", 42]) expect(withAddress(thrown, "h", 1, undefined)).toBe(thrown);
    expect(withAddress("failed", undefined, undefined, "/p")).toBe("failed");
  });
});

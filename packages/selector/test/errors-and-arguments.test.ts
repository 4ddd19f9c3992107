import { existsSync } from "node:fs";
import { constants } from "node:os";
import { run } from "@loop/core";
import { describe, expect, it } from "vitest";
import { addReader, addWriter, removeReader, removeWriter, selectorAvailable, selectorUnavailableReason } from "../src/index.js";
import { checkFd } from "../src/check.js";
import { systemError, withTarget } from "../src/errors.js";
import { checkAddon } from "../src/native.js";

describe("system errors as Node shapes them", () => {
  it("names the errno, makes it negative, and puts the syscall first in the message", () => {
    const error = systemError(constants.errno.ECONNRESET, "read");
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toBe("read ECONNRESET");
    expect({ ...error }).toEqual({ code: "ECONNRESET", errno: -constants.errno.ECONNRESET, syscall: "read" });
  });

  it("adds the host and port of a TCP target, or the path of a Unix one, to the message and the error", () => {
    const tcp = systemError(constants.errno.ECONNREFUSED, "connect", { host: "::1", port: 80 });
    expect(tcp.message).toBe("connect ECONNREFUSED ::1:80");
    expect({ ...tcp }).toMatchObject({ address: "::1", port: 80 });
    expect("path" in tcp).toBe(false);
    const unix = systemError(constants.errno.ENOENT, "connect", { path: "/run/x.sock" });
    expect(unix.message).toBe("connect ENOENT /run/x.sock");
    expect({ ...unix }).toEqual({ code: "ENOENT", errno: -constants.errno.ENOENT, syscall: "connect", path: "/run/x.sock" });
    // A target that names neither adds nothing.
    const neither = systemError(constants.errno.EPIPE, "write", {});
    expect(neither.message).toBe("write EPIPE");
    expect({ ...neither }).toEqual({ code: "EPIPE", errno: -constants.errno.EPIPE, syscall: "write" });
  });

  it("an errno Node has no name for is still a code: E and its number", () => {
    expect(systemError(0, "poll")).toMatchObject({ code: "E0", message: "poll E0" });
  });

  it("withTarget gives a resolver's error the host and port (or keeps the path it has), and passes anything else through", () => {
    const dns = Object.assign(new Error("getaddrinfo ENOTFOUND nowhere"), { code: "ENOTFOUND", hostname: "nowhere" });
    expect(withTarget(dns, { host: "nowhere", port: 443 })).toBe(dns);
    expect(dns).toMatchObject({ address: "nowhere", port: 443, hostname: "nowhere" });
    expect("path" in dns).toBe(false);
    const unix = new Error("x");
    expect(withTarget(unix, { path: "/a.sock" })).toMatchObject({ path: "/a.sock" });
    expect("address" in unix).toBe(false);
    const named = Object.assign(new Error("y"), { path: "/own.sock" });
    expect(withTarget(named, { path: "/other.sock" })).toMatchObject({ path: "/own.sock" });
    expect(withTarget("a string", { host: "h", port: 1 })).toBe("a string");
    expect(withTarget(null, { path: "/p" })).toBe(null);
  });
});

describe("argument checks", () => {
  it("checkFd names the function and what was wrong", () => {
    expect(() => checkFd("addReader", "3")).toThrow(new TypeError("addReader(fd, …): fd must be a file descriptor number, got string"));
    expect(() => checkFd("removeWriter", 1.5)).toThrow(new RangeError("removeWriter(fd, …): fd must be an integer of 0 or more, got 1.5"));
    expect(() => checkFd("addWriter", -1)).toThrow(new RangeError("addWriter(fd, …): fd must be an integer of 0 or more, got -1"));
    expect(() => checkFd("x", 0)).not.toThrow();
  });

  it("each fd function names itself, in a bad argument's error and off a selector loop", async () => {
    const calls: [string, (fd: number) => unknown][] = [
      ["addReader", (fd) => addReader(fd, () => {})],
      ["removeReader", (fd) => removeReader(fd)],
      ["addWriter", (fd) => addWriter(fd, () => {})],
      ["removeWriter", (fd) => removeWriter(fd)],
    ];
    for (const [name, call] of calls) expect(() => call(-1)).toThrow(new RangeError(`${name}(fd, …): fd must be an integer of 0 or more, got -1`));
    await run(function* () {
      for (const [name, call] of calls) expect(() => call(0)).toThrow(new RegExp(`^${name}: the running loop's poller is ".+"; run the loop with \\{ poller: new SelectorPoller\\(\\) \\}`));
    });
  });
});

describe("the addon", () => {
  it("checkAddon refuses what is not an addon object: null, undefined, a function", () => {
    for (const loaded of [null, undefined, "selector", Object.assign(() => {}, { arm() {}, abi: 5 })]) {
      expect(() => checkAddon(loaded, "linux")).toThrow(new Error("no native selector on linux"));
    }
  });

  // Where node-gyp built it (not where the build failed: fallback.test.ts covers that).
  it.skipIf(!existsSync(new URL("../build/Release/selector.node", import.meta.url)))("the addon built in this package's build/ loads, from src/ as from dist/", () => {
    expect(selectorAvailable()).toBe(true);
    expect(selectorUnavailableReason()).toBe(null);
  });
});

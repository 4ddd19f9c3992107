import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { getRunningLoop, run, type Coroutine } from "@loop/core";
import { runVirtual } from "@loop/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getNetDriver, nodeNetDriver, openConnection, openUnixConnection, startServer, startUnixServer, type StreamReader, type StreamWriter } from "../src/index.js";
import { expectNoOpenSocketHandles } from "./node-handles.js";
import { makeTestCertificate } from "./tls-cert.js";

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString();

function* echoLines(reader: StreamReader, writer: StreamWriter): Coroutine<void> {
  for (;;) {
    const line = yield* reader.readline();
    if (line.length === 0) return;
    writer.write(line);
    yield* writer.drain();
  }
}

let dir = "";
let key = "";
let cert = "";

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "loop-net-"));
  ({ key, cert } = makeTestCertificate());
});

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await expectNoOpenSocketHandles();
});

describe("the Node socket driver", () => {
  it("is what streams use when the poller has no network of its own", async () => {
    await run(function* () {
      yield;
      expect(getNetDriver(getRunningLoop())).toBe(nodeNetDriver);
    });
  });

  it("releases the sockets and listeners user code left open when the loop closes, so the process can exit", async () => {
    await run(function* () {
      const server = yield* startServer(echoLines, "127.0.0.1", 0);
      const port = (server.address() as { port: number }).port;
      const [reader, writer] = yield* openConnection("127.0.0.1", port);
      writer.write("left open\n");
      yield* reader.readline();
      // No close, no waitClosed: run() ends with all of it still open.
    });
    await expectNoOpenSocketHandles();
  });

  it("counts its open sockets as outside work, so a virtual-time loop waits for real I/O instead of declaring a deadlock", async () => {
    const reply = await runVirtual(function* () {
      const server = yield* startServer(echoLines, "127.0.0.1", 0);
      const port = (server.address() as { port: number }).port;
      const [reader, writer] = yield* openConnection("127.0.0.1", port);
      writer.write("real bytes in virtual time\n");
      // Nothing is ready and no timer is pending here: only the socket can wake the loop.
      const line = text(yield* reader.readline());
      writer.close();
      yield* writer.waitClosed();
      server.close();
      yield* server.waitClosed();
      return line;
    });
    expect(reply).toBe("real bytes in virtual time\n");
    await expectNoOpenSocketHandles();
  });

  it("reusePort: set where Node can (>= 22.12); on older Node the listen fails with an error naming the way out", async () => {
    const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
    const nodeCan = major > 22 || (major === 22 && minor >= 12);
    await run(function* () {
      let error: unknown = null;
      try {
        const server = yield* startServer(echoLines, "127.0.0.1", 0, { reusePort: true });
        server.close();
        yield* server.waitClosed();
      } catch (e) {
        error = e;
      }
      if (nodeCan) expect(error).toBeNull();
      else expect(String(error)).toMatch(/reusePort: Node v\d+.*cannot set SO_REUSEPORT.*SelectorPoller/);
    });
    await expectNoOpenSocketHandles();
  });

  it("turns TCP_NODELAY on for the sockets it opens", async () => {
    await run(function* () {
      const server = yield* startServer(echoLines, "127.0.0.1", 0);
      const port = (server.address() as { port: number }).port;
      const [, writer] = yield* openConnection("127.0.0.1", port);
      // Node keeps the flag it set on the socket handle.
      const socket = writer.getExtraInfo<Socket & { [key: symbol]: unknown }>("socket")!;
      const noDelay = Object.getOwnPropertySymbols(socket).find((s) => s.description === "kSetNoDelay");
      expect(noDelay === undefined ? true : socket[noDelay]).toBe(true);
      writer.close();
      yield* writer.waitClosed();
      server.close();
      yield* server.waitClosed();
    });
  });

  it("serves and connects over Unix sockets; address() is the path, and closing removes the socket file", async () => {
    const path = join(dir, "echo.sock");
    await run(function* () {
      const server = yield* startUnixServer(echoLines, path);
      expect(server.address()).toBe(path);
      const [reader, writer] = yield* openUnixConnection(path);
      expect(writer.getExtraInfo("peername")).toBe(path);
      writer.write("over unix\n");
      expect(text(yield* reader.readline())).toBe("over unix\n");
      writer.close();
      yield* writer.waitClosed();
      server.close();
      yield* server.waitClosed();
    });
    expect(spawnSync("test", ["-e", path]).status).not.toBe(0);
    await expectNoOpenSocketHandles();
  });

  it("a Unix path nobody listens on fails with ENOENT and the path", async () => {
    const path = join(dir, "nobody.sock");
    await run(function* () {
      try {
        yield* openUnixConnection(path);
        expect.unreachable();
      } catch (error) {
        expect((error as { code?: string }).code).toBe("ENOENT");
        expect((error as { address?: string }).address).toBe(path);
      }
    });
  });

  it("a port in use fails startServer with EADDRINUSE and the address", async () => {
    await run(function* () {
      const first = yield* startServer(echoLines, "127.0.0.1", 0);
      const port = (first.address() as { port: number }).port;
      try {
        yield* startServer(echoLines, "127.0.0.1", port);
        expect.unreachable();
      } catch (error) {
        expect((error as { code?: string }).code).toBe("EADDRINUSE");
        expect((error as { port?: number }).port).toBe(port);
      } finally {
        first.close();
        yield* first.waitClosed();
      }
    });
    await expectNoOpenSocketHandles();
  });

  it("carries streams over TLS, with the peer certificate in getExtraInfo and no half-close", async (context) => {
    if (cert === "") return context.skip("openssl is not installed: no certificate for the TLS tests");
    await run(function* () {
      const server = yield* startServer(echoLines, "127.0.0.1", 0, { tls: { key, cert } });
      const port = (server.address() as { port: number }).port;
      const [reader, writer] = yield* openConnection("127.0.0.1", port, { tls: { ca: cert } });
      expect(writer.getExtraInfo("sslcontext")).not.toBeUndefined();
      expect(writer.getExtraInfo<{ subject: { CN: string } }>("peercert")!.subject.CN).toBe("localhost");
      expect(writer.canWriteEof()).toBe(false);
      writer.write("secret\n");
      expect(text(yield* reader.readline())).toBe("secret\n");
      writer.close();
      yield* writer.waitClosed();
      server.close();
      yield* server.waitClosed();
    });
    await expectNoOpenSocketHandles();
  });

  it("rejects a server certificate it cannot verify", async (context) => {
    if (cert === "") return context.skip("openssl is not installed: no certificate for the TLS tests");
    await run(function* () {
      const server = yield* startServer(echoLines, "127.0.0.1", 0, { tls: { key, cert } });
      const port = (server.address() as { port: number }).port;
      try {
        yield* openConnection("127.0.0.1", port, { tls: true });
        expect.unreachable();
      } catch (error) {
        expect((error as { code?: string }).code).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY|DEPTH_ZERO/);
      } finally {
        server.close();
        server.abortClients();
        yield* server.waitClosed();
      }
    });
    await expectNoOpenSocketHandles();
  });

  it("startTls upgrades an open plain connection on both sides (STARTTLS)", async (context) => {
    if (cert === "") return context.skip("openssl is not installed: no certificate for the TLS tests");
    await run(function* () {
      const server = yield* startServer(
        function* (reader, writer) {
          expect(text(yield* reader.readline())).toBe("STARTTLS\n");
          writer.write("GO\n");
          yield* writer.startTls({ key, cert });
          expect(writer.getExtraInfo("sslcontext")).not.toBeUndefined();
          yield* echoLines(reader, writer);
        },
        "127.0.0.1",
        0,
      );
      const port = (server.address() as { port: number }).port;
      const [reader, writer] = yield* openConnection("127.0.0.1", port);
      expect(writer.getExtraInfo("sslcontext")).toBeUndefined();
      writer.write("STARTTLS\n");
      expect(text(yield* reader.readline())).toBe("GO\n");
      yield* writer.startTls({ ca: cert, serverHostname: "localhost" });
      expect(writer.getExtraInfo<TLSSocket>("socket")!.encrypted).toBe(true);
      writer.write("now encrypted\n");
      expect(text(yield* reader.readline())).toBe("now encrypted\n");
      writer.close();
      yield* writer.waitClosed();
      server.close();
      yield* server.waitClosed();
    });
    await expectNoOpenSocketHandles();
  });
});

/**
 * What a Node socket transport tells about itself (getExtraInfo, its protocol, its
 * owner) and how it hands its socket over for startTls (detach). On a stand-in socket
 * (fake-socket.ts) that plays a TCP, Unix or TLS socket.
 */
import { Buffer } from "node:buffer";
import { run } from "@loop/core";
import { describe, expect, it } from "vitest";
import { DATA, END } from "../src/node-transport.js";
import { bytes, fakeTransport, LogProtocol } from "./fake-socket.js";

describe("getExtraInfo", () => {
  it("gives a TCP socket's peer and own address, and the socket; TLS names and unknown names give the fallback", async () => {
    await run(function* () {
      const { transport, socket } = fakeTransport();
      Object.assign(socket, { remoteAddress: "10.0.0.2", remoteFamily: "IPv4", remotePort: 6379, localAddress: "10.0.0.1", localFamily: "IPv4", localPort: 5000 });
      expect(transport.getExtraInfo("peername")).toEqual({ address: "10.0.0.2", family: "IPv4", port: 6379 });
      expect(transport.getExtraInfo("sockname")).toEqual({ address: "10.0.0.1", family: "IPv4", port: 5000 });
      expect(transport.getExtraInfo("socket")).toBe(socket);
      for (const name of ["sslcontext", "peercert", "cipher", "sslobject", "no such thing"]) expect(transport.getExtraInfo(name, "fallback")).toBe("fallback");
      transport.abort();
    });
  });

  it("gives the fallback for the addresses of a socket that has none (closed, or not connected)", async () => {
    await run(function* () {
      const { transport } = fakeTransport();
      expect(transport.getExtraInfo("peername", "none")).toBe("none");
      expect(transport.getExtraInfo("sockname", "none")).toBe("none");
      expect(transport.getExtraInfo("peername")).toBeUndefined();
      transport.abort();
    });
  });

  it("gives a Unix socket's path as both addresses", async () => {
    await run(function* () {
      const { transport, socket } = fakeTransport({ unixPath: "/run/app.sock" });
      Object.assign(socket, { remoteAddress: "ignored", localAddress: "ignored" });
      expect(transport.getExtraInfo("peername")).toBe("/run/app.sock");
      expect(transport.getExtraInfo("sockname")).toBe("/run/app.sock");
      transport.abort();
    });
  });

  it("gives what a TLS connection negotiated, its peer's certificate, its cipher and the TLS socket", async () => {
    await run(function* () {
      const { transport, socket } = fakeTransport({ tls: true });
      expect(transport.getExtraInfo("sslcontext")).toEqual({ protocol: "TLSv1.3", alpnProtocol: "h2" });
      expect(transport.getExtraInfo("peercert")).toEqual({ subject: { CN: "localhost" } });
      expect(transport.getExtraInfo("cipher")).toEqual({ name: "TLS_AES_128_GCM_SHA256" });
      expect(transport.getExtraInfo("sslobject")).toBe(socket);
      transport.abort();
    });
  });
});

describe("protocol and owner", () => {
  it("getProtocol gives the protocol; after setProtocol the data goes to the new one", async () => {
    await run(function* () {
      const { transport, dispatcher, protocol, log } = fakeTransport();
      expect(transport.getProtocol()).toBe(protocol);
      const second = new LogProtocol([]);
      transport.setProtocol(second);
      expect(transport.getProtocol()).toBe(second);
      transport.incoming(DATA, bytes("x"));
      dispatcher.deliver();
      expect(second.log).toEqual(["data x"]);
      expect(log.filter((line) => line.startsWith("data"))).toEqual([]);
      transport.abort();
    });
  });

  it("tells its owner when the connection ends; setOwner hands that over to another owner", async () => {
    await run(function* () {
      const closed: string[] = [];
      const first = { transportClosed: () => void closed.push("first") };
      const second = { transportClosed: () => void closed.push("second") };
      const { transport, socket, dispatcher } = fakeTransport({ owner: first });
      expect(transport.owner).toBe(first);
      transport.setOwner(second);
      expect(transport.owner).toBe(second);
      socket.emit("close");
      dispatcher.deliver();
      expect(closed).toEqual(["second"]);
      expect(transport.owner).toBe(null);
    });
  });
});

describe("detach (startTls)", () => {
  it("hands over the socket and the bytes held while paused, then those waiting for their share, in order; events are not", async () => {
    await run(function* () {
      const owner = { transportClosed: () => {} };
      const { transport, socket, dispatcher, log } = fakeTransport({ owner });
      transport.pauseReading();
      transport.incoming(DATA, bytes("held"));
      dispatcher.deliver();
      transport.incoming(DATA, bytes("queued...."));
      transport.incoming(DATA, bytes("waiting"));
      transport.incoming(END, null);
      transport.incoming(DATA, bytes("more"));
      dispatcher.deliver(); // "queued...." is held too
      const { socket: handed, held } = transport.detach();
      expect(handed).toBe(socket);
      expect(held.map((chunk) => Buffer.from(chunk).toString())).toEqual(["held", "queued....", "waiting", "more"]);
      expect(transport.owner).toBe(null);
      expect(dispatcher.open.has(transport)).toBe(false);
      expect(transport.isClosing()).toBe(true);
      log.length = 0;
      // The release asked for before the detach finds nothing to do.
      dispatcher.releaseHeld();
      expect(log).toEqual(["release → false"]);
    });
  });

  it("a release the dispatcher still owes a detached transport does nothing", async () => {
    await run(function* () {
      const { transport, dispatcher, log } = fakeTransport();
      transport.incoming(DATA, bytes("aaaaaaaaaa"));
      transport.incoming(DATA, bytes("bbbbb")); // waits for its share
      dispatcher.deliver();
      const { held } = transport.detach();
      expect(held.map((chunk) => Buffer.from(chunk).toString())).toEqual(["bbbbb"]);
      log.length = 0;
      dispatcher.releaseHeld();
      expect(log).toEqual(["release → false"]);
    });
  });

  it("hands over an empty list when nothing is held", async () => {
    await run(function* () {
      const { transport } = fakeTransport();
      expect(transport.detach().held).toEqual([]);
    });
  });

  it("leaves the socket to its new owner: its events no longer reach the transport, and close() no longer touches it", async () => {
    await run(function* () {
      const { transport, socket, dispatcher, log } = fakeTransport();
      transport.detach();
      const newOwnersErrors: Error[] = [];
      socket.on("error", (error: Error) => newOwnersErrors.push(error));
      log.length = 0;
      socket.emit("data", bytes("tls bytes"));
      socket.emit("end");
      socket.emit("error", new Error("not ours"));
      socket.emit("close");
      transport.close();
      dispatcher.deliver();
      expect(log).toEqual([]);
      expect(["data", "end", "error", "close"].map((event) => socket.listenerCount(event))).toEqual([0, 0, 1, 0]);
      expect(newOwnersErrors.map((error) => error.message)).toEqual(["not ours"]);
    });
  });

  // Bytes and an end still queued in the dispatcher, and a real TLS hand-over: start-tls-handover.test.ts.

  it("bytes already on their way to the old protocol are not given to it once the socket is handed over", async () => {
    await run(function* () {
      const { transport, dispatcher, log } = fakeTransport();
      transport.incoming(DATA, bytes("tls bytes"));
      transport.detach();
      log.length = 0;
      dispatcher.deliver();
      expect(log).toEqual([]);
    });
  });
});

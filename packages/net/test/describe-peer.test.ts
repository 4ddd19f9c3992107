/** describePeer: the peer of a transport as a label ("127.0.0.1:6379", "[::1]:6379", a Unix path). */
import type { BaseTransport } from "@loop/core";
import { describe, expect, it } from "vitest";
import { describePeer } from "../src/peer.js";

/** A transport whose only extra info is its peername. */
const withPeer = (peer: unknown): BaseTransport => ({ getExtraInfo: (name: string) => (name === "peername" ? peer : undefined) }) as unknown as BaseTransport;

describe("describePeer", () => {
  it("is host:port for IPv4 and [address]:port for IPv6", () => {
    expect(describePeer(withPeer({ address: "127.0.0.1", family: "IPv4", port: 6379 }))).toBe("127.0.0.1:6379");
    expect(describePeer(withPeer({ address: "::1", family: "IPv6", port: 6379 }))).toBe("[::1]:6379");
  });

  it("is the path of a Unix socket, which may be empty", () => {
    expect(describePeer(withPeer("/run/redis.sock"))).toBe("/run/redis.sock");
    expect(describePeer(withPeer(""))).toBe("");
  });

  it("is empty when the transport knows no peer, or not one with an address", () => {
    for (const peer of [undefined, null, 42, {}, { port: 1 }, { address: 7, port: 1 }]) expect(describePeer(withPeer(peer))).toBe("");
  });
});

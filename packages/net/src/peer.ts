import type { BaseTransport } from "@loop/core";

/** Describes a peer for future labels: "127.0.0.1:6379", or a Unix socket path. */
export function describePeer(transport: BaseTransport): string {
  const peer = transport.getExtraInfo<unknown>("peername");
  if (typeof peer === "string") return peer;
  if (peer !== null && typeof peer === "object") {
    const { address, port } = peer as { address?: unknown; port?: unknown };
    if (typeof address === "string") return address.includes(":") ? `[${address}]:${String(port)}` : `${address}:${String(port)}`;
  }
  return "";
}

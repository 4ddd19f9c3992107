import type { BaseTransport } from "@loop/core";

/** Describes a peer for future labels: "127.0.0.1:6379", or a Unix socket path. */
export function describePeer(transport: BaseTransport): string {
  const peer = transport.getExtraInfo<unknown>("peername");
  if (typeof peer === "string") return peer;
  if (peer !== null && typeof peer === "object") {
    const { address, port } = peer as { address?: unknown; port?: unknown };
    // join() makes one flat string; a template would make a rope of three strings, and
    // this one is kept (in labels and a task name) for as long as the connection lives.
    if (typeof address === "string") return address.includes(":") ? ["[", address, "]:", String(port)].join("") : [address, String(port)].join(":");
  }
  return "";
}

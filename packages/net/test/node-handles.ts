/**
 * Leak checks for real sockets: Node's list of active resources must hold no socket,
 * server or TLS handle of ours once a test is over.
 */
import { expect } from "vitest";

const SOCKET_RESOURCES = new Set(["TCPSocketWrap", "TCPServerWrap", "TCPWrap", "PipeServerWrap", "TLSWrap", "ConnectWrap", "GetAddrInfoReqWrap", "ShutdownWrap", "SimpleShutdownWrap"]);

/** Resources that count: sockets and servers. Vitest's own IPC pipe (PipeWrap) is left out; Unix client sockets are counted by `pipes`. */
function socketResources(): string[] {
  return process.getActiveResourcesInfo().filter((name) => SOCKET_RESOURCES.has(name));
}

const pipesAtStart = process.getActiveResourcesInfo().filter((name) => name === "PipeWrap").length;

/**
 * Waits, a bounded number of macrotask turns (handle closes finish in Node's close phase,
 * not synchronously), for every socket handle to be gone, then asserts it.
 */
export async function expectNoOpenSocketHandles(): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const pipes = process.getActiveResourcesInfo().filter((name) => name === "PipeWrap").length;
    if (socketResources().length === 0 && pipes <= pipesAtStart) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  expect(socketResources()).toEqual([]);
  expect(process.getActiveResourcesInfo().filter((name) => name === "PipeWrap").length).toBeLessThanOrEqual(pipesAtStart);
}

import type { EventLoop, NetDriver } from "@loop/core";
import { nodeNetDriver } from "./node-driver.js";

/**
 * The network driver streams use on `loop`: its poller's own (`poller.net`, e.g. the
 * in-memory network of a virtual-time poller), or else Node's sockets.
 */
export function getNetDriver(loop: EventLoop): NetDriver {
  return loop.poller.net ?? nodeNetDriver;
}

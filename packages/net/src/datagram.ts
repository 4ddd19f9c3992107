import { getRunningLoop, type AbstractFuture, type Coroutine, type DatagramAddress, type DatagramOptions, type DatagramProtocol, type DatagramTransport } from "@loop/core";
import { getNetDriver } from "./driver.js";

/** Options of `createDatagramEndpoint` (asyncio's `create_datagram_endpoint` keywords). */
export type DatagramEndpointOptions = DatagramOptions;

/**
 * Opens a UDP endpoint (asyncio's `loop.create_datagram_endpoint`): binds to `localAddr`
 * (any address and a free port by default) and, with `remoteAddr`, connects to that peer;
 * returns the transport and the protocol `protocolFactory` made, once `connectionMade`
 * was called. Carried by the poller's network driver (`poller.net`): Node's `dgram`
 * sockets by default, `@loop/testing`'s `MemoryNetwork` in tests.
 * @example
 * const [transport] = yield* createDatagramEndpoint(() => ({
 *   datagramReceived(data, addr) { transport.sendto(data, addr); }, // an echo server
 * }), { localAddr: ["127.0.0.1", 9999] });
 */
export function createDatagramEndpoint<P extends DatagramProtocol>(protocolFactory: () => P, opts?: DatagramEndpointOptions): Coroutine<[DatagramTransport, P]> {
  if (typeof protocolFactory !== "function") {
    throw new TypeError(`createDatagramEndpoint(protocolFactory, opts): protocolFactory must be a function returning a DatagramProtocol, got ${describe(protocolFactory)}`);
  }
  const options = checkDatagramOptions("createDatagramEndpoint", opts);
  return openEndpoint(protocolFactory, options);
}

function* openEndpoint<P extends DatagramProtocol>(protocolFactory: () => P, options: DatagramOptions): Coroutine<[DatagramTransport, P]> {
  const loop = getRunningLoop();
  const driver = getNetDriver(loop);
  if (typeof driver.datagram !== "function") {
    throw new Error("createDatagramEndpoint: the loop's network driver carries no datagrams (its NetDriver has no datagram method)");
  }
  let protocol: P | null = null;
  const pending: AbstractFuture<DatagramTransport> = driver.datagram(loop, () => (protocol = protocolFactory()), options);
  pending.label = `createDatagramEndpoint ${describeAddress(options)}`;
  const transport = yield* pending;
  return [transport, protocol as unknown as P];
}

/** @internal Checks the options shared by `createDatagramEndpoint` and `openDatagramSocket`. */
export function checkDatagramOptions(where: string, opts: unknown): DatagramOptions {
  if (opts === undefined) return {};
  if (typeof opts !== "object" || opts === null) throw new TypeError(`${where}(…, opts): opts must be an object like { localAddr, remoteAddr, family }`);
  const o = opts as DatagramOptions;
  if (o.localAddr !== undefined) checkAddress(`${where}({ localAddr })`, o.localAddr, true);
  if (o.remoteAddr !== undefined) checkAddress(`${where}({ remoteAddr })`, o.remoteAddr, false);
  if (o.family !== undefined && o.family !== 4 && o.family !== 6) throw new RangeError(`${where}({ family }): family must be 4 or 6, got ${describe(o.family)}`);
  for (const flag of ["reusePort", "allowBroadcast"] as const) {
    if (o[flag] !== undefined && typeof o[flag] !== "boolean") throw new TypeError(`${where}({ ${flag} }): ${flag} must be a boolean, got ${describe(o[flag])}`);
  }
  return { localAddr: o.localAddr, remoteAddr: o.remoteAddr, family: o.family, reusePort: o.reusePort, allowBroadcast: o.allowBroadcast };
}

function checkAddress(where: string, addr: unknown, zeroPortAllowed: boolean): asserts addr is DatagramAddress {
  if (!Array.isArray(addr) || addr.length !== 2 || typeof addr[0] !== "string" || addr[0] === "") {
    throw new TypeError(`${where}: the address must be [host, port] with a non-empty host, got ${Array.isArray(addr) ? JSON.stringify(addr) : describe(addr)}`);
  }
  const port: unknown = addr[1];
  if (typeof port !== "number") throw new TypeError(`${where}: the port must be a number, got ${describe(port)}`);
  if (!Number.isInteger(port) || port < (zeroPortAllowed ? 0 : 1) || port > 65535) {
    throw new RangeError(`${where}: the port must be an integer from ${zeroPortAllowed ? 0 : 1} to 65535, got ${port}`);
  }
}

function describeAddress(options: DatagramOptions): string {
  const local = options.localAddr === undefined ? "*" : `${options.localAddr[0]}:${options.localAddr[1]}`;
  return options.remoteAddr === undefined ? `on ${local}` : `${local} to ${options.remoteAddr[0]}:${options.remoteAddr[1]}`;
}

function describe(value: unknown): string {
  return value === null ? "null" : typeof value === "string" ? JSON.stringify(value) : typeof value;
}

import type { Protocol } from "@loop/core";
import type { TlsServerOptions } from "./streams.js";

export interface ServerTarget {
  host?: string;
  port?: number;
  path?: string;
  backlog?: number;
  tls?: TlsServerOptions;
  reusePort?: boolean;
}

/** Checks createServer's arguments at the call, as startServer checks its own. */
export function checkServerArgs(
  where: string,
  protocolFactory: () => Protocol,
  host: string | undefined,
  port: number,
  opts: { backlog?: number; tls?: TlsServerOptions; reusePort?: boolean } | undefined,
): ServerTarget {
  if (typeof protocolFactory !== "function") throw new TypeError(`${where}(protocolFactory, …): protocolFactory must be a function returning a Protocol, got ${typeof protocolFactory}`);
  if (host !== undefined && typeof host !== "string") throw new TypeError(`${where}(protocolFactory, host, port): host must be a string or undefined, got ${typeof host}`);
  if (typeof port !== "number") throw new TypeError(`${where}(protocolFactory, host, port): port must be a number, got ${typeof port}`);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`${where}(protocolFactory, host, port): port must be an integer from 0 to 65535, got ${port}`);
  if (opts !== undefined && (typeof opts !== "object" || opts === null)) throw new TypeError(`${where}(…, opts): opts must be an object like { backlog, tls, reusePort }`);
  const backlog = opts?.backlog;
  if (backlog !== undefined && (!Number.isInteger(backlog) || backlog < 0)) throw new RangeError(`${where}(…, { backlog }): backlog must be an integer of 0 or more`);
  const tls = opts?.tls;
  if (tls !== undefined && (typeof tls !== "object" || tls === null)) throw new TypeError(`${where}(…, { tls }): tls must be an object of TLS server options (key, cert, …)`);
  const reusePort = opts?.reusePort;
  if (reusePort !== undefined && typeof reusePort !== "boolean") throw new TypeError(`${where}(…, { reusePort }): reusePort must be a boolean`);
  return { host, port, backlog, tls, reusePort };
}

import { CancelledError, TimeoutError, getRunningLoop, type AbstractFuture, type Coroutine, type Protocol, type Transport } from "@loop/core";
import { getNetDriver } from "./driver.js";
import { withAddress } from "./errors.js";
import type { TlsOptions } from "./streams.js";

/** Options of `createConnection` (asyncio's `ssl`, `server_hostname` and a connect timeout). */
export interface CreateConnectionOptions {
  /** Connect over TLS (carried by Node's TLS, whatever the driver). */
  tls?: TlsOptions;
  /** Server name for SNI and the certificate check; defaults to `host` when it is a name. */
  serverHostname?: string;
  /** Gives up connecting after this many ms with a `TimeoutError` whose `code` is ETIMEDOUT. */
  timeout?: number;
}

/**
 * Connects to `host:port` and drives a protocol from `protocolFactory` on the connection
 * (asyncio's `loop.create_connection`): returns `[transport, protocol]` once
 * `connectionMade` was called. Fails as `openConnection` does (`ECONNREFUSED`,
 * `ENOTFOUND`, … with the address) and leaves no socket behind when cancelled.
 * @example
 * const [transport, protocol] = yield* createConnection(() => new MyProtocol(), "127.0.0.1", 6379);
 * transport.write(Buffer.from("PING\r\n"));
 */
export function createConnection<P extends Protocol>(protocolFactory: () => P, host: string, port: number, opts?: CreateConnectionOptions): Coroutine<[Transport, P]> {
  if (typeof protocolFactory !== "function") throw new TypeError(`createConnection(protocolFactory, host, port): protocolFactory must be a function returning a Protocol, got ${typeof protocolFactory}`);
  if (typeof host !== "string" || host === "") throw new TypeError(`createConnection(protocolFactory, host, port): host must be a non-empty string`);
  if (typeof port !== "number") throw new TypeError(`createConnection(protocolFactory, host, port): port must be a number, got ${typeof port}`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`createConnection(protocolFactory, host, port): port must be an integer from 1 to 65535, got ${port}`);
  if (opts !== undefined && (typeof opts !== "object" || opts === null)) throw new TypeError("createConnection(…, opts): opts must be an object like { tls, serverHostname, timeout }");
  const timeout = opts?.timeout;
  if (timeout !== undefined && !(typeof timeout === "number" && timeout >= 0)) throw new RangeError(`createConnection(…, { timeout }): timeout must be 0 or more milliseconds, got ${String(timeout)}`);
  return connect(protocolFactory, host, port, opts);
}

function* connect<P extends Protocol>(protocolFactory: () => P, host: string, port: number, opts: CreateConnectionOptions | undefined): Coroutine<[Transport, P]> {
  const loop = getRunningLoop();
  let protocol: P | null = null;
  const factory = (): P => (protocol = protocolFactory());
  const pending: AbstractFuture<Transport> = getNetDriver(loop).connect(loop, factory, { host, port, tls: opts?.tls, serverHostname: opts?.serverHostname });
  pending.label = `createConnection to ${host}:${port}`;
  const timeout = opts?.timeout;
  let timedOut = false;
  const timer =
    timeout === undefined
      ? null
      : loop.callLater(timeout, () => {
          timedOut = true;
          pending.cancel();
        });
  let transport: Transport;
  try {
    transport = yield* pending;
  } catch (error) {
    if (pending.done() && !pending.cancelled() && pending.exception() === null) pending.result().abort();
    if (error instanceof CancelledError && pending.cancelled() && timedOut) {
      const timeoutError = new TimeoutError(`createConnection: connecting to ${host}:${port} timed out after ${timeout} ms`);
      throw withAddress(Object.assign(timeoutError, { code: "ETIMEDOUT" }), host, port, undefined);
    }
    throw error;
  } finally {
    timer?.cancel();
  }
  return [transport, protocol as unknown as P];
}

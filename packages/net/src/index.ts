/**
 * `@loop/net` — asyncio's socket streams for @loop: TCP, Unix and TLS connections and
 * servers on asyncio-style transports and protocols, carried by Node's sockets or by any
 * poller's network driver.
 */
import { registerLibraryModule } from "@loop/core";

// Diagnostics (debug-mode reports, task trees) point past this package's frames at the user's code.
registerLibraryModule(import.meta.url);

export { openConnection, openUnixConnection, startServer, startUnixServer } from "./streams.js";
export type { OpenConnectionOptions, StartServerOptions, TlsOptions, TlsServerOptions, UnixConnectionOptions, UnixServerOptions } from "./streams.js";
export { StreamReader, DEFAULT_LIMIT } from "./stream-reader.js";
export type { StreamReaderOptions } from "./stream-reader.js";
export { chunks, lines } from "./reader-streams.js";
export { StreamWriter } from "./stream-writer.js";
export { StreamReaderProtocol } from "./stream-protocol.js";
export type { ClientConnected } from "./stream-protocol.js";
export { Server } from "./server.js";
export { createServer, createUnixServer } from "./create-server.js";
export type { CreateServerOptions } from "./create-server.js";
export { createConnection } from "./create-connection.js";
export type { CreateConnectionOptions } from "./create-connection.js";
export { IncompleteReadError, LimitOverrunError, ConnectionResetError } from "./errors.js";
export type { NetError } from "./errors.js";
export { NodeNetDriver, nodeNetDriver } from "./node-driver.js";
export { getNetDriver } from "./driver.js";
export { createDatagramEndpoint } from "./datagram.js";
export type { DatagramEndpointOptions } from "./datagram.js";
export { openDatagramSocket, DatagramSocket } from "./datagram-socket.js";
export type { DatagramAddressInfo, DatagramSocketOptions } from "./datagram-socket.js";

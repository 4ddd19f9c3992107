/**
 * The errors of the streams layer (asyncio.streams' `IncompleteReadError` and
 * `LimitOverrunError`, plus Python's `ConnectionResetError`, which JavaScript lacks).
 */

/**
 * The stream ended before the read could complete (asyncio.IncompleteReadError).
 * `partial` holds the bytes read before the end; `expected` the number asked for, or
 * null when reading up to a separator.
 */
export class IncompleteReadError extends Error {
  /** The bytes read before the end of the stream. */
  readonly partial: Uint8Array;
  /** How many bytes were asked for; null when reading up to a separator. */
  readonly expected: number | null;

  constructor(partial: Uint8Array, expected: number | null) {
    const wanted = expected === null ? "undefined" : String(expected);
    super(`${partial.length} bytes read on a total of ${wanted} expected bytes`);
    this.name = "IncompleteReadError";
    this.partial = partial;
    this.expected = expected;
  }
}

/**
 * The reader's limit was reached while looking for a separator
 * (asyncio.LimitOverrunError). `consumed` is how many bytes the caller may consume to
 * make progress; they are still in the reader's buffer.
 */
export class LimitOverrunError extends Error {
  /** How many bytes the caller may consume to make progress. */
  readonly consumed: number;

  constructor(message: string, consumed: number) {
    super(message);
    this.name = "LimitOverrunError";
    this.consumed = consumed;
  }
}

/**
 * The connection was lost while writing or draining (Python's ConnectionResetError).
 * `code` is Node's error code, `ECONNRESET` unless the transport reported another.
 */
export class ConnectionResetError extends Error {
  /** Node's error code: `ECONNRESET` unless the transport reported another. */
  readonly code: string;

  constructor(message = "Connection lost", code = "ECONNRESET") {
    super(message);
    this.name = "ConnectionResetError";
    this.code = code;
  }
}

/** The shape of Node's system errors, which every driver's connection errors follow. */
export interface NetError extends Error {
  /** Node's error code: `ECONNREFUSED`, `ENOTFOUND`, `ETIMEDOUT`, … */
  code?: string;
  /** The address the connection was for. */
  address?: string;
  /** The port the connection was for. */
  port?: number;
  /** The Unix socket path the connection was for. */
  path?: string;
}

/** Makes sure a connection error names what it tried to reach, as Node's ECONNREFUSED does. */
export function withAddress(error: unknown, host: string | undefined, port: number | undefined, path: string | undefined): unknown {
  if (error === null || typeof error !== "object") return error;
  const netError = error as NetError;
  if (path !== undefined) {
    if (netError.path === undefined) netError.path = path;
    if (netError.address === undefined) netError.address = path;
  } else {
    if (netError.address === undefined && host !== undefined) netError.address = host;
    if (netError.port === undefined && port !== undefined) netError.port = port;
  }
  return error;
}

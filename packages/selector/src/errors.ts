import { getSystemErrorName } from "node:util";

/** An error shaped like Node's system errors: `code`, `errno`, `syscall`, and the address when known. */
export interface SystemError extends Error {
  /** The errno's name, e.g. `"ECONNREFUSED"` (Node's `error.code`). */
  code: string;
  /** The errno as Node reports it: negative, e.g. `-111` for ECONNREFUSED on Linux. */
  errno: number;
  /** The system call that failed, e.g. `"connect"`, `"bind"`, `"epoll_ctl"`. */
  syscall: string;
  /** The host of a failed TCP connect or listen, when known. */
  address?: string;
  /** The port of a failed TCP connect or listen, when known. */
  port?: number;
  /** The socket path of a failed Unix connect or listen, when known. */
  path?: string;
}

/** Node's error for `errno` (positive, as the addon reports it) from `syscall`. */
export function systemError(errno: number, syscall: string, target?: { host?: string; port?: number; path?: string }): SystemError {
  let code: string;
  try {
    code = getSystemErrorName(-errno);
  } catch {
    code = `E${errno}`;
  }
  const where = target === undefined ? "" : target.path !== undefined ? ` ${target.path}` : target.host !== undefined ? ` ${target.host}:${target.port}` : "";
  const error = new Error(`${syscall} ${code}${where}`) as SystemError;
  error.code = code;
  error.errno = -errno;
  error.syscall = syscall;
  if (target?.path !== undefined) error.path = target.path;
  else if (target?.host !== undefined) {
    error.address = target.host;
    error.port = target.port;
  }
  return error;
}

/** Adds the address to an error that lacks it (a DNS failure), as `@loop/net`'s drivers do. */
export function withTarget(error: unknown, target: { host?: string; port?: number; path?: string }): unknown {
  if (typeof error !== "object" || error === null) return error;
  const e = error as { address?: string; port?: number; path?: string };
  if (target.path !== undefined) e.path ??= target.path;
  else {
    // Node's dns errors carry `hostname`; streams report the host as `address`.
    e.address = target.host;
    e.port = target.port;
  }
  return error;
}

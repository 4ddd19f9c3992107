import { Future, Task, type DebugLogger } from "@loop/core";

/**
 * The default debug logger: one line per report on stderr, as core prints them.
 * @example
 * loop.debugLogger = consoleLogger;
 */
export const consoleLogger: DebugLogger = {
  warn(message: string): void {
    console.error(`[@loop debug] ${message}`);
  },
};

/** The part of a pino logger that `pinoLogger` uses: `warn(object, message)`. */
export interface PinoLike {
  /** Logs `message` at warning level with `details` as fields. */
  warn(details: Record<string, unknown>, message: string): void;
}

/**
 * Sends debug-mode reports to a pino logger (or anything with pino's `warn(obj, msg)`),
 * as one structured record each: the message, plus its details made JSON-friendly
 * (tasks and futures become their names and descriptions, stacks stay strings).
 * @example
 * import pino from "pino";
 * loop.debugLogger = pinoLogger(pino());
 */
export function pinoLogger(logger: PinoLike): DebugLogger {
  if (typeof logger !== "object" || logger === null || typeof logger.warn !== "function") {
    throw new TypeError("pinoLogger(logger): logger must be a pino logger (an object with warn(obj, msg))");
  }
  return {
    warn(message: string, details?: Record<string, unknown>): void {
      logger.warn(plainDetails(details), message);
    },
  };
}

/**
 * Details as plain data: a Task becomes `{ name, state }`, another Future or a Handle its
 * description, errors stay errors (structured loggers serialize them), undefined values go.
 */
export function plainDetails(details: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (details === undefined) return out;
  for (const [key, value] of Object.entries(details)) {
    if (value === undefined) continue;
    if (value instanceof Task) out[key] = { name: value.name, state: String(value) };
    else if (value instanceof Future) out[key] = String(value);
    else if (value instanceof Error || value === null || typeof value !== "object") out[key] = value;
    else out[key] = String(value);
  }
  return out;
}

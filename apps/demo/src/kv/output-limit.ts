/**
 * Bounds on a connection's pending output in bytes, as Redis's `client-output-buffer-limit
 * <class> <hard> <soft> <soft seconds>`: past the hard limit, or above the soft limit for
 * longer than the soft time, the client is disconnected. Pending output is what the server
 * holds for the client and the client has not taken: the socket's write buffer, plus the
 * pub/sub messages queued behind it.
 */

/** One class's limits; 0 turns a limit off (Redis's `normal 0 0 0`). */
export interface OutputBufferLimit {
  readonly hardBytes: number;
  readonly softBytes: number;
  readonly softSeconds: number;
}

/** Redis's default for ordinary clients: none. Their replies are bounded by backpressure anyway (see the README). */
export const NORMAL_OUTPUT_LIMIT: OutputBufferLimit = { hardBytes: 0, softBytes: 0, softSeconds: 0 };

/** Redis's default for subscribers: `pubsub 32mb 8mb 60`. */
export const PUBSUB_OUTPUT_LIMIT: OutputBufferLimit = { hardBytes: 32 * 1024 * 1024, softBytes: 8 * 1024 * 1024, softSeconds: 60 };

/** The limit of one connection, with the time its output went over the soft limit. */
export class OutputLimitCheck {
  /** Loop time (ms) since which the output has stayed at or above the soft limit; -1 when below. */
  private softSince = -1;

  constructor(
    readonly limit: OutputBufferLimit,
    private readonly clock: () => number,
  ) {}

  /** Redis's `checkClientOutputBufferLimits`: true once `bytes` of pending output break the limit. */
  exceeded(bytes: number): boolean {
    const { hardBytes, softBytes, softSeconds } = this.limit;
    if (hardBytes > 0 && bytes >= hardBytes) return true;
    if (softBytes > 0 && bytes >= softBytes) {
      const now = this.clock();
      if (this.softSince < 0) {
        this.softSince = now;
        return false;
      }
      return now - this.softSince >= softSeconds * 1000;
    }
    this.softSince = -1;
    return false;
  }
}

/** Checks a limit given as an option, at the call. */
export function checkOutputLimit(name: string, value: unknown, fallback: OutputBufferLimit): OutputBufferLimit {
  if (value === undefined) return fallback;
  if (typeof value !== "object" || value === null) {
    throw new TypeError(`startKvServer(options): ${name} must be an object like { hardBytes, softBytes, softSeconds }`);
  }
  const out: Record<string, number> = {};
  for (const field of ["hardBytes", "softBytes", "softSeconds"] as const) {
    const v = (value as Record<string, unknown>)[field] ?? fallback[field];
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
      throw new RangeError(`startKvServer(options): ${name}.${field} must be a number >= 0 (0: no limit), got ${String(v)}`);
    }
    out[field] = v;
  }
  return out as unknown as OutputBufferLimit;
}

/**
 * How debug's reports show a stack frame. Reading the stacks (which frame is the user's,
 * which is the coroutine) is core's: `userFrame`, `coroutineFrame` and friends.
 */
import type { StackFrame } from "@loop/core";

/** "fn (src/x.ts:3:5)", or "src/x.ts:3:5" for an anonymous frame: paths relative to the working directory. */
export function frameDescription(frame: StackFrame): string {
  const location = shortenPath(frame.location ?? frame.text);
  return frame.functionName === null ? location : `${frame.functionName} (${location})`;
}

/** "main running at src/app.ts:12:7": asyncio's way of naming where a coroutine is. */
export function runningAt(frame: StackFrame): string {
  return `${frame.functionName ?? "<anonymous>"} running at ${shortenPath(frame.location ?? frame.text)}`;
}

/** file:///home/me/app/src/x.ts:3:5 → src/x.ts:3:5 relative to the working directory, when under it. */
export function shortenPath(location: string): string {
  let out = location.startsWith("file://") ? location.slice("file://".length) : location;
  const cwd = typeof process === "object" && typeof process.cwd === "function" ? process.cwd() : "";
  if (cwd !== "" && out.startsWith(`${cwd}/`)) out = out.slice(cwd.length + 1);
  return out;
}

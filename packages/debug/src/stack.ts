/**
 * Reading the stacks that debug mode keeps (`future.creationStack()`,
 * `task.suspensionStack()`): which frame is the user's code, and which is the coroutine.
 */

// Frames inside @loop itself, the engine's generator trampolines and Node's internals: a
// report points past them, at the code the user wrote.
const LIBRARY_FRAME = /\/packages\/(?:core|timers|sync|net|debug|testing|workers)\/(?:src|dist)\/|[/\\]@loop[/\\]|\(<anonymous>\)|\(node:|^at node:/;

function frames(stack: string): string[] {
  const lines = stack.split("\n");
  const out: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line.startsWith("at ")) out.push(line.slice(3));
  }
  return out;
}

/** The first frame outside @loop, "fn (file:line:col)" or "file:line:col"; undefined if none. */
export function userFrame(stack: string | undefined): string | undefined {
  if (stack === undefined) return undefined;
  for (const frame of frames(stack)) if (!LIBRARY_FRAME.test(`at ${frame}`)) return frame;
  return undefined;
}

/** A frame's location, without the function name: "file:line:col". */
export function frameLocation(frame: string): string {
  const match = /\((.*)\)$/.exec(frame);
  return shortenPath(match === null ? frame : (match[1] as string));
}

/** A frame's function name, or undefined for an anonymous frame. */
export function frameFunction(frame: string): string | undefined {
  const match = /^(.*?) \(.*\)$/.exec(frame);
  return match === null ? undefined : (match[1] as string);
}

/**
 * The coroutine a task runs, read from a stack captured during one of its steps: the
 * outermost generator frame, the one `Task._run` resumed ("main (file:3:5)").
 */
export function coroutineFrame(stack: string | undefined): string | undefined {
  if (stack === undefined) return undefined;
  const list = frames(stack);
  const run = list.findIndex((f) => f.startsWith("Task._run "));
  if (run < 0) return undefined;
  for (let i = run - 1; i >= 0; i--) {
    const frame = list[i] as string;
    if (!frame.endsWith("(<anonymous>)") && !frame.startsWith("Generator.")) return frame;
  }
  return undefined;
}

/** file:///home/me/app/src/x.ts:3:5 → src/x.ts:3:5 relative to the working directory, when under it. */
export function shortenPath(location: string): string {
  let out = location.startsWith("file://") ? location.slice("file://".length) : location;
  const cwd = typeof process === "object" && typeof process.cwd === "function" ? process.cwd() : "";
  if (cwd !== "" && out.startsWith(`${cwd}/`)) out = out.slice(cwd.length + 1);
  return out;
}

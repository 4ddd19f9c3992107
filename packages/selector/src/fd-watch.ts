import { getRunningLoop } from "@loop/core";
import { checkFd } from "./check.js";
import { nativeLoadError, native } from "./native.js";
import { SelectorPoller } from "./selector-poller.js";

/** True when the native selector loaded in this thread (else SelectorPoller falls back to Node's driver). */
export function selectorAvailable(): boolean {
  return native !== null;
}

/** Why the native selector is not available, or null when it is. */
export function selectorUnavailableReason(): string | null {
  // Stryker disable next-line OptionalChaining,StringLiteral: native is null only when loading failed, and that failure is nativeLoadError
  return native === null ? (nativeLoadError?.message ?? "unknown") : null;
}

function runningSelector(where: string): SelectorPoller {
  const poller = getRunningLoop().poller;
  if (!(poller instanceof SelectorPoller)) throw new Error(`${where}: the running loop's poller is "${poller.name}"; run the loop with { poller: new SelectorPoller() } to watch file descriptors`);
  return poller;
}

/**
 * asyncio's `loop.add_reader(fd, callback, *args)` on the running loop, which must run on
 * a `SelectorPoller`: `callback(...args)` runs in a loop callback whenever `fd` is readable.
 * @example
 * const [readEnd] = pipeFds; // any non-blocking descriptor, e.g. one end of a pipe
 * addReader(readEnd, () => console.log("readable"));
 */
export function addReader<A extends unknown[]>(fd: number, callback: (...args: A) => unknown, ...args: A): void {
  checkFd("addReader", fd);
  runningSelector("addReader").addReader(fd, callback, ...args);
}

/** asyncio's `loop.remove_reader(fd)` on the running loop; true if a reader was registered. */
export function removeReader(fd: number): boolean {
  checkFd("removeReader", fd);
  return runningSelector("removeReader").removeReader(fd);
}

/** asyncio's `loop.add_writer(fd, callback, *args)` on the running loop. */
export function addWriter<A extends unknown[]>(fd: number, callback: (...args: A) => unknown, ...args: A): void {
  checkFd("addWriter", fd);
  runningSelector("addWriter").addWriter(fd, callback, ...args);
}

/** asyncio's `loop.remove_writer(fd)` on the running loop; true if a writer was registered. */
export function removeWriter(fd: number): boolean {
  checkFd("removeWriter", fd);
  return runningSelector("removeWriter").removeWriter(fd);
}

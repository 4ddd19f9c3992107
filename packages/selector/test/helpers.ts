import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { ensureFuture, type Coroutine } from "@loop/core";
import { openConnection } from "@loop/net";
import { expect } from "vitest";
import { SelectorPoller } from "../src/index.js";
import { openFds } from "./native-available.js";
import { fdCountHolds } from "./fds.js";

/** Every descriptor the native selector holds (sockets, listeners, watched fds) in this thread. */
export function nativeOpen(): number {
  const poller = new SelectorPoller();
  poller.close();
  return (poller as unknown as { _reactor: { native: { stats(): number[] } } })._reactor.native.stats()[0] as number;
}

/** Waits a bounded number of macrotask turns for the selector's descriptors to be gone, then asserts it. */
export async function expectNoOpenDescriptors(fdsAtStart?: number): Promise<void> {
  for (let i = 0; i < 50 && nativeOpen() !== 0; i++) await new Promise((resolve) => setImmediate(resolve));
  expect(nativeOpen()).toBe(0);
  if (fdsAtStart !== undefined && fdCountHolds) {
    for (let i = 0; i < 50 && openFds() > fdsAtStart; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(openFds()).toBeLessThanOrEqual(fdsAtStart);
  }
}

/**
 * A port where a connect hangs: a listener with a backlog of 0 that never accepts (a
 * Python one-liner), whose queue one connection fills, so the kernel drops the next SYN.
 */
export function* blackhole(): Coroutine<{ host: string; port: number; cleanup: () => Coroutine<void> }> {
  // eslint-disable-next-line @loop/no-blocking-in-coroutine -- a one-off check for python3 before the test starts any connection
  if (spawnSync("python3", ["--version"]).status !== 0) {
    throw new Error("python3 is needed for the connect-timeout tests over real sockets (a listener that never accepts): apt-get install python3");
  }
  const child: ChildProcess = spawn("python3", ["-c", "import socket,sys\ns=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(0)\nprint(s.getsockname()[1], flush=True)\nsys.stdin.read()"], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const port = yield* ensureFuture(
    new Promise<number>((resolve, reject) => {
      child.once("error", reject);
      child.stdout!.once("data", (data: Buffer) => resolve(Number(String(data).trim())));
    }),
  );
  const [, filler] = yield* openConnection("127.0.0.1", port);
  return {
    host: "127.0.0.1",
    port,
    *cleanup() {
      filler.transport.abort();
      child.stdin!.end();
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill();
      yield* ensureFuture(exited);
    },
  };
}

/** The addon's counters: [descriptors open, poll handle ref'd, loop timer armed, idle handle active]. */
export function nativeStats(): number[] {
  const poller = new SelectorPoller();
  poller.close();
  return (poller as unknown as { _reactor: { native: { stats(): number[] } } })._reactor.native.stats();
}

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import type { Socket } from "node:net";
import { ensureFuture, run, type Coroutine } from "@loop/core";
import { afterAll } from "vitest";
import { openConnection, type StreamWriter } from "../src/index.js";
import { expectNoOpenSocketHandles } from "./node-handles.js";
import { streamSuite } from "./stream-suite.js";

/**
 * A port where a connect hangs: a listener with a backlog of 0 that never accepts (a
 * Python one-liner; Node always accepts), whose queue one connection fills, so the
 * kernel drops the next SYN.
 */
function* blackhole(): Coroutine<{ host: string; port: number; cleanup: () => Coroutine<void> }> {
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

streamSuite({
  name: "real sockets on 127.0.0.1",
  host: "127.0.0.1",
  unknownHost: "no-such-host.invalid",
  run<T>(main: () => Coroutine<T>): Promise<T> {
    return run(main);
  },
  resetConnection(writer: StreamWriter): void {
    writer.getExtraInfo<Socket>("socket")!.resetAndDestroy();
  },
  unreachable: blackhole,
  *tick(): Coroutine<void> {
    yield;
  },
  expectNoOpenHandles: expectNoOpenSocketHandles,
});

afterAll(async () => {
  await expectNoOpenSocketHandles();
});

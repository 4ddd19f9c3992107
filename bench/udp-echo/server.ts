/**
 * One echo server of the udp-echo benchmark, in its own process so that its CPU time is its
 * own: `node server.ts <variant>` with variant `node-dgram` (raw node:dgram 'message'
 * callbacks), `loop-protocol` (@loop/net's createDatagramEndpoint with a DatagramProtocol)
 * or `loop-socket` (openDatagramSocket, a coroutine doing recv/send). It prints its port,
 * then answers `start` (mark the CPU clock) and `report` (CPU µs since the mark, total and
 * user, as JSON) on stdin.
 */
import * as dgram from "node:dgram";
import { createInterface } from "node:readline";
import { createTask, ensureFuture, run, type Coroutine, type DatagramAddress, type DatagramTransport } from "@loop/core";
import { createDatagramEndpoint, openDatagramSocket } from "@loop/net";

const variant = process.argv[2] ?? "loop-protocol";
let cpuMark = process.cpuUsage();

function commands(onEnd: () => void): void {
  const lines = createInterface({ input: process.stdin });
  lines.on("line", (line) => {
    if (line === "start") {
      cpuMark = process.cpuUsage();
      process.stdout.write("ok\n");
    } else if (line === "report") {
      const used = process.cpuUsage(cpuMark);
      process.stdout.write(`${JSON.stringify({ cpuUs: used.user + used.system, userUs: used.user })}\n`);
    }
  });
  lines.on("close", onEnd);
}

if (variant === "node-dgram") {
  const socket = dgram.createSocket("udp4");
  socket.on("message", (data, rinfo) => socket.send(data, rinfo.port, rinfo.address));
  socket.bind(0, "127.0.0.1", () => process.stdout.write(`${socket.address().port}\n`));
  commands(() => socket.close(() => process.exit(0)));
} else if (variant === "loop-socket") {
  await run(function* () {
    const socket = yield* openDatagramSocket({ localAddr: ["127.0.0.1", 0] });
    process.stdout.write(`${socket.address().port}\n`);
    const serving = createTask(
      (function* (): Coroutine<void> {
        for (;;) {
          const [data, addr] = yield* socket.recv();
          yield* socket.send(data, addr);
        }
      })(),
    );
    yield* ensureFuture(new Promise<void>((resolve) => commands(resolve)));
    serving.cancel();
    socket.close();
  });
  process.exit(0);
} else {
  await run(function* () {
    let transport: DatagramTransport | null = null;
    const [endpoint] = yield* createDatagramEndpoint(
      () => ({
        connectionMade(t: DatagramTransport) {
          transport = t;
        },
        datagramReceived(data: Uint8Array, addr: DatagramAddress) {
          (transport as DatagramTransport).sendto(data, addr);
        },
      }),
      { localAddr: ["127.0.0.1", 0] },
    );
    const [, port] = endpoint.getExtraInfo<DatagramAddress>("sockname", ["", 0]) as DatagramAddress;
    process.stdout.write(`${port}\n`);
    yield* ensureFuture(new Promise<void>((resolve) => commands(resolve)));
    endpoint.close();
  });
  process.exit(0);
}

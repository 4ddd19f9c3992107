/**
 * The per-request cost of the stream layer, in one process, side by side: one loopback
 * connection, 2,000 sequential 1 KiB round trips per round (the client waits for each
 * echo), the same raw node:net client against three echo servers — raw node:net 'data'
 * callbacks, node:net `for await`, and @loop/net streams on the default poller. Reports
 * the process CPU (both ends) and the wall time per round trip, medians of 7 rounds after
 * warm-up. The multi-process throughput figures are in net-echo.bench.ts.
 *
 *   pnpm --filter @loop/bench bench -- net-roundtrip
 */
import * as net from "node:net";
import { ensureFuture, run, type Coroutine } from "@loop/core";
import { startServer, type StreamReader, type StreamWriter } from "@loop/net";
import { cpuSince, measure, printTable, type Sample } from "../lib/report.ts";

const ROUND_TRIPS = 2_000;
const MESSAGE = Buffer.alloc(1024, 120);

/** The raw client: `count` round trips of one message on a fresh connection. */
function roundTrips(port: number, count: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: "127.0.0.1", noDelay: true }, () => socket.write(MESSAGE));
    let pending = MESSAGE.length;
    let done = 0;
    socket.on("data", (chunk: Buffer) => {
      pending -= chunk.length;
      if (pending > 0) return;
      if (++done === count) {
        socket.end();
        resolve();
        return;
      }
      pending = MESSAGE.length;
      socket.write(MESSAGE);
    });
    socket.on("error", reject);
  });
}

interface Costs {
  cpu: Sample;
  wall: Sample;
}

async function measureServer(name: string, port: number): Promise<Costs> {
  const wall: number[] = [];
  const cpu = await measure(name, async () => {
    const cpuStart = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await roundTrips(port, ROUND_TRIPS);
    wall.push(Number(process.hrtime.bigint() - t0) / ROUND_TRIPS / 1000);
    return cpuSince(cpuStart) / ROUND_TRIPS / 1000;
  });
  return { cpu, wall: { name, values: wall.slice(-cpu.values.length) } };
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port)));
}

const results: Costs[] = [];

{
  const server = net.createServer({ noDelay: true }, (socket) => {
    socket.on("data", (data) => socket.write(data));
    socket.on("error", () => socket.destroy());
  });
  results.push(await measureServer("node:net 'data' callbacks", await listen(server)));
  server.close();
}

{
  const server = net.createServer({ noDelay: true }, (socket) => {
    socket.on("error", () => socket.destroy());
    void (async () => {
      for await (const data of socket) socket.write(data as Buffer);
    })().catch(() => socket.destroy());
  });
  results.push(await measureServer("node:net for await", await listen(server)));
  server.close();
}

{
  function* echo(reader: StreamReader, writer: StreamWriter): Coroutine<void> {
    for (;;) {
      const data = yield* reader.read(65_536);
      if (data.length === 0) return;
      writer.write(data);
      yield* writer.drain();
    }
  }
  await run(function* () {
    const server = yield* startServer(echo, "127.0.0.1", 0);
    const port = (server.address() as net.AddressInfo).port;
    results.push(yield* ensureFuture(measureServer("@loop/net streams", port)));
    server.close();
    yield* server.waitClosed();
  });
}

printTable("1 KiB echo round trip, process CPU (client + server)", "µs per round trip", results.map((r) => r.cpu), "node:net 'data' callbacks");
printTable("1 KiB echo round trip, wall time", "µs per round trip", results.map((r) => r.wall), "node:net 'data' callbacks");

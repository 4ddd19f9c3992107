import { Buffer } from "node:buffer";
import { CancelledError, getRunningLoop, TimeoutError, type Coroutine } from "@loop/core";
import { openConnection, startServer, type StreamReader, type StreamWriter } from "@loop/net";
import { MemoryNetwork, runVirtual } from "@loop/testing";
import { sleep, waitFor } from "@loop/timers";
import type { Scenario } from "../scenario.js";

/** A line-echo service, standing for a database. */
function* service(reader: StreamReader, writer: StreamWriter): Coroutine<void> {
  try {
    for (;;) {
      const line = yield* reader.readline();
      if (line.length === 0) return;
      writer.write(`ok ${Buffer.from(line).toString()}`);
      yield* writer.drain();
    }
  } catch (error) {
    // A reset ends this connection and the server goes on; a cancellation (the server
    // closing) must still end the handler as cancelled.
    if (error instanceof CancelledError) throw error;
  }
}

/**
 * A client of a service across an unreliable network, run on the in-memory network in
 * virtual time: 40 ms of latency each way, a partition from t=1 s to t=4 s, and a reset at
 * t=6 s. Each request has a 500 ms deadline; on a timeout or a reset the client
 * reconnects. Seven seconds of network trouble take a few milliseconds of real time, and
 * every run prints the same timeline.
 */
export function* flakyNetwork(print: (line: string) => void): Coroutine<number> {
  const loop = getRunningLoop();
  const network = loop.poller.net as MemoryNetwork;
  const at = (): string => `t=${(loop.time() / 1000).toFixed(3)}s`;
  const server = yield* startServer(service, "db", 5432);
  loop.callAt(1_000, () => (network.partition("localhost", "db"), print(`${at()}  -- partition between app and db`)));
  loop.callAt(4_000, () => (network.heal(), print(`${at()}  -- partition healed`)));
  loop.callAt(6_000, () => print(`${at()}  -- db resets ${network.reset("db")} connection(s)`));

  let connection: [StreamReader, StreamWriter] | null = null;
  let answered = 0;
  for (let request = 1; loop.time() < 7_000; request++) {
    try {
      if (connection === null) {
        connection = yield* openConnection("db", 5432, { timeout: 500 });
        print(`${at()}  connected`);
      }
      const [reader, writer] = connection;
      writer.write(`request ${request}\n`);
      const reply = yield* waitFor(reader.readline(), 500);
      if (reply.length === 0) throw new Error("connection closed");
      answered++;
      print(`${at()}  ${Buffer.from(reply).toString().trim()}`);
      yield* sleep(400);
    } catch (error) {
      // A failed request reconnects; a cancelled client stops.
      if (error instanceof CancelledError) throw error;
      const why = error instanceof TimeoutError ? "timed out" : ((error as { code?: string }).code ?? String(error));
      print(`${at()}  request ${request} failed: ${why}; reconnecting`);
      connection?.[1].transport.abort();
      connection = null;
      yield* sleep(200);
    }
  }
  connection?.[1].close();
  server.close();
  server.abortClients();
  yield* server.waitClosed();
  return answered;
}

export const flakyNetworkScenario: Scenario = {
  name: "flaky-network",
  description: "a client riding out latency, a partition and a reset on the in-memory network, in virtual time",
  async run() {
    const network = new MemoryNetwork({ latency: 40 });
    network.addHost("db");
    const started = performance.now();
    const answered = await runVirtual(() => flakyNetwork((line) => console.log(line)), { net: network });
    console.log(`${answered} requests answered over 7 s of virtual time, in ${(performance.now() - started).toFixed(0)} ms of real time`);
  },
};

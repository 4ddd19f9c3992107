/**
 * The datagram stop: UDP with @loop/net.
 *
 *   npm run demo -- udp-echo
 *
 * First on real sockets: an echo server written as an asyncio-style DatagramProtocol, a
 * client written as a coroutine over openDatagramSocket, and a datagram too large to send
 * (an errorReceived, not a crash). Then the same kind of client across a lossy in-memory
 * network in virtual time: loss, duplicates and reordering drawn from a seed, a request
 * that retries after a timeout and ignores stale and duplicate replies. The second half
 * prints the same timeline on every run.
 */
import { Buffer } from "node:buffer";
import { getRunningLoop, run, TimeoutError, type Coroutine, type DatagramAddress, type DatagramTransport } from "@loop/core";
import { createDatagramEndpoint, openDatagramSocket, type DatagramSocket } from "@loop/net";
import { MemoryNetwork, runVirtual } from "@loop/testing";
import { waitFor } from "@loop/timers";
import type { Scenario } from "../scenario.js";

const text = (data: Uint8Array): string => Buffer.from(data).toString();

/** An echo server as asyncio writes one: a protocol whose datagramReceived sends the datagram back. */
function* startEchoServer(host: string, port: number): Coroutine<DatagramTransport> {
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
    { localAddr: [host, port] },
  );
  return endpoint;
}

/** Real sockets on 127.0.0.1: a few pings, then a datagram too large for UDP. */
export function* realSockets(print: (line: string) => void): Coroutine<void> {
  const loop = getRunningLoop();
  const server = yield* startEchoServer("127.0.0.1", 0);
  const serverAddr = server.getExtraInfo<DatagramAddress>("sockname", ["", 0]) as DatagramAddress;
  const client = yield* openDatagramSocket({ remoteAddr: serverAddr });
  try {
    print(`echo server on udp://127.0.0.1:${serverAddr[1]}, client on port ${client.address().port}`);
    for (let i = 1; i <= 3; i++) {
      const sent = loop.time();
      yield* client.send(`ping ${i}`);
      const [reply] = yield* waitFor(client.recv(), 1_000);
      print(`  ${text(reply)} came back in ${(loop.time() - sent).toFixed(2)} ms`);
    }
    yield* client.send(new Uint8Array(70_000));
    try {
      yield* waitFor(client.recv(), 1_000);
    } catch (error) {
      print(`  a 70,000-byte datagram: ${(error as { code?: string }).code ?? String(error)} (reported to the socket, which goes on)`);
    }
    yield* client.send("ping 4");
    print(`  ${text((yield* waitFor(client.recv(), 1_000))[0])} came back`);
  } finally {
    client.close();
    server.close();
  }
}

/**
 * One request with retries: send `request` (tagged with its sequence number), wait up to
 * `timeoutMs` for the reply carrying that number, resend on a timeout. Replies to earlier
 * attempts or earlier requests (duplicates, late arrivals) are skipped.
 */
function* ask(socket: DatagramSocket, seq: number, request: string, timeoutMs: number, tries: number): Coroutine<{ reply: string; attempts: number }> {
  const loop = getRunningLoop();
  for (let attempt = 1; attempt <= tries; attempt++) {
    yield* socket.send(`${seq} ${request}`);
    const deadline = loop.time() + timeoutMs;
    try {
      for (;;) {
        const [data] = yield* waitFor(socket.recv(), Math.max(0, deadline - loop.time()));
        const [tag, ...rest] = text(data).split(" ");
        if (Number(tag) === seq) return { reply: rest.join(" "), attempts: attempt };
      }
    } catch (error) {
      if (!(error instanceof TimeoutError)) throw error;
    }
  }
  throw new TimeoutError(`request ${seq} got no reply after ${tries} tries`);
}

/** Ten requests across a network that loses 25 %, duplicates 15 % and reorders 30 % of datagrams. */
export function* lossyNetwork(print: (line: string) => void): Coroutine<{ answered: number; resends: number }> {
  const loop = getRunningLoop();
  const network = loop.poller.net as MemoryNetwork;
  const server = yield* startEchoServer("echo", 7);
  const client = yield* openDatagramSocket({ remoteAddr: ["echo", 7] });
  let answered = 0;
  let resends = 0;
  try {
    for (let seq = 1; seq <= 10; seq++) {
      try {
        const { reply, attempts } = yield* ask(client, seq, `request ${seq}`, 100, 3);
        answered++;
        resends += attempts - 1;
        print(`t=${String(Math.round(loop.time())).padStart(4)} ms  ${reply}${attempts > 1 ? `  (after ${attempts} tries)` : ""}`);
      } catch (error) {
        if (!(error instanceof TimeoutError)) throw error;
        print(`t=${String(Math.round(loop.time())).padStart(4)} ms  ${error.message}`);
      }
    }
  } finally {
    client.close();
    server.close();
  }
  const { sent, delivered } = network.datagramStats;
  print(`${sent} datagrams sent, ${delivered} delivered (losses and duplicates), ${resends} resends, all in virtual time`);
  return { answered, resends };
}

export const udpEcho: Scenario = {
  name: "udp-echo",
  description: "UDP: a DatagramProtocol echo server, a coroutine client, and retries across a lossy in-memory network",
  async run() {
    await run(realSockets((line) => console.log(line)));
    console.log("\nacross a lossy network (MemoryNetwork, seed 7: 25 % loss, 15 % duplicates, 30 % reordered, 20 ms latency):");
    const network = new MemoryNetwork({ latency: 20, datagrams: { loss: 0.25, duplicate: 0.15, reorder: 0.3, reorderWindow: 30, seed: 7 } });
    network.addHost("echo");
    await runVirtual(lossyNetwork((line) => console.log(`  ${line}`)), { net: network });
  },
};

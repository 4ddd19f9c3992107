import { run } from "@loop/core";
import { MemoryNetwork, runVirtual } from "@loop/testing";
import { expect, test } from "vitest";
import { lossyNetwork, realSockets } from "../src/scenarios/udp-echo.js";

test("on real sockets: pings come back, a datagram too large is reported and the socket goes on", async () => {
  const lines: string[] = [];
  await run(realSockets((line) => lines.push(line)));
  expect(lines[0]).toMatch(/^echo server on udp:\/\/127\.0\.0\.1:\d+, client on port \d+$/);
  expect(lines.slice(1, 4).map((l) => l.replace(/[\d.]+ ms/, "N ms"))).toEqual(["  ping 1 came back in N ms", "  ping 2 came back in N ms", "  ping 3 came back in N ms"]);
  expect(lines.slice(4)).toEqual(["  a 70,000-byte datagram: EMSGSIZE (reported to the socket, which goes on)", "  ping 4 came back"]);
});

test("across a lossy network every request is answered after retries, and the same seed replays the same timeline", async () => {
  const once = async (): Promise<{ lines: string[]; answered: number; resends: number }> => {
    const network = new MemoryNetwork({ latency: 20, datagrams: { loss: 0.25, duplicate: 0.15, reorder: 0.3, reorderWindow: 30, seed: 7 } });
    network.addHost("echo");
    const lines: string[] = [];
    const result = await runVirtual(lossyNetwork((line) => lines.push(line)), { net: network });
    expect(network.openDatagramEndpoints).toBe(0);
    return { lines, ...result };
  };
  const first = await once();
  expect(first.answered).toBe(10);
  expect(first.resends).toBeGreaterThan(0);
  expect(first.lines.filter((l) => /request \d+/.test(l))).toHaveLength(10);
  expect(first.lines.at(-1)).toMatch(/^\d+ datagrams sent, \d+ delivered \(losses and duplicates\), \d+ resends, all in virtual time$/);
  expect((await once()).lines).toEqual(first.lines);
});

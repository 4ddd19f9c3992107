/** UDP over @loop/testing's MemoryNetwork: virtual time, seeded loss, duplication, reordering, delay. */
import { CancelledError, createTask, getRunningLoop, type Coroutine, type DatagramAddress } from "@loop/core";
import { MemoryNetwork, runVirtual } from "@loop/testing";
import { Buffer } from "node:buffer";
import { describe, expect, it } from "vitest";
import { createDatagramEndpoint, openDatagramSocket, type DatagramSocket } from "../src/index.js";

const text = (data: Uint8Array): string => Buffer.from(data).toString();

/** Sends `count` numbered datagrams from a fresh socket to `to`, one per ms; returns what `receiver` got by `deadline`. */
function* traffic(receiver: DatagramSocket, to: DatagramAddress, count: number, deadline: number): Coroutine<string[]> {
  const loop = getRunningLoop();
  const sender = yield* openDatagramSocket({ localAddr: ["localhost", 0] });
  const got: string[] = [];
  const reading = createTask(
    (function* (): Coroutine<void> {
      for (;;) got.push(text((yield* receiver.recv())[0]));
    })(),
  );
  for (let i = 0; i < count; i++) {
    yield* sender.send(String(i), to);
    yield* sleep(1);
  }
  yield* sleep(deadline - loop.time());
  reading.cancel();
  sender.close();
  return got;
}

function* sleep(ms: number): Coroutine<void> {
  const loop = getRunningLoop();
  const f = loop.createFuture<void>();
  const t = loop.callLater(ms, () => f.setResult());
  try {
    yield* f;
  } finally {
    t.cancel();
  }
}

describe("datagrams on the in-memory network", () => {
  it("arrive after the link's latency, in virtual time, with the sender's address", async () => {
    const network = new MemoryNetwork({ latency: 20 });
    network.addHost("dns");
    await runVirtual(
      function* () {
        const loop = getRunningLoop();
        const server = yield* openDatagramSocket({ localAddr: ["dns", 53] });
        expect(server.address()).toEqual({ address: "dns", family: "IPv4", port: 53 });
        const client = yield* openDatagramSocket({ remoteAddr: ["dns", 53] });
        const clientAddr = client.transport.getExtraInfo<DatagramAddress>("sockname")!;
        yield* client.send("query");
        const [data, from] = yield* server.recv();
        expect([text(data), from, loop.time()]).toEqual(["query", clientAddr, 20]);
        yield* server.send("answer", from);
        const [reply] = yield* client.recv();
        expect([text(reply), loop.time()]).toEqual(["answer", 40]);
        client.close();
        server.close();
      },
      { net: network },
    );
    expect(network.openDatagramEndpoints).toBe(0);
    expect(network.datagramStats).toEqual({ sent: 2, delivered: 2 });
  });

  it("the same seed loses the same datagrams; another seed loses others", async () => {
    const lostWith = async (seed: number): Promise<string[]> => {
      const network = new MemoryNetwork({ latency: 1, datagrams: { loss: 0.3, seed } });
      return runVirtual(
        function* () {
          const receiver = yield* openDatagramSocket({ localAddr: ["localhost", 9000] });
          const got = yield* traffic(receiver, ["localhost", 9000], 40, 100);
          receiver.close();
          return got;
        },
        { net: network },
      );
    };
    const a = await lostWith(7);
    const b = await lostWith(7);
    const c = await lostWith(8);
    expect(a).toEqual(b);
    expect(a.length).toBeGreaterThan(10);
    expect(a.length).toBeLessThan(40);
    expect(c).not.toEqual(a);
    // Losses, not reordering: what arrives is in order.
    expect(a.map(Number)).toEqual([...a.map(Number)].sort((x, y) => x - y));
  });

  it("duplication delivers some datagrams twice; reordering lets later ones overtake", async () => {
    const network = new MemoryNetwork({ latency: 1, datagrams: { duplicate: 0.5, seed: 3 } });
    const duplicated = await runVirtual(
      function* () {
        const receiver = yield* openDatagramSocket({ localAddr: ["localhost", 9000] });
        const got = yield* traffic(receiver, ["localhost", 9000], 20, 100);
        receiver.close();
        return got;
      },
      { net: network },
    );
    expect(duplicated.length).toBeGreaterThan(20);
    expect(new Set(duplicated).size).toBe(20);

    network.setDatagramConditions({ duplicate: 0, reorder: 0.5, reorderWindow: 5, seed: 3 });
    const reordered = await runVirtual(
      function* () {
        const receiver = yield* openDatagramSocket({ localAddr: ["localhost", 9001] });
        const got = yield* traffic(receiver, ["localhost", 9001], 20, 100);
        receiver.close();
        return got;
      },
      { net: network },
    );
    expect([...reordered].sort((x, y) => Number(x) - Number(y))).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
    expect(reordered).not.toEqual([...reordered].sort((x, y) => Number(x) - Number(y)));
  });

  it("a network delay adds to the latency; a partition drops datagrams instead of holding them", async () => {
    const network = new MemoryNetwork({ latency: 5, datagrams: { delay: 10 } });
    network.addHost("far");
    await runVirtual(
      function* () {
        const loop = getRunningLoop();
        const receiver = yield* openDatagramSocket({ localAddr: ["far", 1] });
        const sender = yield* openDatagramSocket({ remoteAddr: ["far", 1] });
        yield* sender.send("a");
        yield* receiver.recv();
        expect(loop.time()).toBe(15);
        network.partition("localhost", "far");
        yield* sender.send("cut off");
        yield* sleep(100);
        network.heal();
        yield* sender.send("b");
        const [data] = yield* receiver.recv();
        expect(text(data)).toBe("b");
        sender.close();
        receiver.close();
      },
      { net: network },
    );
  });

  it("errors: EMSGSIZE for a datagram too large, ECONNREFUSED to a connected sender with nobody there, EADDRINUSE, ENOTFOUND", async () => {
    const network = new MemoryNetwork({ latency: 2 });
    await runVirtual(
      function* () {
        const socket = yield* openDatagramSocket({ remoteAddr: ["localhost", 4242] });
        yield* socket.send(new Uint8Array(65_508));
        yield* expectError(socket.recv(), "EMSGSIZE");
        yield* socket.send("anyone?");
        yield* expectError(socket.recv(), "ECONNREFUSED");
        expect(getRunningLoop().time()).toBe(4);
        const bound = socket.transport.getExtraInfo<DatagramAddress>("sockname")!;
        yield* expectError(openDatagramSocket({ localAddr: bound }), "EADDRINUSE");
        yield* expectError(openDatagramSocket({ remoteAddr: ["nowhere", 1] }), "ENOTFOUND");
        socket.close();
        try {
          yield* socket.send("x");
          expect.unreachable();
        } catch (error) {
          expect((error as Error).message).toMatch(/socket is closed/);
        }
      },
      { net: network },
    );
    expect(network.openDatagramEndpoints).toBe(0);
  });

  it("the receive queue is bounded in bytes: what does not fit is dropped and counted", async () => {
    const network = new MemoryNetwork();
    await runVirtual(
      function* () {
        const receiver = yield* openDatagramSocket({ localAddr: ["localhost", 7], limit: 10 });
        const sender = yield* openDatagramSocket({ remoteAddr: ["localhost", 7] });
        for (const d of ["aaaa", "bbbb", "cccc", "dd"]) yield* sender.send(d);
        yield* sleep(1);
        expect(receiver.queuedBytes).toBe(10);
        expect(receiver.dropped).toBe(1);
        const got: string[] = [];
        for (let i = 0; i < 3; i++) got.push(text((yield* receiver.recv())[0]));
        expect(got).toEqual(["aaaa", "bbbb", "dd"]);
        // One datagram over the limit still gets into an empty queue.
        yield* sender.send("x".repeat(50));
        expect(text((yield* receiver.recv())[0])).toHaveLength(50);
        sender.close();
        receiver.close();
      },
      { net: network },
    );
  });

  it("a recv() cancelled after being woken passes the datagram on: nothing is lost", async () => {
    const network = new MemoryNetwork();
    await runVirtual(
      function* () {
        const receiver = yield* openDatagramSocket({ localAddr: ["localhost", 7] });
        const sender = yield* openDatagramSocket({ remoteAddr: ["localhost", 7] });
        const first = createTask(receiver.recv());
        const second = createTask(receiver.recv());
        yield;
        yield* sender.send("only one");
        // The delivery timer wakes the first receiver; this timer, due at the same time and
        // scheduled after it, cancels that receiver before it runs.
        const loop = getRunningLoop();
        const delivered = loop.createFuture<void>();
        loop.callLater(0, () => {
          first.cancel();
          delivered.setResult();
        });
        yield* delivered;
        const [data] = yield* second;
        expect(text(data)).toBe("only one");
        try {
          yield* first;
          expect.unreachable();
        } catch (error) {
          expect(error).toBeInstanceOf(CancelledError);
        }
        sender.close();
        receiver.close();
      },
      { net: network },
    );
  });

  it("createDatagramEndpoint works on the in-memory network as on Node's", async () => {
    const network = new MemoryNetwork({ latency: 1 });
    await runVirtual(
      function* () {
        const loop = getRunningLoop();
        const lost = loop.createFuture<Error | null>();
        const received = loop.createFuture<[string, DatagramAddress]>();
        const [server] = yield* createDatagramEndpoint(
          () => ({
            datagramReceived: (data: Uint8Array, addr: DatagramAddress) => received.setResult([text(data), addr]),
            connectionLost: (e: Error | null) => lost.setResult(e),
          }),
          { localAddr: ["0.0.0.0", 0] },
        );
        const [host, port] = server.getExtraInfo<DatagramAddress>("sockname")!;
        expect(host).toBe("localhost");
        const [client] = yield* createDatagramEndpoint(() => ({ datagramReceived() {} }), {});
        client.sendto(Buffer.from("hi"), [host, port]);
        expect((yield* received)[0]).toBe("hi");
        server.close();
        expect(() => server.sendto(Buffer.from("x"), [host, port])).toThrow(/transport is closed/);
        expect(yield* lost).toBeNull();
        client.abort();
      },
      { net: network },
    );
    expect(network.openDatagramEndpoints).toBe(0);
  });

  it("checks its datagram conditions", () => {
    expect(() => new MemoryNetwork({ datagrams: { loss: 2 } })).toThrow(RangeError);
    expect(() => new MemoryNetwork().setDatagramConditions({ reorderWindow: -1 })).toThrow(/reorderWindow/);
    expect(() => new MemoryNetwork().setDatagramConditions({ seed: Number.NaN })).toThrow(/seed/);
  });
});

function* expectError(body: Coroutine<unknown>, code: string): Coroutine<void> {
  try {
    yield* body;
  } catch (error) {
    expect((error as NodeJS.ErrnoException).code).toBe(code);
    return;
  }
  throw new Error(`expected ${code}`);
}

/**
 * DatagramSocket's queue and its waiting recv() and send() calls, driven through a driver
 * the test plays by hand (datagram-fake-driver.ts): each datagram, error, pause, resume
 * and loss lands at the exact point of a turn the test picks.
 */
import { Buffer } from "node:buffer";
import { CancelledError, createTask, type Coroutine, type DatagramAddress, type DatagramProtocol, type Task } from "@loop/core";
import { runVirtual } from "@loop/testing";
import { describe, expect, it } from "vitest";
import { openDatagramSocket, type DatagramSocket, type DatagramSocketOptions } from "../src/index.js";
import { FakeDatagramNet, type FakeDatagramTransport } from "./datagram-fake-driver.js";

const PEER: DatagramAddress = ["10.0.0.9", 9];
const text = (data: Uint8Array): string => Buffer.from(data).toString();

/** Runs `body` with a socket on the fake network and the protocol the socket gave its driver. */
function withSocket<T>(body: (socket: DatagramSocket, protocol: DatagramProtocol, transport: FakeDatagramTransport) => Coroutine<T>, opts?: DatagramSocketOptions): Promise<T> {
  const net = new FakeDatagramNet();
  return runVirtual(
    function* () {
      const socket = yield* openDatagramSocket(opts);
      const transport = net.transports[0]!;
      const result = yield* body(socket, transport.protocol, transport);
      socket.close();
      return result;
    },
    { net },
  );
}

/** Runs the ready tasks a few turns. */
function* turns(n = 3): Coroutine<void> {
  for (let i = 0; i < n; i++) yield;
}

function* outcome<T>(task: Task<T>): Coroutine<T | string> {
  try {
    return yield* task;
  } catch (error) {
    return error instanceof CancelledError ? "cancelled" : `${(error as Error).constructor.name}: ${(error as Error).message}`;
  }
}

/** What a socket still holds for its waiters: nothing once none waits (so a long-lived socket does not grow). */
const held = (socket: DatagramSocket) => {
  const s = socket as unknown as { _receivers: unknown[]; _drainers: unknown[]; _items: unknown[] };
  return { receivers: s._receivers.length, drainers: s._drainers.length, items: s._items.length };
};

function* receive(socket: DatagramSocket): Coroutine<string> {
  return text((yield* socket.recv())[0]);
}

describe("DatagramSocket.recv()", () => {
  it("receivers are served in the order they began waiting, also past one cancelled in the turn a datagram woke the next", async () => {
    const got = await withSocket(function* (socket, protocol) {
      const [a, b, c, d] = [0, 1, 2, 3].map(() => createTask(receive(socket)));
      yield;
      expect(a!.waitingOn()!.label).toBe("DatagramSocket.recv");
      // A is cancelled while queued: the arrival must skip it, wake B, and leave C first in line.
      a!.cancel();
      protocol.datagramReceived(Buffer.from("1"), PEER);
      yield* turns();
      protocol.datagramReceived(Buffer.from("2"), PEER);
      yield* turns();
      const result = [yield* outcome(a!), yield* outcome(b!), yield* outcome(c!), d!.done()];
      expect(held(socket)).toEqual({ receivers: 1, drainers: 0, items: 0 });
      d!.cancel();
      return result;
    });
    expect(got).toEqual(["cancelled", "1", "2", false]);
  });

  it("a recv() cancelled while waiting leaves no waiter behind: a polling loop on a quiet socket does not grow it", async () => {
    await withSocket(function* (socket, protocol) {
      for (let i = 0; i < 3; i++) {
        const waiting = createTask(socket.recv());
        yield;
        waiting.cancel();
        expect(yield* outcome(waiting)).toBe("cancelled");
      }
      expect(held(socket)).toEqual({ receivers: 0, drainers: 0, items: 0 });
      protocol.datagramReceived(Buffer.from("later"), PEER);
      expect(yield* receive(socket)).toBe("later");
    });
  });

  it("queuedBytes counts what waits, and a datagram taken leaves the count and the queue", async () => {
    await withSocket(function* (socket, protocol) {
      protocol.datagramReceived(new Uint8Array(4), PEER);
      protocol.datagramReceived(new Uint8Array(6), PEER);
      expect(socket.queuedBytes).toBe(10);
      expect((yield* socket.recv())[0].byteLength).toBe(4);
      expect(socket.queuedBytes).toBe(6);
      expect((yield* socket.recv())[0].byteLength).toBe(6);
      expect(socket.queuedBytes).toBe(0);
      expect(held(socket)).toEqual({ receivers: 0, drainers: 0, items: 0 });
    });
  });

  it("an error is never dropped, not even behind a datagram larger than the limit", async () => {
    const boom = Object.assign(new Error("send failed"), { code: "EMSGSIZE" });
    await withSocket(
      function* (socket, protocol) {
        protocol.datagramReceived(new Uint8Array(50), PEER);
        protocol.errorReceived!(boom);
        protocol.datagramReceived(new Uint8Array(1), PEER);
        expect([socket.queuedBytes, socket.dropped]).toEqual([50, 1]);
        expect((yield* socket.recv())[0].byteLength).toBe(50);
        expect(yield* outcome(createTask(socket.recv()))).toBe("Error: send failed");
      },
      { limit: 10 },
    );
  });

  it("the transport's connectionLost ends a waiting recv() and later calls with the closed error", async () => {
    await withSocket(function* (socket, protocol) {
      const waiting = createTask(socket.recv());
      yield;
      protocol.connectionLost!(null);
      expect(yield* outcome(waiting)).toBe("Error: DatagramSocket.recv(): the socket is closed");
      expect(yield* outcome(createTask(socket.recv()))).toBe("Error: DatagramSocket.recv(): the socket is closed");
      expect(yield* outcome(createTask(socket.send("x", PEER)))).toBe("Error: DatagramSocket.send(): the socket is closed");
    });
  });

  it("what a driver delivers after close() is not queued", async () => {
    await withSocket(function* (socket, protocol) {
      socket.close();
      protocol.datagramReceived(new Uint8Array(5), PEER);
      protocol.errorReceived!(new Error("late"));
      expect([socket.queuedBytes, socket.dropped]).toEqual([0, 0]);
      expect(held(socket).items).toBe(0);
    });
  });
});

describe("DatagramSocket.send()", () => {
  it("waits while the transport is paused, labelled; resumeWriting wakes every waiting send", async () => {
    await withSocket(function* (socket, protocol, transport) {
      yield* socket.send("free", PEER);
      protocol.pauseWriting!();
      const one = createTask(socket.send("one", PEER));
      const two = createTask(socket.send("two", PEER));
      yield* turns();
      expect([one.done(), two.done()]).toEqual([false, false]);
      expect(one.waitingOn()!.label).toBe("DatagramSocket.send: waiting for the write buffer to drain");
      // The datagrams went to the transport at once; only the return waits.
      expect(transport.sent.map(([d]) => d)).toEqual(["free", "one", "two"]);
      protocol.resumeWriting!();
      yield* turns();
      expect([one.done(), two.done()]).toEqual([true, true]);
      expect(held(socket).drainers).toBe(0);
    });
  });

  it("a send cancelled while waiting leaves no waiter; one cancelled in the turn of the resume does not stop the others", async () => {
    await withSocket(function* (socket, protocol) {
      protocol.pauseWriting!();
      const cancelled = createTask(socket.send("a", PEER));
      yield;
      cancelled.cancel();
      expect(yield* outcome(cancelled)).toBe("cancelled");
      expect(held(socket).drainers).toBe(0);
      const first = createTask(socket.send("b", PEER));
      const second = createTask(socket.send("c", PEER));
      yield;
      first.cancel();
      protocol.resumeWriting!();
      yield* turns();
      expect([yield* outcome(first), second.done()]).toEqual(["cancelled", true]);
    });
  });

  it("a send woken by the resume, running after another began waiting, leaves that one's wait alone", async () => {
    await withSocket(function* (socket, protocol) {
      protocol.pauseWriting!();
      const first = createTask(socket.send("a", PEER));
      yield;
      // The second send's first step is queued before the first's wake-up: it sends while
      // paused again and starts waiting before the first send runs its clean-up.
      const second = createTask(socket.send("b", PEER));
      protocol.resumeWriting!();
      protocol.pauseWriting!();
      yield* turns();
      expect([first.done(), second.done()]).toEqual([false, false]);
      expect(held(socket).drainers).toBe(2);
      protocol.resumeWriting!();
      yield* turns();
      expect([first.done(), second.done()]).toEqual([true, true]);
    });
  });

  it("close() ends a send waiting for the drain with the closed error, also past one cancelled in the same turn", async () => {
    await withSocket(function* (socket, protocol) {
      protocol.pauseWriting!();
      const cancelled = createTask(socket.send("a", PEER));
      const waiting = createTask(socket.send("b", PEER));
      yield;
      cancelled.cancel();
      socket.close();
      yield* turns();
      expect([yield* outcome(cancelled), yield* outcome(waiting)]).toEqual(["cancelled", "Error: DatagramSocket.send(): the socket is closed"]);
    });
  });
});

describe("DatagramSocket.close() and address()", () => {
  it("close() closes the transport once, however often it is called", async () => {
    await withSocket(function* (socket, _protocol, transport) {
      socket.close();
      socket.close();
      yield* turns();
      socket.close();
      expect(transport.closeCalls).toBe(1);
    });
  });

  it("address() of a closed socket is an Error, not a TypeError from inside", async () => {
    await withSocket(function* (socket) {
      expect(socket.address()).toEqual({ address: "10.0.0.1", family: "IPv4", port: 5000 });
      socket.close();
      expect(() => socket.address()).toThrow(new Error("DatagramSocket.address(): the socket is closed"));
    });
  });
});

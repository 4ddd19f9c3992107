import { Buffer } from "node:buffer";
import { getRunningLoop, type Coroutine } from "@loop/core";
import { describe, expect, it } from "vitest";
import { MemoryNetwork, runVirtual } from "../src/index.js";
import { mulberry32 } from "../src/shuffle.js";

// Bad arguments fail at the call, naming the argument; datagram fates are drawn from the
// seed, one draw per condition that is set, so a seed replays exactly.

describe("MemoryNetwork's arguments", () => {
  it("the constructor takes an options object with a window of at least 1 byte and a non-empty localHost", () => {
    expect(() => new MemoryNetwork(null as never)).toThrow(new TypeError("new MemoryNetwork(opts): opts must be an object like { latency, bandwidth }"));
    expect(() => new MemoryNetwork(5 as never)).toThrow(TypeError);
    expect(new MemoryNetwork({ window: 1 }).window).toBe(1);
    expect(() => new MemoryNetwork({ window: 0.5 })).toThrow(new RangeError("new MemoryNetwork({ window }): window must be at least 1 byte, got 0.5"));
    const badHost = new TypeError("new MemoryNetwork({ localHost }): localHost must be a non-empty string");
    expect(() => new MemoryNetwork({ localHost: "" })).toThrow(badHost);
    expect(() => new MemoryNetwork({ localHost: 5 as never })).toThrow(badHost);
  });

  it("latency and bandwidth must be numbers, not numeric strings, with messages naming where", () => {
    expect(() => new MemoryNetwork({ latency: "5" as never })).toThrow(new RangeError("new MemoryNetwork: latency must be 0 or more milliseconds, got 5"));
    expect(() => new MemoryNetwork({ bandwidth: "5" as never })).toThrow(
      new RangeError("new MemoryNetwork: bandwidth must be a positive number of bytes per ms, got 5"),
    );
  });

  it("host names must be non-empty strings; host(localHost) is the network's own view", () => {
    const network = new MemoryNetwork({ localHost: "box" });
    expect(() => network.addHost(5 as never)).toThrow(new TypeError("MemoryNetwork.addHost(name): name must be a non-empty string"));
    expect(() => network.host("")).toThrow(new TypeError("MemoryNetwork.host(name): name must be a non-empty string"));
    expect(network.host("box")).toBe(network.host("box"));
  });

  it("datagram conditions are an object of probabilities from 0 to 1 inclusive", () => {
    const network = new MemoryNetwork();
    expect(() => network.setDatagramConditions(null as never)).toThrow(
      new TypeError("MemoryNetwork.setDatagramConditions(conditions): conditions must be an object like { loss, duplicate, reorder, seed }"),
    );
    expect(() => network.setDatagramConditions(5 as never)).toThrow(TypeError);
    expect(network.setDatagramConditions({ loss: 1, duplicate: 1, reorder: 1 })).toBe(network);
    expect(network.setDatagramConditions({ loss: 0, duplicate: 0, reorder: 0 })).toBe(network);
    expect(() => network.setDatagramConditions({ loss: -0.1 })).toThrow(new RangeError("MemoryNetwork datagrams: loss must be a probability from 0 to 1, got -0.1"));
    expect(() => network.setDatagramConditions({ duplicate: "0.5" as never })).toThrow(RangeError);
    expect(() => network.setDatagramConditions({ reorder: 1.5 })).toThrow(RangeError);
    expect(() => network.setDatagramConditions({ delay: "5" as never })).toThrow(new RangeError("MemoryNetwork datagrams: delay must be 0 or more milliseconds, got 5"));
    expect(() => network.setDatagramConditions({ seed: "1" as never })).toThrow(new RangeError("MemoryNetwork datagrams: seed must be a finite number, got 1"));
  });
});

/** The first `n` draws of the network's generator for `seed`. */
function draws(seed: number, n: number): number[] {
  const random = mulberry32(seed);
  return Array.from({ length: n }, () => random());
}

/** Sends datagrams "0".."n-1" at once from one endpoint to another; returns "i@ms" for each arrival, in order. */
function* sendAll(network: MemoryNetwork, n: number, from = 0): Coroutine<string[]> {
  const loop = getRunningLoop();
  const arrivals: string[] = [];
  const receiver = yield* network.datagram(loop, () => ({ datagramReceived: (data) => void arrivals.push(`${Buffer.from(data).toString()}@${loop.time() - start}`) }), {
    localAddr: ["localhost", 9000],
  });
  const sender = yield* network.datagram(loop, () => ({ datagramReceived() {} }), {});
  const start = loop.time();
  for (let i = from; i < from + n; i++) sender.sendto(Buffer.from(String(i)), ["localhost", 9000]);
  const done = loop.createFuture<void>();
  loop.callLater(20, () => done.setResult());
  yield* done;
  receiver.close();
  sender.close();
  return arrivals;
}

/** A probability exactly equal to one of the draws (a datagram at the boundary), with room either side. */
function boundary(values: number[]): { p: number; at: number } {
  const at = values.findIndex((v) => v > 0.25 && v < 0.75);
  return { p: values[at]!, at };
}

describe("MemoryNetwork datagram fates", () => {
  it("with loss alone, datagram i is lost exactly when draw i is under the loss probability (a draw equal to it is not)", async () => {
    const d = draws(7, 40);
    const { p, at } = boundary(d);
    const network = new MemoryNetwork({ datagrams: { seed: 7, loss: p } });
    const arrivals = await runVirtual(() => sendAll(network, 40));
    const expected = d.flatMap((v, i) => (v < p ? [] : [`${i}@0`]));
    expect(expected).toContain(`${at}@0`);
    expect(arrivals).toEqual(expected);
  });

  it("with duplication alone, datagram i arrives twice exactly when draw i is under the probability", async () => {
    const d = draws(11, 40);
    const { p } = boundary(d);
    const network = new MemoryNetwork({ datagrams: { seed: 11, duplicate: p } });
    const arrivals = await runVirtual(() => sendAll(network, 40));
    expect(arrivals).toEqual(d.flatMap((v, i) => (v < p ? [`${i}@0`, `${i}@0`] : [`${i}@0`])));
  });

  it("with reordering alone, a datagram whose draw is under the probability is held back by the next draw times the window", async () => {
    const d = draws(5, 80);
    const { p } = boundary(d);
    const network = new MemoryNetwork({ datagrams: { seed: 5, reorder: p, reorderWindow: 10 } });
    const arrivals = await runVirtual(() => sendAll(network, 30));
    const held: { i: number; at: number }[] = [];
    let k = 0;
    for (let i = 0; i < 30; i++) held.push({ i, at: d[k++]! < p ? d[k++]! * 10 : 0 });
    held.sort((a, b) => a.at - b.at || a.i - b.i);
    expect(arrivals).toEqual(held.map(({ i, at }) => `${i}@${at}`));
    expect(held.some(({ at }) => at > 0)).toBe(true);
  });

  it("new conditions without a seed go on with the same draws; a seed starts them over", async () => {
    const d = draws(3, 60);
    const network = new MemoryNetwork({ datagrams: { seed: 3, loss: 0.5 } });
    const lost = (values: number[], from: number) => values.flatMap((v, i) => (v < 0.5 ? [] : [`${from + i}@0`]));
    await runVirtual(function* () {
      expect(yield* sendAll(network, 20)).toEqual(lost(d.slice(0, 20), 0));
      network.setDatagramConditions({ loss: 0.5 });
      expect(yield* sendAll(network, 20, 20)).toEqual(lost(d.slice(20, 40), 20));
      network.setDatagramConditions({ seed: 3 });
      expect(yield* sendAll(network, 20)).toEqual(lost(d.slice(0, 20), 0));
    });
  });
});

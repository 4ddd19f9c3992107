/** createDatagramEndpoint and openDatagramSocket: bad arguments fail at the call, naming the argument; what opening says it waits for. */
import { createTask, getRunningLoop, type DatagramAddress, type DatagramOptions, type DatagramProtocol, type NetDriver } from "@loop/core";
import { runVirtual } from "@loop/testing";
import { describe, expect, it } from "vitest";
import { createDatagramEndpoint, openDatagramSocket, type DatagramSocketOptions } from "../src/index.js";
import { FakeDatagramNet } from "./datagram-fake-driver.js";

const factory = (): DatagramProtocol => ({ datagramReceived() {} });
const endpoint = (opts: unknown) => () => createDatagramEndpoint(factory, opts as DatagramOptions);
const socket = (opts: unknown) => () => openDatagramSocket(opts as DatagramSocketOptions);
const addr = (value: unknown) => value as DatagramAddress;

describe("createDatagramEndpoint checks its arguments at the call", () => {
  it("protocolFactory must be a function, and the error says what it got", () => {
    const where = "createDatagramEndpoint(protocolFactory, opts): protocolFactory must be a function returning a DatagramProtocol, got";
    expect(() => createDatagramEndpoint(null as never)).toThrow(new TypeError(`${where} null`));
    expect(() => createDatagramEndpoint("f" as never)).toThrow(new TypeError(`${where} "f"`));
    expect(() => createDatagramEndpoint(3 as never)).toThrow(new TypeError(`${where} number`));
  });

  it("opts may be left out; anything but an object is a TypeError", () => {
    expect(() => createDatagramEndpoint(factory)).not.toThrow();
    const message = "createDatagramEndpoint(…, opts): opts must be an object like { localAddr, remoteAddr, family }";
    expect(endpoint(null)).toThrow(new TypeError(message));
    expect(endpoint("opts")).toThrow(new TypeError(message));
  });

  it("an address is [host, port] with a non-empty host string", () => {
    const where = "createDatagramEndpoint({ localAddr }): the address must be [host, port] with a non-empty host, got";
    expect(endpoint({ localAddr: "127.0.0.1" })).toThrow(new TypeError(`${where} "127.0.0.1"`));
    expect(endpoint({ localAddr: null })).toThrow(new TypeError(`${where} null`));
    expect(endpoint({ localAddr: 53 })).toThrow(new TypeError(`${where} number`));
    expect(endpoint({ localAddr: ["127.0.0.1"] })).toThrow(new TypeError(`${where} ["127.0.0.1"]`));
    expect(endpoint({ localAddr: ["127.0.0.1", 53, 1] })).toThrow(new TypeError(`${where} ["127.0.0.1",53,1]`));
    expect(endpoint({ localAddr: [127, 53] })).toThrow(new TypeError(`${where} [127,53]`));
    expect(endpoint({ localAddr: ["", 53] })).toThrow(new TypeError(`${where} ["",53]`));
    expect(endpoint({ localAddr: ["h", 53] })).not.toThrow();
    const remote = "createDatagramEndpoint({ remoteAddr }): the address must be [host, port] with a non-empty host, got";
    expect(endpoint({ remoteAddr: ["", 53] })).toThrow(new TypeError(`${remote} ["",53]`));
  });

  it("a port is a number: a TypeError otherwise", () => {
    expect(endpoint({ localAddr: addr(["127.0.0.1", "53"]) })).toThrow(new TypeError('createDatagramEndpoint({ localAddr }): the port must be a number, got "53"'));
    expect(endpoint({ remoteAddr: addr(["127.0.0.1", null]) })).toThrow(new TypeError("createDatagramEndpoint({ remoteAddr }): the port must be a number, got null"));
  });

  it("a local port is an integer from 0 to 65535, a remote one from 1", () => {
    const local = (port: number) => `createDatagramEndpoint({ localAddr }): the port must be an integer from 0 to 65535, got ${port}`;
    expect(endpoint({ localAddr: ["127.0.0.1", -1] })).toThrow(new RangeError(local(-1)));
    expect(endpoint({ localAddr: ["127.0.0.1", 0] })).not.toThrow();
    expect(endpoint({ localAddr: ["127.0.0.1", 65535] })).not.toThrow();
    expect(endpoint({ localAddr: ["127.0.0.1", 65536] })).toThrow(new RangeError(local(65536)));
    expect(endpoint({ localAddr: ["127.0.0.1", 1.5] })).toThrow(new RangeError(local(1.5)));
    const remote = (port: number) => `createDatagramEndpoint({ remoteAddr }): the port must be an integer from 1 to 65535, got ${port}`;
    expect(endpoint({ remoteAddr: ["127.0.0.1", 0] })).toThrow(new RangeError(remote(0)));
    expect(endpoint({ remoteAddr: ["127.0.0.1", 1] })).not.toThrow();
    expect(endpoint({ remoteAddr: ["127.0.0.1", 65535] })).not.toThrow();
    expect(endpoint({ remoteAddr: ["127.0.0.1", 65536] })).toThrow(new RangeError(remote(65536)));
  });

  it("family is 4 or 6", () => {
    expect(endpoint({ family: 4 })).not.toThrow();
    expect(endpoint({ family: 6 })).not.toThrow();
    expect(endpoint({ family: 5 })).toThrow(new RangeError("createDatagramEndpoint({ family }): family must be 4 or 6, got number"));
    expect(endpoint({ family: "4" })).toThrow(new RangeError('createDatagramEndpoint({ family }): family must be 4 or 6, got "4"'));
  });

  it("reusePort and allowBroadcast are booleans", () => {
    for (const flag of ["reusePort", "allowBroadcast"]) {
      expect(endpoint({ [flag]: true })).not.toThrow();
      expect(endpoint({ [flag]: false })).not.toThrow();
      expect(endpoint({ [flag]: "yes" })).toThrow(new TypeError(`createDatagramEndpoint({ ${flag} }): ${flag} must be a boolean, got "yes"`));
      expect(endpoint({ [flag]: 1 })).toThrow(new TypeError(`createDatagramEndpoint({ ${flag} }): ${flag} must be a boolean, got number`));
    }
  });
});

describe("openDatagramSocket checks its arguments at the call", () => {
  it("opts may be left out; its errors name openDatagramSocket", () => {
    expect(() => openDatagramSocket()).not.toThrow();
    expect(socket(null)).toThrow(new TypeError("openDatagramSocket(…, opts): opts must be an object like { localAddr, remoteAddr, family }"));
    expect(socket({ remoteAddr: ["h", 0] })).toThrow(new RangeError("openDatagramSocket({ remoteAddr }): the port must be an integer from 1 to 65535, got 0"));
  });

  it("limit is a positive, finite number of bytes", () => {
    expect(socket({ limit: 1 })).not.toThrow();
    expect(socket({ limit: 0.5 })).not.toThrow();
    const range = (got: string) => `openDatagramSocket({ limit }): limit must be a positive number of bytes, got ${got}`;
    expect(socket({ limit: 0 })).toThrow(new RangeError(range("0")));
    expect(socket({ limit: -1 })).toThrow(new RangeError(range("-1")));
    expect(socket({ limit: Number.NaN })).toThrow(new RangeError(range("NaN")));
    expect(socket({ limit: Number.POSITIVE_INFINITY })).toThrow(new RangeError(range("Infinity")));
    expect(socket({ limit: "1024" })).toThrow(new TypeError("openDatagramSocket({ limit }): limit must be a number of bytes, got string"));
    expect(socket({ limit: 1024n })).toThrow(new TypeError("openDatagramSocket({ limit }): limit must be a number of bytes, got bigint"));
  });
});

describe("opening an endpoint", () => {
  it("a network driver without datagram() is an Error naming the caller", async () => {
    const noDatagrams: NetDriver = { connect: () => expect.unreachable(), listen: () => expect.unreachable() };
    const errors = await runVirtual(
      function* () {
        const seen: unknown[] = [];
        for (const open of [() => createDatagramEndpoint(factory), () => openDatagramSocket()]) {
          try {
            yield* open();
          } catch (error) {
            seen.push(error);
          }
        }
        return seen;
      },
      { net: noDatagrams },
    );
    expect(errors).toEqual([
      new Error("createDatagramEndpoint: the loop's network driver carries no datagrams (its NetDriver has no datagram method)"),
      new Error("openDatagramSocket: the loop's network driver carries no datagrams (its NetDriver has no datagram method)"),
    ]);
    expect(errors.map((e) => (e as Error).constructor)).toEqual([Error, Error]);
  });

  it("the wait for the driver is labelled with the addresses it opens", async () => {
    const net = new FakeDatagramNet(true);
    const labels = await runVirtual(
      function* () {
        const seen: (string | undefined)[] = [];
        const options: DatagramOptions[] = [{}, { localAddr: ["127.0.0.1", 0] }, { remoteAddr: ["10.0.0.2", 53] }, { localAddr: ["::1", 5353], remoteAddr: ["::2", 53] }];
        for (const opts of options) {
          const opening = createTask(createDatagramEndpoint(factory, opts));
          yield;
          seen.push(opening.waitingOn()!.label);
          net.opens.at(-1)!.open().close();
          yield* opening;
        }
        const opening = createTask(openDatagramSocket({ localAddr: ["127.0.0.1", 0] }));
        yield;
        seen.push(opening.waitingOn()!.label);
        net.opens.at(-1)!.open();
        (yield* opening).close();
        expect(getRunningLoop().time()).toBe(0);
        return seen;
      },
      { net },
    );
    expect(labels).toEqual([
      "createDatagramEndpoint on *",
      "createDatagramEndpoint on 127.0.0.1:0",
      "createDatagramEndpoint * to 10.0.0.2:53",
      "createDatagramEndpoint ::1:5353 to ::2:53",
      "openDatagramSocket",
    ]);
  });
});

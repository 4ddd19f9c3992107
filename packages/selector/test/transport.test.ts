import { ensureFuture, getRunningLoop, run, type BaseTransport, type Protocol, type Transport } from "@loop/core";
import { createConnection, createServer } from "@loop/net";
import { MessageChannel } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { SelectorPoller, SelectorTransport } from "../src/index.js";
import { expectNoOpenDescriptors } from "./helpers.js";
import { available } from "./native-available.js";

/** Logs what the transport tells it; keeps the connection half-open after EOF when asked. */
class Recorder implements Protocol {
  readonly log: string[] = [];
  transport: Transport | null = null;
  constructor(private readonly _keepOpen: boolean) {}
  connectionMade(transport: BaseTransport): void {
    this.transport = transport as Transport;
    this.log.push("made");
  }
  dataReceived(data: Uint8Array): void {
    this.log.push(`data ${Buffer.from(data).toString()}`);
  }
  eofReceived(): boolean {
    this.log.push("eof");
    return this._keepOpen;
  }
  connectionLost(error: Error | null): void {
    this.log.push(`lost ${error === null ? "null" : String((error as { code?: string }).code)}`);
  }
  /** The write buffer's size when pauseWriting/resumeWriting were called. */
  sizeAtPause = -1;
  sizeAtResume = -1;
  pauseWriting(): void {
    this.log.push("pause");
    if (this.sizeAtPause < 0) this.sizeAtPause = this.transport!.getWriteBufferSize();
  }
  resumeWriting(): void {
    this.log.push("resume");
    if (this.sizeAtResume < 0) this.sizeAtResume = this.transport!.getWriteBufferSize();
  }
}

describe.skipIf(!available)("the selector transport", () => {
  it("a protocol that keeps the connection after EOF hears eofReceived once, even if reading is paused and resumed after it", async () => {
    await run(
      function* () {
        const loop = getRunningLoop();
        const served: Recorder[] = [];
        const server = yield* createServer(
          () => {
            const r = new Recorder(false);
            served.push(r);
            return r;
          },
          "127.0.0.1",
          0,
        );
        const [transport, client] = yield* createConnection(() => new Recorder(true), "127.0.0.1", (server.address() as { port: number }).port);
        expect(transport).toBeInstanceOf(SelectorTransport);
        while (served.length === 0 || served[0]!.log.length === 0) yield;
        served[0]!.transport!.write(Buffer.from("bye"));
        served[0]!.transport!.writeEof();
        while (!client.log.includes("eof")) yield;
        transport.pauseReading();
        transport.resumeReading();
        // Let the host loop turn (and the selector harvest) a few times.
        for (let i = 0; i < 5; i++) yield* ensureFuture(new Promise((resolve) => setImmediate(resolve)));
        expect(client.log).toEqual(["made", "data bye", "eof"]);
        // Half-open: our side still writes, and the server reads it.
        transport.write(Buffer.from("still here"));
        while (!served[0]!.log.some((entry) => entry.startsWith("data still"))) yield;
        transport.close();
        while (client.log.at(-1)?.startsWith("lost") !== true) yield;
        expect(client.log.at(-1)).toBe("lost null");
        server.close();
        server.closeClients();
        yield* server.waitClosed();
        expect(loop.isClosed()).toBe(false);
      },
      { poller: new SelectorPoller() },
    );
    await expectNoOpenDescriptors();
  });

  it("pauseWriting past the high-water mark and resumeWriting once the peer reads it down, with the buffer size the addon reports", async () => {
    await run(
      function* () {
        const served: Recorder[] = [];
        const server = yield* createServer(
          () => {
            const r = new Recorder(false);
            served.push(r);
            return r;
          },
          "127.0.0.1",
          0,
        );
        const [transport, client] = yield* createConnection(() => new Recorder(false), "127.0.0.1", (server.address() as { port: number }).port);
        while (served.length === 0) yield;
        served[0]!.transport!.pauseReading(); // the peer stops reading: the kernel buffers fill
        transport.setWriteBufferLimits(64 * 1024, 16 * 1024);
        const chunk = Buffer.alloc(32 * 1024, 1);
        let writes = 0;
        while (!client.log.includes("pause") && writes < 10_000) {
          transport.write(chunk);
          writes++;
          yield;
        }
        expect(client.log).toContain("pause");
        // Read at the calls themselves: once the task yields, the addon may flush the buffer
        // into the kernel (whose own buffer grows) before the task looks again.
        expect(client.sizeAtPause).toBeGreaterThan(64 * 1024);
        served[0]!.transport!.resumeReading();
        while (!client.log.includes("resume")) yield;
        expect(client.sizeAtResume).toBeGreaterThanOrEqual(0);
        expect(client.sizeAtResume).toBeLessThanOrEqual(16 * 1024);
        transport.abort();
        server.close();
        server.abortClients();
        yield* server.waitClosed();
      },
      { poller: new SelectorPoller() },
    );
    await expectNoOpenDescriptors();
  });

  it("keeps its rarely used state apart yet answers as before: limits, extra info, bytes held while paused", async () => {
    await run(
      function* () {
        const served: Recorder[] = [];
        const server = yield* createServer(
          () => {
            const r = new Recorder(false);
            served.push(r);
            return r;
          },
          "127.0.0.1",
          0,
        );
        const port = (server.address() as { port: number }).port;
        const [transport, client] = yield* createConnection(() => new Recorder(false), "127.0.0.1", port);
        expect(transport.getWriteBufferLimits()).toEqual({ low: 16 * 1024, high: 64 * 1024 });
        transport.setWriteBufferLimits(1000);
        expect(transport.getWriteBufferLimits()).toEqual({ low: 250, high: 1000 });
        expect(transport.getExtraInfo("peername")).toEqual({ address: "127.0.0.1", family: "IPv4", port });
        const socket = transport.getExtraInfo<{ fileno(): number }>("socket")!;
        expect(transport.getExtraInfo("socket")).toBe(socket);
        expect(socket.fileno()).toBeGreaterThanOrEqual(0);
        expect(transport.getExtraInfo("nothing", "fallback")).toBe("fallback");
        // Paused, the transport holds what arrives and delivers it in order on resume.
        transport.pauseReading();
        expect(transport.isReading()).toBe(false);
        while (served.length === 0) yield;
        served[0]!.transport!.write(Buffer.from("one"));
        for (let i = 0; i < 5; i++) yield* ensureFuture(new Promise((resolve) => setImmediate(resolve)));
        served[0]!.transport!.write(Buffer.from("two"));
        for (let i = 0; i < 5; i++) yield* ensureFuture(new Promise((resolve) => setImmediate(resolve)));
        expect(client.log).toEqual(["made"]);
        transport.resumeReading();
        const received = (): string =>
          client.log
            .filter((entry) => entry.startsWith("data "))
            .map((entry) => entry.slice(5))
            .join("");
        while (received().length < 6) yield* ensureFuture(new Promise((resolve) => setImmediate(resolve)));
        expect(received()).toBe("onetwo");
        transport.abort();
        while (client.log.at(-1)?.startsWith("lost") !== true) yield;
        expect(transport.getExtraInfo("socket")).toBeUndefined();
        server.close();
        server.abortClients();
        yield* server.waitClosed();
      },
      { poller: new SelectorPoller() },
    );
    await expectNoOpenDescriptors();
  });

  it("hands each read over as a view of a slab region never written again: chunks kept across several slabs stay intact", async () => {
    await run(
      function* () {
        const kept: Buffer[] = [];
        let eof = false;
        const server = yield* createServer(
          (): Protocol => ({
            connectionMade() {},
            connectionLost() {},
            pauseWriting() {},
            resumeWriting() {},
            dataReceived(data: Uint8Array) {
              kept.push(data as Buffer); // kept as given: no copy
            },
            eofReceived() {
              eof = true;
              return false;
            },
          }),
          "127.0.0.1",
          0,
        );
        const [transport] = yield* createConnection(() => new Recorder(false), "127.0.0.1", (server.address() as { port: number }).port);
        // 2 MiB, several slabs' worth, in writes of 1 KiB as the echo benchmark's; every
        // byte's value depends on its position, so an overwritten region shows.
        const sent = Buffer.alloc(2 * 1024 * 1024);
        for (let i = 0; i < sent.length; i++) sent[i] = (i * 7 + (i >> 10)) & 255;
        for (let off = 0; off < sent.length; off += 1024) {
          transport.write(sent.subarray(off, off + 1024));
          if (transport.getWriteBufferSize() > 64 * 1024) yield* ensureFuture(new Promise((resolve) => setImmediate(resolve)));
        }
        transport.writeEof();
        while (!eof) yield* ensureFuture(new Promise((resolve) => setImmediate(resolve)));
        expect(Buffer.concat(kept).equals(sent)).toBe(true);
        // Views, not copies: more reads than slabs, and no two views of one slab overlap.
        const slabs = new Map<ArrayBuffer, Buffer[]>();
        for (const chunk of kept) {
          const views = slabs.get(chunk.buffer as ArrayBuffer) ?? [];
          views.push(chunk);
          slabs.set(chunk.buffer as ArrayBuffer, views);
        }
        expect(slabs.size).toBeGreaterThan(1);
        expect(slabs.size).toBeLessThan(kept.length);
        for (const views of slabs.values()) {
          const sorted = [...views].sort((x, y) => x.byteOffset - y.byteOffset);
          for (let i = 1; i < sorted.length; i++) expect(sorted[i]!.byteOffset).toBeGreaterThanOrEqual(sorted[i - 1]!.byteOffset + sorted[i - 1]!.length);
        }
        // A slab is never moved to another thread, as Node's pool is not: listed for transfer,
        // Node 20 clones it and Node 22 and later refuse with a DataCloneError.
        const { port1, port2 } = new MessageChannel();
        try {
          port1.postMessage(kept[0]!.buffer, [kept[0]!.buffer as ArrayBuffer]);
        } catch (error) {
          expect((error as Error).name).toBe("DataCloneError");
        }
        expect(kept[0]!.length).toBeGreaterThan(0);
        expect(kept[0]!.buffer.byteLength).toBeGreaterThan(0);
        port1.close();
        port2.close();
        transport.close();
        server.close();
        server.abortClients();
        yield* server.waitClosed();
      },
      { poller: new SelectorPoller() },
    );
    await expectNoOpenDescriptors();
  });

  it.runIf(typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === "function")("a slab that user code detaches (ArrayBuffer.prototype.transfer) is replaced, and later reads arrive intact", async () => {
    await run(
      function* () {
        const received: Buffer[] = [];
        let first: Transport | null = null;
        let eof = false;
        const server = yield* createServer(
          (): Protocol => ({
            connectionMade(transport: BaseTransport) {
              first = transport as Transport;
            },
            connectionLost() {},
            pauseWriting() {},
            resumeWriting() {},
            dataReceived(data: Uint8Array) {
              if (received.length === 0) {
                received.push(Buffer.from(data));
                try {
                  (data.buffer as ArrayBuffer & { transfer(): ArrayBuffer }).transfer();
                } catch {
                  // A Node that refuses to detach an untransferable buffer: nothing to replace.
                }
                first!.write(Buffer.from("go"));
              } else received.push(Buffer.from(data));
            },
            eofReceived() {
              eof = true;
              return false;
            },
          }),
          "127.0.0.1",
          0,
        );
        const [transport, client] = yield* createConnection(() => new Recorder(false), "127.0.0.1", (server.address() as { port: number }).port);
        transport.write(Buffer.from("a"));
        while (!client.log.includes("data go")) yield* ensureFuture(new Promise((resolve) => setImmediate(resolve)));
        const sent = Buffer.alloc(512 * 1024);
        for (let i = 0; i < sent.length; i++) sent[i] = (i * 13 + (i >> 9)) & 255;
        transport.write(sent);
        transport.writeEof();
        while (!eof) yield* ensureFuture(new Promise((resolve) => setImmediate(resolve)));
        expect(received[0]!.toString()).toBe("a");
        expect(Buffer.concat(received.slice(1)).equals(sent)).toBe(true);
        transport.close();
        server.close();
        server.abortClients();
        yield* server.waitClosed();
      },
      { poller: new SelectorPoller() },
    );
    await expectNoOpenDescriptors();
  });

  it("closing the poller releases the descriptors its loop left open: listener, connections, both ends", async () => {
    const poller = new SelectorPoller();
    await run(
      function* () {
        const served: Recorder[] = [];
        const server = yield* createServer(
          () => {
            const r = new Recorder(false);
            served.push(r);
            return r;
          },
          "127.0.0.1",
          0,
        );
        const port = (server.address() as { port: number }).port;
        for (let i = 0; i < 3; i++) yield* createConnection(() => new Recorder(false), "127.0.0.1", port);
        while (served.length < 3) yield* ensureFuture(new Promise((resolve) => setImmediate(resolve)));
        // Nothing closed: the loop's end closes the poller, which must let them all go.
      },
      { poller },
    );
    await expectNoOpenDescriptors();
  });

  it("a listener's transports are the open connections it accepted, and only those", async () => {
    const poller = new SelectorPoller();
    await run(
      function* () {
        const loop = getRunningLoop();
        const served: Recorder[] = [];
        const factory = (): Recorder => {
          const r = new Recorder(false);
          served.push(r);
          return r;
        };
        const handle = yield* poller.net!.listen(loop, factory, { host: "127.0.0.1", port: 0 });
        const other = yield* poller.net!.listen(loop, () => new Recorder(false), { host: "127.0.0.1", port: 0 });
        const port = (handle.address() as { port: number }).port;
        expect(handle.transports.size).toBe(0);
        const [client] = yield* createConnection(() => new Recorder(false), "127.0.0.1", port);
        yield* createConnection(() => new Recorder(false), "127.0.0.1", port);
        while (served.length < 2) yield* ensureFuture(new Promise((resolve) => setImmediate(resolve)));
        const accepted = served.map((r) => r.transport!);
        expect(handle.transports.size).toBe(2);
        expect(new Set(handle.transports)).toEqual(new Set(accepted));
        expect([...handle.transports.keys()].length).toBe(2);
        expect(handle.transports.has(accepted[0]!)).toBe(true);
        expect(handle.transports.has(client)).toBe(false); // the connecting end is not the listener's
        const seen: Transport[] = [];
        handle.transports.forEach((t) => seen.push(t));
        expect(seen.length).toBe(2);
        // Closing one while iterating is safe, and it leaves the set.
        for (const t of handle.transports) if (t === accepted[0]) t.abort();
        expect(handle.transports.has(accepted[0]!)).toBe(false);
        expect([...handle.transports]).toEqual([accepted[1]]);
        expect(other.transports.size).toBe(0);
        handle.close();
        other.close();
        for (const t of handle.transports) t.abort();
        client.abort();
        while (!served.every((r) => r.log.at(-1)?.startsWith("lost") === true)) yield* ensureFuture(new Promise((resolve) => setImmediate(resolve)));
      },
      { poller },
    );
    await expectNoOpenDescriptors();
  });
});

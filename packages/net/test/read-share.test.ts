import { connect, type Socket } from "node:net";
import { ensureFuture, getRunningLoop, run, type BaseTransport, type Protocol, type Transport } from "@loop/core";
import { describe, expect, it } from "vitest";
import { nodeNetDriver, startServer } from "../src/index.js";
import { Dispatcher, ITERATION_READ_BUDGET, MAX_READ_SHARE, MIN_READ_SHARE } from "../src/node-dispatcher.js";
import { NodeTransport } from "../src/node-transport.js";
import { expectNoOpenSocketHandles } from "./node-handles.js";

// Fairness between connections: however much a peer sends, its socket hands the loop at
// most a share of bytes per iteration of Node's event loop, so busy connections' bytes
// cannot fill a loop turn while the others (and new connections) wait. Counted in loop
// turns (the afterPoll hook) and host iterations, not in time.

/** A protocol that logs what it hears, with the loop turn it heard it in. */
class Recorder implements Protocol {
  turn = 0;
  readonly perTurn = new Map<number, number>();
  readonly received: Buffer[] = [];
  readonly log: string[] = [];
  transport: Transport | null = null;
  private readonly done: () => void;

  constructor(done: () => void) {
    this.done = done;
  }

  connectionMade(transport: BaseTransport): void {
    this.transport = transport as Transport;
  }
  dataReceived(data: Uint8Array): void {
    this.perTurn.set(this.turn, (this.perTurn.get(this.turn) ?? 0) + data.byteLength);
    this.received.push(Buffer.from(data));
  }
  eofReceived(): boolean {
    this.log.push(`eof after ${this.received.reduce((n, b) => n + b.length, 0)} bytes`);
    return false;
  }
  connectionLost(): void {
    this.log.push("lost");
    this.done();
  }
  pauseWriting(): void {}
  resumeWriting(): void {}
}

describe("read shares", () => {
  it("a socket delivers at most a share per loop turn, every byte in order, then the end", async () => {
    const sent = Buffer.alloc(2 * 1024 * 1024);
    for (let i = 0; i < sent.length; i++) sent[i] = (i * 7 + (i >> 11)) & 0xff;
    let client: Socket | null = null;
    const recorder = await run(function* () {
      const loop = getRunningLoop();
      let finished!: () => void;
      const over = new Promise<void>((resolve) => (finished = resolve));
      const recorder = new Recorder(finished);
      loop.addInstrument({ afterPoll: () => void recorder.turn++ });
      const handle = yield* nodeNetDriver.listen(loop, () => recorder, { host: "127.0.0.1", port: 0 });
      const { port } = handle.address() as { port: number };
      client = connect(port, "127.0.0.1", () => client!.end(sent));
      yield* ensureFuture(over);
      handle.close();
      return recorder;
    });
    client!.destroy();
    expect(Buffer.concat(recorder.received).equals(sent)).toBe(true);
    expect(Math.max(...recorder.perTurn.values())).toBeLessThanOrEqual(MAX_READ_SHARE);
    expect(recorder.perTurn.size).toBeGreaterThanOrEqual(sent.length / MAX_READ_SHARE);
    expect(recorder.log).toEqual([`eof after ${sent.length} bytes`, "lost"]);
    await expectNoOpenSocketHandles();
  });

  it("the share shrinks as more sockets wait, and what waits is released one host iteration later, never at once", async () => {
    const log = await run(function* () {
      const loop = getRunningLoop();
      const dispatcher = new Dispatcher(loop);
      const log: string[] = [];
      const shares: number[] = [dispatcher.share];
      let releases = 0;
      const target = (name: string, rounds: number) => ({
        release(): boolean {
          releases++;
          log.push(`${name} released`);
          return --rounds > 0;
        },
      });
      dispatcher.releaseLater(target("a", 2));
      shares.push(dispatcher.share);
      dispatcher.releaseLater(target("b", 1));
      shares.push(dispatcher.share);
      for (let i = 0; i < 98; i++) dispatcher.releaseLater(target(`t${i}`, 1));
      shares.push(dispatcher.share);
      log.push(`queued, ${releases} released`);
      // Released from host iterations (setImmediate), a round each: wait for them.
      for (let i = 0; i < 100 && releases < 101; i++) yield* ensureFuture(new Promise((resolve) => setImmediate(resolve)));
      log.push(`done: ${releases} released, share ${dispatcher.share}`);
      return { log: log.filter((l) => !/^t\d+ released$/.test(l)), shares };
    });
    expect(log.shares).toEqual([MAX_READ_SHARE, MAX_READ_SHARE, ITERATION_READ_BUDGET / 2, MIN_READ_SHARE]);
    // Nothing is released synchronously; a second round comes after every first one.
    expect(log.log).toEqual(["queued, 0 released", "a released", "b released", "a released", `done: 101 released, share ${MAX_READ_SHARE}`]);
  });

  it("a stream reader that pauses and resumes its transport while shares wait gets every byte in order", async () => {
    // Two commands' worth of bytes in a row, read slowly: the reader pauses its transport
    // past twice its limit, shares keep coming from the backlog, and resumes must not let
    // later bytes overtake held ones.
    const sent = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < sent.length; i++) sent[i] = (i * 31 + (i >> 9)) & 0xff;
    let client: Socket | null = null;
    const received = await run(function* () {
      const parts: Buffer[] = [];
      let finished!: () => void;
      const over = new Promise<void>((resolve) => (finished = resolve));
      const server = yield* startServer(
        function* (reader) {
          let size = 1000;
          for (;;) {
            const chunk = yield* reader.read(size);
            if (chunk.length === 0) break;
            parts.push(Buffer.from(chunk));
            size = size === 1000 ? 70_000 : 1000;
            yield; // let more bytes pile up
          }
          finished();
        },
        "127.0.0.1",
        0,
      );
      const { port } = server.address() as { port: number };
      client = connect(port, "127.0.0.1", () => client!.end(sent));
      yield* ensureFuture(over);
      server.close();
      yield* server.waitClosed();
      return Buffer.concat(parts);
    });
    client!.destroy();
    expect(received.length).toBe(sent.length);
    expect(received.equals(sent)).toBe(true);
    await expectNoOpenSocketHandles();
  });

  it("bytes that arrive after a resume never overtake the bytes held while reading was paused", async () => {
    const seen = await run(function* () {
      const loop = getRunningLoop();
      const dispatcher = new Dispatcher(loop);
      // Just what the transport calls on a socket.
      const socket = { destroyed: false, on() {}, off() {}, pause() {}, resume() {}, destroy() {}, destroySoon() {} };
      const transport = new NodeTransport(loop, socket as never, dispatcher, { tls: false });
      const seen: string[] = [];
      const recorder = new Recorder(() => {});
      recorder.dataReceived = (data) => void seen.push(Buffer.from(data).toString());
      transport.start(recorder, true);
      transport.pauseReading();
      transport.incoming(1, Buffer.from("first")); // 1: DATA
      yield; // delivered while paused: held
      yield;
      // Node hands over more, then the protocol resumes reading, in the same turn: the
      // delivery of "second" is queued before the held "first" is handed over.
      transport.incoming(1, Buffer.from("second"));
      transport.resumeReading();
      yield;
      yield;
      transport.abort();
      return seen;
    });
    expect(seen).toEqual(["first", "second"]);
  });

  it("a protocol that pauses reading while shares are held gets every byte once it resumes", async () => {
    const sent = Buffer.alloc(512 * 1024, 7);
    let client: Socket | null = null;
    const total = await run(function* () {
      const loop = getRunningLoop();
      let finished!: () => void;
      const over = new Promise<void>((resolve) => (finished = resolve));
      const recorder = new Recorder(finished);
      let paused = false;
      const original = recorder.dataReceived.bind(recorder);
      recorder.dataReceived = (data) => {
        original(data);
        // Pause after the first share and resume a turn later, again and again.
        if (!paused) {
          paused = true;
          recorder.transport!.pauseReading();
          loop.callSoon(() => {
            paused = false;
            recorder.transport!.resumeReading();
          });
        }
      };
      const handle = yield* nodeNetDriver.listen(loop, () => recorder, { host: "127.0.0.1", port: 0 });
      const { port } = handle.address() as { port: number };
      client = connect(port, "127.0.0.1", () => client!.end(sent));
      yield* ensureFuture(over);
      handle.close();
      return Buffer.concat(recorder.received);
    });
    client!.destroy();
    expect(total.equals(sent)).toBe(true);
    await expectNoOpenSocketHandles();
  });
});

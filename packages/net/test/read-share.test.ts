import { connect, type Socket } from "node:net";
import { ensureFuture, getRunningLoop, run, type BaseTransport, type Protocol, type Transport } from "@loop/core";
import { describe, expect, it } from "vitest";
import { nodeNetDriver } from "../src/index.js";
import { MAX_READ_SHARE as READ_SHARE } from "../src/node-dispatcher.js";
import { expectNoOpenSocketHandles } from "./node-handles.js";

// Fairness between connections: however much a peer sends, its socket hands the loop at
// most READ_SHARE bytes per iteration of Node's event loop, so one busy connection's
// bytes cannot fill a loop turn while the others (and new connections) wait. Counted in
// loop turns (the afterPoll hook), not in time.

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
  it("a socket delivers at most READ_SHARE bytes per loop turn, every byte in order, then the end", async () => {
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
    expect(Math.max(...recorder.perTurn.values())).toBeLessThanOrEqual(READ_SHARE);
    // 2 MiB in shares: at least 128 turns had bytes.
    expect(recorder.perTurn.size).toBeGreaterThanOrEqual(sent.length / READ_SHARE);
    expect(recorder.log).toEqual([`eof after ${sent.length} bytes`, "lost"]);
    await expectNoOpenSocketHandles();
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

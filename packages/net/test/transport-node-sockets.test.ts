/**
 * The Node socket transport on real sockets (127.0.0.1, port 0), for what depends on how
 * Node's sockets behave: a paused socket and its 'data' listener, writes after close().
 */
import { Buffer } from "node:buffer";
import { connect, type Socket } from "node:net";
import { ensureFuture, getRunningLoop, run, type BaseTransport, type ErrorContext, type Protocol, type Transport } from "@loop/core";
import { describe, expect, it } from "vitest";
import { nodeNetDriver } from "../src/index.js";
import { expectNoOpenSocketHandles } from "./node-handles.js";

/** Logs what the protocol hears; `over` resolves at connectionLost. */
class Recorder implements Protocol {
  readonly log: string[] = [];
  transport: Transport | null = null;
  readonly over: Promise<void>;
  private _done!: () => void;
  constructor(private readonly _onMade: (transport: Transport) => void = () => {}) {
    this.over = new Promise((resolve) => (this._done = resolve));
  }
  connectionMade(transport: BaseTransport): void {
    this.transport = transport as Transport;
    this.log.push("made");
    this._onMade(this.transport);
  }
  dataReceived(data: Uint8Array): void {
    this.log.push(`data ${Buffer.from(data).toString()}`);
  }
  eofReceived(): boolean {
    this.log.push("eof");
    return false;
  }
  connectionLost(error: Error | null): void {
    this.log.push(`lost ${error === null ? "null" : error.message}`);
    this._done();
  }
  pauseWriting(): void {}
  resumeWriting(): void {}
}

describe("the Node socket transport on real sockets", () => {
  it("a protocol that pauses reading in connectionMade gets every byte once it resumes", async () => {
    let client: Socket | null = null;
    const log = await run(function* () {
      const loop = getRunningLoop();
      const recorder = new Recorder((transport) => {
        transport.pauseReading();
        loop.callSoon(() => transport.resumeReading());
      });
      const handle = yield* nodeNetDriver.listen(loop, () => recorder, { host: "127.0.0.1", port: 0 });
      const { port } = handle.address() as { port: number };
      client = connect(port, "127.0.0.1", () => client!.end("hello"));
      yield* ensureFuture(recorder.over);
      handle.close();
      return recorder.log;
    });
    client!.destroy();
    expect(log).toEqual(["made", "data hello", "eof", "lost null"]);
    await expectNoOpenSocketHandles();
  });

  it("a write after close() is dropped: the connection ends cleanly, with no error", async () => {
    let client: Socket | null = null;
    const received: Buffer[] = [];
    const { log, reported } = await run(function* () {
      const loop = getRunningLoop();
      const reported: ErrorContext[] = [];
      loop.setExceptionHandler((_loop, context) => reported.push(context));
      const recorder = new Recorder((transport) => {
        transport.write(Buffer.from("bye"));
        transport.close();
        transport.write(Buffer.from("dropped"));
        transport.writelines([Buffer.from("dropped too")]);
      });
      const handle = yield* nodeNetDriver.listen(loop, () => recorder, { host: "127.0.0.1", port: 0 });
      const { port } = handle.address() as { port: number };
      client = connect(port, "127.0.0.1");
      client.on("data", (data: Buffer) => received.push(data));
      client.on("end", () => client!.end());
      yield* ensureFuture(recorder.over);
      handle.close();
      return { log: recorder.log, reported };
    });
    client!.destroy();
    expect(log).toEqual(["made", "lost null"]);
    expect(Buffer.concat(received).toString()).toBe("bye");
    expect(reported).toEqual([]);
    await expectNoOpenSocketHandles();
  });
});

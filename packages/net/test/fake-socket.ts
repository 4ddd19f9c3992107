/**
 * A NodeTransport on a stand-in socket and dispatcher, for the transport's own state
 * machine (reading, read shares, flow control, detach): every call the transport makes on
 * its socket and its dispatcher goes to one log, in order, and the test decides when events
 * are delivered and when a held backlog is released (what Node and the host's iterations do
 * for a real socket).
 */
import { EventEmitter } from "node:events";
import { Buffer } from "node:buffer";
import { getRunningLoop, type BaseTransport, type ErrorContext, type Protocol, type Transport } from "@loop/core";
import type { Dispatcher } from "../src/node-dispatcher.js";
import { NodeTransport, type TransportOwner } from "../src/node-transport.js";

/** Just what the transport uses of a `net.Socket`, with what it does logged. */
export class FakeSocket extends EventEmitter {
  destroyed = false;
  writableLength = 0;
  remoteAddress: string | undefined = undefined;
  remoteFamily: string | undefined = undefined;
  remotePort: number | undefined = undefined;
  localAddress: string | undefined = undefined;
  localFamily: string | undefined = undefined;
  localPort: number | undefined = undefined;
  /** Callbacks of writes still "in the kernel": `drain()` runs them. */
  readonly writeCallbacks: (() => void)[] = [];
  // What a TLSSocket adds (used only when the transport is made with `tls: true`).
  alpnProtocol: string | false = "h2";
  getProtocol(): string {
    return "TLSv1.3";
  }
  getCipher(): { name: string } {
    return { name: "TLS_AES_128_GCM_SHA256" };
  }
  getPeerCertificate(): { subject: { CN: string } } {
    return { subject: { CN: "localhost" } };
  }

  constructor(readonly log: string[]) {
    super();
  }
  pause(): this {
    this.log.push("socket.pause");
    return this;
  }
  resume(): this {
    this.log.push("socket.resume");
    return this;
  }
  destroy(): this {
    this.log.push("socket.destroy");
    this.destroyed = true;
    return this;
  }
  destroySoon(): void {
    this.log.push("socket.destroySoon");
  }
  end(): this {
    this.log.push("socket.end");
    return this;
  }
  write(data: Uint8Array, callback?: () => void): boolean {
    this.log.push(`socket.write ${data.byteLength}`);
    this.writableLength += data.byteLength;
    if (callback !== undefined) this.writeCallbacks.push(callback);
    return true;
  }
  /** The kernel took all but `left` bytes of the buffer, and the callbacks of the writes given so far run. */
  drain(left = 0): void {
    this.writableLength = left;
    for (const callback of this.writeCallbacks.splice(0)) callback();
  }
}

/** Just what the transport uses of a `Dispatcher`: events wait until `deliver()`, backlogs until `releaseHeld()`. */
export class FakeDispatcher {
  share = 10;
  round = 0;
  readonly open = new Set<unknown>();
  readonly events: [NodeTransport, number, unknown][] = [];
  readonly held: NodeTransport[] = [];

  constructor(readonly log: string[]) {}
  push(target: NodeTransport, kind: number, payload: unknown): void {
    this.log.push(`push ${describeEvent(kind, payload)}`);
    this.events.push([target, kind, payload]);
  }
  releaseLater(target: NodeTransport): void {
    this.log.push("releaseLater");
    this.held.push(target);
  }
  noteActive(): void {
    this.log.push("noteActive");
  }
  /** Takes back the target's queued events, as the real dispatcher does (kinds and payloads interleaved). */
  withdraw(target: NodeTransport, into: unknown[]): void {
    for (let i = 0; i < this.events.length; i++) {
      const [owner, kind, payload] = this.events[i] as [NodeTransport, number, unknown];
      if (owner !== target) continue;
      into.push(kind, payload);
      this.events.splice(i--, 1);
    }
  }
  /** Hands every queued event to its transport, in order (one flush). */
  deliver(): void {
    for (const [target, kind, payload] of this.events.splice(0)) target.handleEvent(kind, payload);
  }
  /** One host iteration's release of the held backlogs; logs what each release() returned. */
  releaseHeld(): void {
    const held = this.held.splice(0);
    for (const target of held) {
      const more = target.release();
      this.log.push(`release → ${more}`);
      if (more) this.held.push(target);
    }
  }
}

const KIND_NAMES = ["STARTED", "DATA", "END", "ERROR", "CLOSE", "FLUSHED"];

function describeEvent(kind: number, payload: unknown): string {
  const name = KIND_NAMES[kind] ?? String(kind);
  return payload instanceof Uint8Array ? `${name} ${Buffer.from(payload).toString()}` : name;
}

/** A protocol that logs every call, in the same log as the socket and dispatcher. */
export class LogProtocol implements Protocol {
  transport: Transport | null = null;
  keepOpenOnEof = false;
  constructor(readonly log: string[]) {}
  connectionMade(transport: BaseTransport): void {
    this.transport = transport as Transport;
    this.log.push("made");
  }
  dataReceived(data: Uint8Array): void {
    this.log.push(`data ${Buffer.from(data).toString()}`);
  }
  eofReceived(): boolean {
    this.log.push("eof");
    return this.keepOpenOnEof;
  }
  connectionLost(error: Error | null): void {
    this.log.push(`lost ${error === null ? "null" : error.message}`);
  }
  pauseWriting(): void {
    this.log.push("pauseWriting");
  }
  resumeWriting(): void {
    this.log.push("resumeWriting");
  }
}

export interface FakeTransport {
  transport: NodeTransport;
  socket: FakeSocket;
  dispatcher: FakeDispatcher;
  protocol: LogProtocol;
  log: string[];
  reported: ErrorContext[];
}

/**
 * A started transport on a fake socket and dispatcher, in the running loop (whose exception
 * handler now collects into `reported`). Holds one external ref on the loop, as the driver's do.
 */
export function fakeTransport(opts: { tls?: boolean; unixPath?: string; owner?: TransportOwner; start?: boolean; destroyed?: boolean } = {}): FakeTransport {
  const loop = getRunningLoop();
  const log: string[] = [];
  const reported: ErrorContext[] = [];
  loop.setExceptionHandler((_loop, context) => {
    reported.push(context);
    log.push(`reported ${context.message}`);
  });
  const socket = new FakeSocket(log);
  socket.destroyed = opts.destroyed ?? false;
  const dispatcher = new FakeDispatcher(log);
  const protocol = new LogProtocol(log);
  loop.refExternal();
  const transport = new NodeTransport(loop, socket as never, dispatcher as unknown as Dispatcher, {
    tls: opts.tls ?? false,
    ...(opts.unixPath === undefined ? {} : { unixPath: opts.unixPath }),
    ...(opts.owner === undefined ? {} : { owner: opts.owner }),
  });
  if (opts.start !== false) transport.start(protocol, true);
  return { transport, socket, dispatcher, protocol, log, reported };
}

/** `n` bytes of text: "a" repeated, for logs that stay readable. */
export const bytes = (text: string): Buffer => Buffer.from(text);

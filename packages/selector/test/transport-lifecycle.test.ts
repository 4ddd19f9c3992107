// The selector transport's state machine against a scripted addon: every record kind at
// every state (reading, paused, draining, closed), what it asks of the addon, what reaches
// the protocol and in which order. The addon's side is a stand-in that holds each
// descriptor's buffer and refuses any call on a descriptor the transport no longer owns
// (the kernel may have given that number to another socket). The transport runs on
// descriptor 0, the number a socket gets in a process whose stdin is closed.
import type { BaseProtocol, BaseTransport, Protocol } from "@loop/core";
import { describe, expect, it } from "vitest";
import { BACKLOG, CTL_FLUSHES, CTL_QUEUED, CTL_STAGED, DATA, DRAINED, EOF, ERROR } from "../src/native.js";
import { Reactor } from "../src/reactor.js";
import { SelectorTransport } from "../src/transport.js";

/** The addon as the transport sees it: one stream descriptor's buffer, reading and notify state. */
class ScriptedAddon {
  readonly calls: string[] = [];
  readonly open = new Set<number>();
  readonly isReading = new Map<number, boolean>();
  /** Bytes written and not yet sent, per descriptor (staged ones once the queue is taken). */
  readonly pending = new Map<number, number[]>();
  peer: [string, number, number] | null = ["127.0.0.1", 5000, 4];
  self: [string, number, number] | null = ["127.0.0.1", 4000, 4];
  private _queue!: Int32Array;
  private _staging!: Uint8Array;
  ctl!: Int32Array;

  init(_onBatch: unknown, _receiver: object, _events: ArrayBuffer, _slab: ArrayBuffer, staging: ArrayBuffer, queue: ArrayBuffer, ctl: ArrayBuffer): void {
    this._staging = new Uint8Array(staging);
    this._queue = new Int32Array(queue);
    this.ctl = new Int32Array(ctl);
  }
  /** How often a flush after the batch was asked for (a write staged outside one). */
  flushesAsked = 0;
  flushSoon(): void {
    this.flushesAsked++;
  }
  arm(): void {}
  wake(): void {}

  /** As the addon's take_queue: staged writes join their descriptor's buffer, in order, before any other call. */
  takeQueue(): void {
    const n = this.ctl[CTL_QUEUED] as number;
    for (let i = 0; i < n; i++) {
      const fd = this._queue[3 * i] as number;
      const off = this._queue[3 * i + 1] as number;
      const len = this._queue[3 * i + 2] as number;
      this._own(fd, "a staged write");
      this.pending.get(fd)!.push(...this._staging.subarray(off, off + len));
    }
    this.ctl[CTL_QUEUED] = 0;
    this.ctl[CTL_STAGED] = 0;
  }
  /** The end of a batch: the queue is taken and the flush counted; `sent` bytes of `fd` leave. */
  flush(fd = 0, sent = Infinity): number[] {
    this.takeQueue();
    this.ctl[CTL_FLUSHES] = (this.ctl[CTL_FLUSHES] as number) + 1;
    const buffer = this.pending.get(fd) ?? [];
    return buffer.splice(0, Math.min(sent, buffer.length));
  }

  connected(fd: number): void {
    this.open.add(fd);
    this.pending.set(fd, []);
  }
  private _own(fd: number, what: string): void {
    if (!this.open.has(fd)) throw new Error(`${what} on descriptor ${fd}, which the transport no longer owns`);
  }
  reading(fd: number, on: boolean): void {
    this.takeQueue();
    this._own(fd, "reading()");
    this.calls.push(`reading ${on}`);
    this.isReading.set(fd, on);
  }
  write(fd: number, data: Uint8Array): number {
    this.takeQueue();
    this._own(fd, "write()");
    this.calls.push(`write ${data.byteLength}`);
    const buffer = this.pending.get(fd)!;
    buffer.push(...data);
    return buffer.length;
  }
  buffered(fd: number): number {
    this.takeQueue();
    this._own(fd, "buffered()");
    return this.pending.get(fd)!.length;
  }
  notify(fd: number, low: number): void {
    this.takeQueue();
    this._own(fd, "notify()");
    this.calls.push(`notify ${low}`);
  }
  shutdown(fd: number): void {
    this.takeQueue();
    this._own(fd, "shutdown()");
    this.calls.push("shutdown");
  }
  close(fd: number, reset: boolean): number {
    this.takeQueue();
    this._own(fd, "close()");
    this.open.delete(fd);
    this.calls.push(reset ? "close reset" : "close");
    return 0;
  }
  peername(fd: number): [string, number, number] | null {
    this._own(fd, "peername()");
    return this.peer;
  }
  sockname(fd: number): [string, number, number] | null {
    this._own(fd, "sockname()");
    return this.self;
  }
}

interface Report {
  message: string;
  exception?: unknown;
  transport?: unknown;
  protocol?: unknown;
}

/** The loop as the transport sees it: callbacks run when the test turns it, reports are kept. */
class ScriptedLoop {
  refs = 0;
  readonly reports: Report[] = [];
  private _soon: (() => void)[] = [];
  refExternal(): void {
    this.refs++;
  }
  unrefExternal(): void {
    this.refs--;
  }
  callSoon(callback: () => void): void {
    this._soon.push(callback);
  }
  callExceptionHandler(context: Report): void {
    this.reports.push(context);
  }
  /** Runs the callbacks due, as many turns as it takes (a callback's exception is reported, as the loop does). */
  settle(): void {
    for (let turns = 0; this._soon.length > 0 && turns < 100; turns++) {
      const due = this._soon;
      this._soon = [];
      for (const callback of due) {
        try {
          callback();
        } catch (error) {
          this.reports.push({ message: "Exception in callback", exception: error });
        }
      }
    }
  }
  get pending(): number {
    return this._soon.length;
  }
}

/** Logs the protocol's calls; each hook may act on the transport. */
class Log implements Protocol {
  readonly log: string[] = [];
  readonly lost: (Error | null)[] = [];
  transport!: SelectorTransport;
  onData: (text: string) => void = () => {};
  onEof: () => boolean = () => false;
  onMade: () => void = () => {};
  onPause: () => void = () => {};
  onResume: () => void = () => {};
  connectionMade(transport: BaseTransport): void {
    this.transport = transport as SelectorTransport;
    this.log.push("made");
    this.onMade();
  }
  dataReceived(data: Uint8Array): void {
    const text = Buffer.from(data).toString();
    this.log.push(`data ${text}`);
    this.onData(text);
  }
  eofReceived(): boolean {
    this.log.push("eof");
    return this.onEof();
  }
  pauseWriting(): void {
    this.log.push("pause");
    this.onPause();
  }
  resumeWriting(): void {
    this.log.push("resume");
    this.onResume();
  }
  connectionLost(error: Error | null): void {
    this.log.push(error === null ? "lost" : `lost ${(error as { code?: string }).code ?? error.message}`);
    this.lost.push(error);
  }
}

const FD = 0;

/** A transport on descriptor 0 over a scripted addon, not yet started. */
function made(opts: { unixPath?: string; owner?: object } = {}) {
  const addon = new ScriptedAddon();
  const reactor = new Reactor(addon as never, "epoll");
  const loop = new ScriptedLoop();
  addon.connected(FD);
  const transport = new SelectorTransport({ _reactor: reactor } as never, loop as never, FD, opts);
  return { addon, reactor, loop, transport };
}

/** A started transport: the protocol heard connectionMade; the addon's call log starts empty. */
function started(opts: { unixPath?: string; owner?: object; protocol?: Log } = {}) {
  const parts = made(opts);
  const protocol = opts.protocol ?? new Log();
  parts.transport.start(protocol);
  parts.addon.calls.length = 0;
  return { ...parts, protocol };
}

function data(text: string): Buffer {
  return Buffer.from(text);
}

describe("the selector transport's states, over a scripted addon", () => {
  describe("starting", () => {
    it("reads once the protocol is attached, and holds the loop open until connectionLost", () => {
      const { addon, loop, transport } = made();
      expect(loop.refs).toBe(1);
      const protocol = new Log();
      transport.start(protocol);
      expect(addon.calls).toEqual(["reading true"]);
      expect(transport.getProtocol()).toBe(protocol);
      transport.handleEvent(DATA, 0, 2, data("hi"));
      expect(protocol.log).toEqual(["made", "data hi"]);
      transport.abort();
      expect(loop.refs).toBe(1);
      loop.settle();
      expect(protocol.log).toEqual(["made", "data hi", "lost"]);
      expect(loop.refs).toBe(0);
    });

    it("does not read when connectionMade paused reading: the peer meets backpressure instead", () => {
      const { addon, transport } = made();
      const protocol = new Log();
      protocol.onMade = () => transport.pauseReading();
      transport.start(protocol);
      expect(addon.calls).toEqual(["reading false"]);
      expect(addon.isReading.get(FD)).toBe(false);
    });

    it("does not read when connectionMade wrote and closed: the transport only drains", () => {
      const { addon, transport } = made();
      const protocol = new Log();
      protocol.onMade = () => {
        transport.write(data("bye"));
        transport.close();
      };
      transport.start(protocol);
      expect(addon.calls).not.toContain("reading true");
      expect(addon.isReading.get(FD)).toBe(false);
      expect(addon.open.has(FD)).toBe(true);
    });

    it("touches no descriptor when connectionMade aborted", () => {
      const { addon, loop, transport } = made();
      const protocol = new Log();
      protocol.onMade = () => transport.abort();
      transport.start(protocol);
      expect(addon.calls).toEqual(["close"]);
      loop.settle();
      expect(protocol.log).toEqual(["made", "lost"]);
    });

    it("a transport aborted before any protocol was attached (its factory failed) reports nothing and lets the loop go", () => {
      const { addon, loop, transport } = made();
      transport.abort();
      loop.settle();
      expect(addon.calls).toEqual(["close"]);
      expect(loop.reports).toEqual([]);
      expect(loop.refs).toBe(0);
    });
  });

  describe("closing", () => {
    it("close() with bytes buffered stops reading at once, drops what arrives meanwhile, and closes the descriptor once drained", () => {
      const { addon, loop, transport, protocol } = started();
      transport.write(data("pending"));
      transport.close();
      expect(transport.isClosing()).toBe(true);
      expect(transport.isReading()).toBe(false);
      expect(addon.calls).toEqual(["reading false", "notify 0"]);
      expect(addon.open.has(FD)).toBe(true);
      // Records already on their way: none reaches the protocol.
      transport.handleEvent(DATA, 0, 4, data("late"));
      transport.handleEvent(EOF, 0, 0, null);
      // Nothing more is asked of the addon by a second close(), writes or writeEof().
      transport.close();
      transport.write(data("more"));
      transport.writeEof();
      transport.pauseReading();
      transport.resumeReading();
      expect(addon.calls).toEqual(["reading false", "notify 0"]);
      expect(transport.getWriteBufferSize()).toBe(7);
      expect(addon.flush()).toEqual([...data("pending")]);
      transport.handleEvent(DRAINED, 0, 0, null);
      expect(addon.calls).toEqual(["reading false", "notify 0", "close"]);
      expect(addon.open.has(FD)).toBe(false);
      loop.settle();
      expect(protocol.log).toEqual(["made", "lost"]);
      expect(loop.refs).toBe(0);
    });

    it("close() with nothing buffered closes the descriptor at once; connectionLost(null) follows in a loop callback", () => {
      const { addon, loop, transport, protocol } = started();
      transport.close();
      expect(addon.calls).toEqual(["reading false", "close"]);
      expect(protocol.log).toEqual(["made"]);
      loop.settle();
      expect(protocol.log).toEqual(["made", "lost"]);
    });

    it("records queued before abort() reach nothing: data, EOF, an error, a drain of a paused writer", () => {
      const { addon, loop, transport, protocol } = started();
      transport.setWriteBufferLimits(4, 0);
      transport.write(data("12345"));
      expect(protocol.log).toEqual(["made", "pause"]);
      transport.abort();
      transport.handleEvent(DATA, 0, 4, data("late"));
      transport.handleEvent(EOF, 0, 0, null);
      transport.handleEvent(ERROR, 104, 1, null);
      transport.handleEvent(DRAINED, 0, 0, null);
      transport.handleEvent(BACKLOG, 9, 0, null);
      loop.settle();
      expect(protocol.log).toEqual(["made", "pause", "lost"]);
      expect(addon.calls.filter((call) => call.startsWith("close"))).toEqual(["close"]);
      expect(loop.reports).toEqual([]);
    });

    it("abort() drops the buffered bytes and frees the descriptor's slot in the reactor's table", () => {
      const { addon, reactor, loop, transport, protocol } = started();
      expect(reactor.targets[FD]).toBe(transport);
      transport.write(data("dropped"));
      transport.abort();
      expect(reactor.targets[FD]).toBeUndefined();
      expect(addon.calls).toEqual(["close"]);
      expect(transport.getWriteBufferSize()).toBe(0);
      expect(transport.isClosing()).toBe(true);
      loop.settle();
      expect(protocol.log).toEqual(["made", "lost"]);
    });

    it("resetAndDestroy() closes with a reset, once, and connectionLost(null) runs once whatever is called after it", () => {
      const { addon, loop, transport, protocol } = started();
      const socket = transport.getExtraInfo<{ fileno(): number; resetAndDestroy(): void }>("socket")!;
      expect(socket.fileno()).toBe(FD);
      socket.resetAndDestroy();
      expect(transport.isClosing()).toBe(true);
      expect(socket.fileno()).toBe(-1);
      expect(addon.calls).toEqual(["close reset"]);
      transport.abort();
      transport.close();
      socket.resetAndDestroy();
      loop.settle();
      expect(addon.calls).toEqual(["close reset"]);
      expect(protocol.log).toEqual(["made", "lost"]);
      expect(loop.refs).toBe(0);
    });

    it("resetAndDestroy() after the connection was lost does not tell the protocol again", () => {
      const { loop, transport, protocol } = started();
      const socket = transport.getExtraInfo<{ resetAndDestroy(): void }>("socket")!;
      transport.abort();
      loop.settle();
      socket.resetAndDestroy();
      loop.settle();
      expect(protocol.log).toEqual(["made", "lost"]);
      expect(loop.refs).toBe(0);
    });

    it("discard() (the poller closing) closes the descriptor gracefully and tells no protocol; later calls touch no descriptor", () => {
      const { addon, reactor, loop, transport, protocol } = started();
      transport.pauseReading();
      transport.handleEvent(DATA, 0, 4, data("held"));
      transport.resumeReading();
      addon.calls.length = 0;
      transport.discard();
      expect(addon.calls).toEqual(["close"]);
      expect(reactor.targets[FD]).toBeUndefined();
      // A descriptor number the kernel may already have given to another socket:
      transport.pauseReading();
      transport.resumeReading();
      transport.write(data("x"));
      transport.writeEof();
      expect(transport.getWriteBufferSize()).toBe(0);
      expect(transport.getExtraInfo("peername", "gone")).toBe("gone");
      expect(transport.getExtraInfo("socket", "gone")).toBe("gone");
      transport.handleEvent(DATA, 0, 4, data("late"));
      transport.close();
      loop.settle();
      expect(addon.calls).toEqual(["close"]);
      expect(loop.reports).toEqual([]);
      expect(protocol.log).toEqual(["made"]);
      expect(addon.ctl[CTL_QUEUED]).toBe(0);
    });

    it("abort() after discard() reports the transport closing, and still tells no protocol", () => {
      const { addon, loop, transport, protocol } = started();
      transport.discard();
      expect(transport.isClosing()).toBe(false);
      transport.abort();
      expect(transport.isClosing()).toBe(true);
      loop.settle();
      expect(protocol.log).toEqual(["made"]);
      expect(addon.calls).toEqual(["close"]);
    });

    it("a listener's transport counts as accepted by it while its descriptor is open", () => {
      const listener = {};
      const { transport } = started({ owner: listener });
      expect(transport._acceptedBy(listener)).toBe(true);
      expect(transport._acceptedBy({})).toBe(false);
      transport.abort();
      expect(transport._acceptedBy(listener)).toBe(false);
    });
  });

  describe("reading", () => {
    it("pauseReading() and resumeReading() each tell the addon once, and nothing while closing", () => {
      const { addon, transport } = started();
      transport.pauseReading();
      transport.pauseReading();
      expect(transport.isReading()).toBe(false);
      transport.resumeReading();
      // Nothing was held: reading restarts at once, not in a later callback.
      expect(addon.calls).toEqual(["reading false", "reading true"]);
      transport.resumeReading();
      expect(transport.isReading()).toBe(true);
      expect(addon.calls).toEqual(["reading false", "reading true"]);
      transport.write(data("x"));
      transport.close();
      addon.calls.length = 0;
      transport.pauseReading();
      transport.resumeReading();
      expect(addon.calls).toEqual([]);
    });

    it("records that arrive after pauseReading() are held and handed over in order in a later callback, then reading restarts", () => {
      const { addon, loop, transport, protocol } = started();
      transport.pauseReading();
      transport.handleEvent(DATA, 0, 3, data("one"));
      transport.handleEvent(DATA, 0, 3, data("two"));
      expect(protocol.log).toEqual(["made"]);
      transport.resumeReading();
      expect(protocol.log).toEqual(["made"]);
      expect(addon.calls).toEqual(["reading false"]);
      loop.settle();
      expect(protocol.log).toEqual(["made", "data one", "data two"]);
      expect(addon.calls).toEqual(["reading false", "reading true"]);
      // Delivered once: another pause and resume hands nothing over again.
      transport.pauseReading();
      transport.resumeReading();
      loop.settle();
      expect(protocol.log).toEqual(["made", "data one", "data two"]);
      expect(loop.reports).toEqual([]);
    });

    it("a protocol that pauses again while held records are handed over keeps the rest held until it resumes", () => {
      const { addon, loop, transport, protocol } = started();
      protocol.onData = (text) => {
        if (text === "a") transport.pauseReading();
      };
      transport.pauseReading();
      for (const text of ["a", "b", "c"]) transport.handleEvent(DATA, 0, 1, data(text));
      transport.resumeReading();
      loop.settle();
      expect(protocol.log).toEqual(["made", "data a"]);
      expect(addon.isReading.get(FD)).toBe(false);
      transport.handleEvent(DATA, 0, 1, data("d"));
      transport.resumeReading();
      loop.settle();
      expect(protocol.log).toEqual(["made", "data a", "data b", "data c", "data d"]);
      expect(addon.isReading.get(FD)).toBe(true);
    });

    it("the peer's EOF while paused is held behind the held data; eofReceived() false then closes", () => {
      const { addon, loop, transport, protocol } = started();
      transport.pauseReading();
      transport.handleEvent(DATA, 0, 4, data("last"));
      transport.handleEvent(EOF, 0, 0, null);
      expect(protocol.log).toEqual(["made"]);
      transport.resumeReading();
      loop.settle();
      expect(protocol.log).toEqual(["made", "data last", "eof", "lost"]);
      expect(addon.calls).toEqual(["reading false", "reading false", "close"]);
    });

    it("an EOF held alone is delivered on resume; kept open, the transport writes on and never reads again", () => {
      const { addon, loop, transport, protocol } = started();
      protocol.onEof = () => true;
      transport.pauseReading();
      transport.handleEvent(EOF, 0, 0, null);
      transport.resumeReading();
      loop.settle();
      expect(protocol.log).toEqual(["made", "eof"]);
      transport.pauseReading();
      transport.resumeReading();
      loop.settle();
      expect(protocol.log).toEqual(["made", "eof"]);
      expect(addon.calls).toEqual(["reading false", "reading false"]);
      transport.write(data("reply"));
      expect(addon.flush()).toEqual([...data("reply")]);
      expect(transport.isClosing()).toBe(false);
    });

    it("an EOF while reading reaches eofReceived() at once; false closes the transport", () => {
      const { addon, loop, transport, protocol } = started();
      transport.handleEvent(EOF, 0, 0, null);
      expect(protocol.log).toEqual(["made", "eof"]);
      expect(transport.isClosing()).toBe(true);
      expect(addon.calls).toEqual(["reading false", "close"]);
      loop.settle();
      expect(protocol.log).toEqual(["made", "eof", "lost"]);
    });

    it("records that arrive after resumeReading() but before the held ones were handed over wait behind them: no reordering, no bytes lost to an early EOF", () => {
      const { loop, transport, protocol } = started();
      transport.pauseReading();
      transport.handleEvent(DATA, 0, 1, data("a"));
      transport.resumeReading();
      transport.handleEvent(DATA, 0, 1, data("b"));
      transport.handleEvent(EOF, 0, 0, null);
      expect(protocol.log).toEqual(["made"]);
      loop.settle();
      expect(protocol.log).toEqual(["made", "data a", "data b", "eof", "lost"]);
    });

    it("two resumes before the held EOF is handed over: eofReceived() once, and a socket at EOF is not read again", () => {
      const { addon, loop, transport, protocol } = started();
      protocol.onEof = () => true;
      transport.pauseReading();
      transport.handleEvent(EOF, 0, 0, null);
      transport.resumeReading();
      transport.pauseReading();
      transport.resumeReading();
      loop.settle();
      expect(protocol.log).toEqual(["made", "eof"]);
      expect(addon.calls).toEqual(["reading false", "reading false"]);
    });

    it("close() before the held records were handed over drops them, the held EOF too", () => {
      for (const record of [DATA, EOF]) {
        const { loop, transport, protocol } = started();
        transport.pauseReading();
        transport.handleEvent(record, 0, 1, record === DATA ? data("x") : null);
        transport.resumeReading();
        transport.close();
        loop.settle();
        expect(protocol.log).toEqual(["made", "lost"]);
      }
    });

    it("a protocol that closes while held records are handed over (bytes still buffered) hears no more and is not read again", () => {
      const { addon, loop, transport, protocol } = started();
      protocol.onData = () => {
        transport.write(data("bye"));
        transport.close();
      };
      transport.pauseReading();
      transport.handleEvent(DATA, 0, 1, data("a"));
      transport.handleEvent(DATA, 0, 1, data("b"));
      transport.resumeReading();
      loop.settle();
      expect(protocol.log).toEqual(["made", "data a"]);
      expect(addon.calls).toEqual(["reading false", "reading false", "notify 0"]);
    });

    it("a protocol that closes on the last held record hears no held EOF after it", () => {
      const { loop, transport, protocol } = started();
      protocol.onData = () => transport.close();
      transport.pauseReading();
      transport.handleEvent(DATA, 0, 1, data("a"));
      transport.handleEvent(EOF, 0, 0, null);
      transport.resumeReading();
      loop.settle();
      expect(protocol.log).toEqual(["made", "data a", "lost"]);
    });

    it("a transport discarded while held records wait touches no descriptor when the callback runs", () => {
      const { addon, loop, transport, protocol } = started();
      transport.pauseReading();
      transport.handleEvent(DATA, 0, 1, data("a"));
      transport.resumeReading();
      transport.discard();
      loop.settle();
      expect(loop.reports).toEqual([]);
      expect(protocol.log).toEqual(["made"]);
      expect(addon.calls).toEqual(["reading false", "close"]);
    });

    it("setProtocol() sends the next records, and connectionLost, to the new protocol", () => {
      const { loop, transport, protocol } = started();
      const next = new Log();
      transport.setProtocol(next as BaseProtocol);
      expect(transport.getProtocol()).toBe(next);
      transport.handleEvent(DATA, 0, 4, data("next"));
      transport.abort();
      loop.settle();
      expect(protocol.log).toEqual(["made"]);
      expect(next.log).toEqual(["data next", "lost"]);
    });
  });

  describe("failures", () => {
    it("an error record closes the transport with Node's system error of the failed call, without a report", () => {
      for (const [b, syscall] of [
        [1, "read"],
        [2, "write"],
      ] as const) {
        const { addon, loop, transport, protocol } = started();
        transport.write(data("unsent"));
        transport.handleEvent(ERROR, 104, b, null);
        expect(transport.isClosing()).toBe(true);
        expect(addon.calls).toEqual(["close"]);
        loop.settle();
        expect(protocol.log).toEqual(["made", "lost ECONNRESET"]);
        expect(protocol.lost[0]).toMatchObject({ code: "ECONNRESET", errno: -104, syscall });
        expect(loop.reports).toEqual([]);
      }
    });

    it("dataReceived() that throws is asyncio's fatal error: reported with the transport and protocol, and connectionLost gets the error", () => {
      const { addon, loop, transport, protocol } = started();
      const boom = new Error("boom");
      protocol.onData = () => {
        throw boom;
      };
      transport.handleEvent(DATA, 0, 1, data("x"));
      expect(loop.reports).toEqual([{ message: "Fatal error: protocol.dataReceived() call failed.", exception: boom, transport, protocol }]);
      expect(addon.calls).toEqual(["close"]);
      loop.settle();
      expect(protocol.lost).toEqual([boom]);
    });

    it("dataReceived() that throws while held records are handed over is the same fatal error; a thrown non-Error reaches connectionLost as an Error", () => {
      const { addon, loop, transport, protocol } = started();
      protocol.onData = () => {
        throw "not an error"; // what a careless protocol may do
      };
      transport.pauseReading();
      transport.handleEvent(DATA, 0, 1, data("x"));
      transport.handleEvent(DATA, 0, 1, data("y"));
      transport.resumeReading();
      loop.settle();
      expect(loop.reports.map((report) => [report.message, report.exception])).toEqual([["Fatal error: protocol.dataReceived() call failed.", "not an error"]]);
      expect(protocol.log).toEqual(["made", "data x", "lost not an error"]);
      expect(protocol.lost[0]).toBeInstanceOf(Error);
      expect(addon.calls).toEqual(["reading false", "close"]);
    });

    it("eofReceived() that throws is a fatal error on the transport", () => {
      const { loop, transport, protocol } = started();
      const boom = new TypeError("eof");
      protocol.onEof = () => {
        throw boom;
      };
      transport.handleEvent(EOF, 0, 0, null);
      expect(loop.reports).toEqual([{ message: "Fatal error on transport", exception: boom, transport, protocol }]);
      loop.settle();
      expect(protocol.lost).toEqual([boom]);
    });
  });

  describe("writing", () => {
    it("write() after writeEof() throws; writeEof() shuts the sending side down once; reading goes on", () => {
      const { addon, transport, protocol } = started();
      transport.write(data("last"));
      transport.writeEof();
      transport.writeEof();
      expect(addon.calls.filter((call) => call === "shutdown")).toEqual(["shutdown"]);
      expect(() => transport.write(data("x"))).toThrow(new Error("Transport.write: cannot write after writeEof()"));
      expect(() => transport.write(new Uint8Array(0))).toThrow(/after writeEof/);
      expect(addon.flush()).toEqual([...data("last")]);
      transport.handleEvent(DATA, 0, 5, data("reply"));
      expect(protocol.log).toEqual(["made", "data reply"]);
    });

    it("writelines() writes each buffer in order; empty writes stage nothing", () => {
      const { addon, transport } = started();
      transport.write(new Uint8Array(0));
      expect(addon.flushesAsked).toBe(0);
      expect(addon.ctl[CTL_QUEUED]).toBe(0);
      transport.writelines([data("a"), data("bc"), new Uint8Array(0), data("d")]);
      expect(addon.ctl[CTL_QUEUED]).toBe(3);
      expect(Buffer.from(addon.flush()).toString()).toBe("abcd");
    });

    it("pauseWriting() once the bytes written since the last flush pass the high mark; each flush starts the count again", () => {
      const { addon, transport, protocol } = started();
      const chunk = Buffer.alloc(40 * 1024, 1);
      transport.write(chunk);
      expect(protocol.log).toEqual(["made"]);
      transport.write(chunk); // 80 KiB staged in one batch
      expect(protocol.log).toEqual(["made", "pause"]);
      expect(addon.calls).toEqual(["notify 16384"]);
      const second = started();
      second.transport.write(chunk);
      second.addon.flush(); // all sent
      second.transport.write(chunk);
      expect(second.protocol.log).toEqual(["made"]);
    });

    it("the backlog a full socket left at the last flush counts toward the high mark, until the addon reports it gone", () => {
      const { addon, transport, protocol } = started();
      addon.flush();
      transport.handleEvent(BACKLOG, 60 * 1024, 0, null);
      transport.write(Buffer.alloc(8 * 1024)); // 68 KiB
      expect(protocol.log).toEqual(["made", "pause"]);
      transport.handleEvent(DRAINED, 0, 0, null);
      expect(protocol.log).toEqual(["made", "pause", "resume"]);
      addon.flush();
      transport.handleEvent(BACKLOG, 0, 0, null);
      transport.write(Buffer.alloc(8 * 1024));
      expect(protocol.log).toEqual(["made", "pause", "resume"]);
    });

    it("a write bigger than the staging limit goes to the addon directly and counts what it reports buffered", () => {
      const { addon, transport, protocol } = started();
      transport.write(data("ab"));
      transport.write(Buffer.alloc(70 * 1024, 2));
      expect(addon.calls).toEqual(["write 71680", "notify 16384"]);
      expect(protocol.log).toEqual(["made", "pause"]);
      const sent = addon.flush();
      expect(sent.length).toBe(2 + 70 * 1024);
      expect(Buffer.from(sent.slice(0, 2)).toString()).toBe("ab");
    });

    it("resumeWriting() once the buffer is down to the low mark, not a byte above; the next overflow pauses again", () => {
      const { addon, transport, protocol } = started();
      transport.setWriteBufferLimits(100, 10);
      transport.write(Buffer.alloc(101));
      expect(protocol.log).toEqual(["made", "pause"]);
      addon.calls.length = 0;
      transport.handleEvent(DRAINED, 11, 0, null);
      expect(protocol.log).toEqual(["made", "pause"]);
      expect(addon.calls).toEqual(["notify 10"]);
      transport.handleEvent(DRAINED, 10, 0, null);
      expect(protocol.log).toEqual(["made", "pause", "resume"]);
      addon.flush();
      transport.write(Buffer.alloc(101));
      expect(protocol.log).toEqual(["made", "pause", "resume", "pause"]);
    });

    it("a DRAINED record for a writer that is not paused changes nothing", () => {
      const { addon, transport, protocol } = started();
      transport.handleEvent(DRAINED, 0, 0, null);
      expect(protocol.log).toEqual(["made"]);
      expect(addon.calls).toEqual([]);
    });

    it("setWriteBufferLimits() pauses at once when the buffer is past the new high mark (not at it), and resumes when it is down to the new low mark", () => {
      const { transport, protocol } = started();
      transport.write(Buffer.alloc(1000));
      transport.setWriteBufferLimits(1000);
      expect(protocol.log).toEqual(["made"]);
      transport.setWriteBufferLimits(999);
      expect(protocol.log).toEqual(["made", "pause"]);
      transport.setWriteBufferLimits(999);
      expect(protocol.log).toEqual(["made", "pause"]);
      transport.setWriteBufferLimits(4000, 1001);
      expect(protocol.log).toEqual(["made", "pause", "resume"]);
      expect(transport.getWriteBufferLimits()).toEqual({ high: 4000, low: 1001 });
    });

    it("setWriteBufferLimits() defaults and checks its arguments as asyncio's set_write_buffer_limits", () => {
      const { transport } = started();
      transport.setWriteBufferLimits(undefined, 100);
      expect(transport.getWriteBufferLimits()).toEqual({ high: 400, low: 100 });
      transport.setWriteBufferLimits(1000);
      expect(transport.getWriteBufferLimits()).toEqual({ high: 1000, low: 250 });
      transport.setWriteBufferLimits(1001, 7);
      expect(transport.getWriteBufferLimits()).toEqual({ high: 1001, low: 7 });
      transport.setWriteBufferLimits();
      expect(transport.getWriteBufferLimits()).toEqual({ high: 64 * 1024, low: 16 * 1024 });
      transport.setWriteBufferLimits(10, 10);
      transport.setWriteBufferLimits(10, 0);
      expect(transport.getWriteBufferLimits()).toEqual({ high: 10, low: 0 });
      expect(() => transport.setWriteBufferLimits(10, 20)).toThrow(new RangeError("setWriteBufferLimits(high, low): need high (10) >= low (20) >= 0"));
      expect(() => transport.setWriteBufferLimits(10, -1)).toThrow(RangeError);
      expect(transport.getWriteBufferLimits()).toEqual({ high: 10, low: 0 });
    });

    it("pauseWriting() and resumeWriting() that throw are reported, and flow control goes on", () => {
      const { addon, loop, transport, protocol } = started();
      const paused = new Error("pause");
      const resumed = new Error("resume");
      protocol.onPause = () => {
        throw paused;
      };
      protocol.onResume = () => {
        throw resumed;
      };
      transport.setWriteBufferLimits(10, 2);
      transport.write(Buffer.alloc(11));
      expect(loop.reports).toEqual([{ message: "protocol.pauseWriting() failed", exception: paused, transport }]);
      expect(addon.calls).toContain("notify 2");
      transport.handleEvent(DRAINED, 0, 0, null);
      expect(loop.reports).toEqual([
        { message: "protocol.pauseWriting() failed", exception: paused, transport },
        { message: "protocol.resumeWriting() failed", exception: resumed, transport },
      ]);
      expect(protocol.log).toEqual(["made", "pause", "resume"]);
      expect(transport.isClosing()).toBe(false);
    });

    it("a protocol that aborts in pauseWriting() leaves no notify on the closed descriptor", () => {
      const { addon, loop, transport, protocol } = started();
      protocol.onPause = () => transport.abort();
      transport.setWriteBufferLimits(10, 2);
      expect(() => transport.write(Buffer.alloc(11))).not.toThrow();
      expect(addon.calls).toEqual(["close"]);
      loop.settle();
      expect(protocol.log).toEqual(["made", "pause", "lost"]);
    });
  });

  describe("extra info", () => {
    it("peername and sockname are the addon's (IPv4, IPv6), and the fallback once the descriptor is closed", () => {
      const { addon, transport } = started();
      addon.peer = ["::1", 5000, 6];
      expect(transport.getExtraInfo("peername")).toEqual({ address: "::1", family: "IPv6", port: 5000 });
      expect(transport.getExtraInfo("sockname")).toEqual({ address: "127.0.0.1", family: "IPv4", port: 4000 });
      addon.self = null;
      expect(transport.getExtraInfo("sockname", "none")).toBe("none");
      addon.peer = ["/run/peer.sock", 0, 0];
      expect(transport.getExtraInfo("peername")).toBe("/run/peer.sock");
      transport.abort();
      expect(transport.getExtraInfo("peername", "closed")).toBe("closed");
      expect(transport.getExtraInfo("sockname")).toBeUndefined();
    });

    it("a Unix connection names its path, even once closed; an accepted one's unnamed peer is \"\"", () => {
      const connected = started({ unixPath: "/run/server.sock" });
      connected.addon.peer = ["/elsewhere", 0, 0];
      expect(connected.transport.getExtraInfo("peername")).toBe("/run/server.sock");
      connected.transport.abort();
      expect(connected.transport.getExtraInfo("peername")).toBe("/run/server.sock");
      const accepted = started({ unixPath: "" });
      accepted.addon.peer = ["/elsewhere", 0, 0];
      expect(accepted.transport.getExtraInfo("peername", "fallback")).toBe("");
      expect(accepted.transport.getExtraInfo("sockname", "fallback")).toBe("");
    });

    it("an idle TCP or accepted Unix connection keeps no rarely used state: backlogs of 0 and handed-over reads leave none behind", () => {
      const extra = (transport: SelectorTransport): unknown => (transport as unknown as { _extra: unknown })._extra;
      for (const unixPath of [undefined, ""]) {
        const { loop, transport } = started(unixPath === undefined ? {} : { unixPath });
        transport.handleEvent(BACKLOG, 0, 0, null);
        transport.handleEvent(DATA, 0, 1, data("x"));
        transport.write(data("y"));
        transport.pauseReading();
        transport.resumeReading();
        loop.settle();
        transport.close();
        expect(extra(transport)).toBeNull();
      }
    });
  });
});

/**
 * How a Node socket transport writes: flow control against the write-buffer limits
 * (pauseWriting / resumeWriting, asyncio's FlowControlMixin), writeEof, writes after
 * close or loss, abort. On a stand-in socket (fake-socket.ts) whose buffer the test
 * fills and drains.
 */
import { run } from "@loop/core";
import { describe, expect, it } from "vitest";
import { writeBufferLimits } from "../src/node-transport.js";
import { bytes, fakeTransport } from "./fake-socket.js";

describe("write-buffer limits", () => {
  it("default to asyncio's: 64 KiB high, a quarter of it low", async () => {
    await run(function* () {
      const { transport } = fakeTransport();
      expect(transport.getWriteBufferLimits()).toEqual({ high: 65536, low: 16384 });
      transport.setWriteBufferLimits(1000, 10);
      transport.setWriteBufferLimits();
      expect(transport.getWriteBufferLimits()).toEqual({ high: 65536, low: 16384 });
      transport.abort();
    });
  });

  it("take low as a quarter of high, and high as four times low, when only one is given", () => {
    expect(writeBufferLimits()).toEqual([65536, 16384]);
    expect(writeBufferLimits(100)).toEqual([100, 25]);
    expect(writeBufferLimits(101)).toEqual([101, 25]);
    expect(writeBufferLimits(undefined, 1000)).toEqual([4000, 1000]);
    expect(writeBufferLimits(undefined, 0)).toEqual([0, 0]);
  });

  it("accept high equal to low and low 0; reject low above high or under 0 with a RangeError naming both", () => {
    expect(writeBufferLimits(10, 10)).toEqual([10, 10]);
    expect(writeBufferLimits(10, 0)).toEqual([10, 0]);
    expect(writeBufferLimits(0, 0)).toEqual([0, 0]);
    expect(() => writeBufferLimits(10, 11)).toThrow(new RangeError("setWriteBufferLimits(high, low): need high (10) >= low (11) >= 0"));
    expect(() => writeBufferLimits(10, -1)).toThrow(new RangeError("setWriteBufferLimits(high, low): need high (10) >= low (-1) >= 0"));
    expect(() => writeBufferLimits(-4)).toThrow(RangeError);
  });
});

describe("flow control", () => {
  it("pauses the protocol once past the high mark, waits for the buffer to drain to the low mark, and does it again next time", async () => {
    await run(function* () {
      const { transport, socket, dispatcher, log } = fakeTransport();
      transport.setWriteBufferLimits(10, 4);
      log.length = 0;
      transport.write(bytes("aaaaaaaaaa")); // 10: at the mark, not over it
      expect(log).toEqual(["socket.write 10"]);
      transport.write(bytes("b")); // 11
      transport.write(bytes("ccccc")); // paused already: no second pause, no second wait
      expect(log).toEqual(["socket.write 10", "socket.write 1", "pauseWriting", "socket.write 0", "socket.write 5"]);
      log.length = 0;
      socket.drain(5); // the wait's write is out, but 5 > 4 still wait
      dispatcher.deliver();
      expect(log).toEqual(["push FLUSHED", "socket.write 0"]);
      log.length = 0;
      socket.drain(4); // at the low mark
      dispatcher.deliver();
      expect(log).toEqual(["push FLUSHED", "resumeWriting"]);
      log.length = 0;
      transport.write(bytes("ddddddd")); // 11 again
      socket.drain(0);
      dispatcher.deliver();
      expect(log).toEqual(["socket.write 7", "pauseWriting", "socket.write 0", "push FLUSHED", "resumeWriting"]);
      transport.abort();
    });
  });

  it("setWriteBufferLimits under the buffered bytes pauses the protocol; above them, while paused, resumes it at once", async () => {
    await run(function* () {
      const { transport, log } = fakeTransport();
      transport.write(bytes("aaaaaaaa")); // 8, far under 64 KiB
      log.length = 0;
      transport.setWriteBufferLimits(8, 2); // 8 is not over 8
      expect(log).toEqual([]);
      transport.setWriteBufferLimits(7, 2);
      expect(log).toEqual(["pauseWriting", "socket.write 0"]);
      log.length = 0;
      transport.setWriteBufferLimits(6, 1); // paused already, its wait still pending
      expect(log).toEqual([]);
      transport.setWriteBufferLimits(100, 8); // 8 is not over the new low mark
      expect(log).toEqual(["resumeWriting"]);
      transport.setWriteBufferLimits(100, 0); // not paused: nothing to resume
      expect(log).toEqual(["resumeWriting"]);
      transport.abort();
    });
  });

  it("a pauseWriting or resumeWriting that throws is reported to the loop, and flow control goes on", async () => {
    await run(function* () {
      const { transport, socket, dispatcher, protocol, log, reported } = fakeTransport();
      const pauseError = new Error("pause failed");
      const resumeError = new Error("resume failed");
      protocol.pauseWriting = () => {
        throw pauseError;
      };
      protocol.resumeWriting = () => {
        throw resumeError;
      };
      transport.setWriteBufferLimits(1, 0);
      transport.write(bytes("ab"));
      socket.drain(0);
      dispatcher.deliver();
      expect(reported).toEqual([
        { message: "protocol.pauseWriting() failed", exception: pauseError, transport },
        { message: "protocol.resumeWriting() failed", exception: resumeError, transport },
      ]);
      expect(log).toContain("socket.write 0");
      transport.abort();
    });
  });
});

describe("writing", () => {
  it("writes nothing for an empty write, and writelines writes each buffer in order", async () => {
    await run(function* () {
      const { transport, log } = fakeTransport();
      log.length = 0;
      transport.write(new Uint8Array(0));
      transport.writelines([bytes("a"), bytes("bb"), bytes("ccc")]);
      expect(log).toEqual(["socket.write 1", "socket.write 2", "socket.write 3"]);
      transport.abort();
    });
  });

  it("drops writes after close(), after abort() and after the connection is lost", async () => {
    await run(function* () {
      for (const end of ["close", "abort", "lost"] as const) {
        const { transport, socket, dispatcher, log } = fakeTransport();
        if (end === "close") transport.close();
        else if (end === "abort") transport.abort();
        else {
          socket.emit("close");
          dispatcher.deliver();
        }
        log.length = 0;
        transport.write(bytes("late"));
        expect(log).toEqual([]);
        if (end !== "lost") transport.abort();
      }
    });
  });

  it("abort() destroys the socket at once; the transport is closing from then on", async () => {
    await run(function* () {
      const { transport, log } = fakeTransport();
      log.length = 0;
      transport.abort();
      expect(log).toEqual(["socket.destroy"]);
      expect(transport.isClosing()).toBe(true);
      expect(transport.isReading()).toBe(false);
    });
  });

  it("writeEof ends the socket once; a write after it throws", async () => {
    await run(function* () {
      const { transport, log } = fakeTransport();
      expect(transport.canWriteEof()).toBe(true);
      log.length = 0;
      transport.writeEof();
      transport.writeEof();
      expect(log).toEqual(["socket.end"]);
      expect(() => transport.write(bytes("late"))).toThrow(new Error("Transport.write: cannot write after writeEof()"));
      transport.abort();
    });
  });

  it("writeEof after close() does nothing", async () => {
    await run(function* () {
      const { transport, log } = fakeTransport();
      transport.close();
      log.length = 0;
      transport.writeEof();
      expect(log).toEqual([]);
    });
  });

  it("a TLS transport cannot half-close: writeEof throws, unless the transport is closing already", async () => {
    await run(function* () {
      const { transport, log } = fakeTransport({ tls: true });
      expect(transport.canWriteEof()).toBe(false);
      expect(() => transport.writeEof()).toThrow(new Error("Transport.writeEof: TLS transports cannot half-close (canWriteEof() is false)"));
      transport.write(bytes("still open"));
      expect(log.at(-1)).toBe("socket.write 10");
      transport.close();
      expect(() => transport.writeEof()).not.toThrow();
    });
  });
});

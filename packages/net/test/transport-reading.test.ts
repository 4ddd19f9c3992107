/**
 * How a Node socket transport reads: read shares and the backlog past them, pausing and
 * resuming reading (what arrives meanwhile waits, in order), the end of the stream, errors
 * thrown by the protocol, and what happens once the connection is lost or the socket is
 * handed over (startTls). On a stand-in socket and dispatcher (fake-socket.ts), so every
 * step is the test's to take and every call on the socket is in the log.
 */
import { Buffer } from "node:buffer";
import { run, type Protocol } from "@loop/core";
import { describe, expect, it } from "vitest";
import { CLOSE, DATA, END, ERROR, STARTED } from "../src/node-transport.js";
import { bytes, fakeTransport } from "./fake-socket.js";

describe("read shares", () => {
  it("a socket's first data of a dispatcher round marks it active, once per round", async () => {
    await run(function* () {
      const { transport, dispatcher, log } = fakeTransport();
      log.length = 0;
      dispatcher.round = 1;
      transport.incoming(DATA, bytes("ab"));
      transport.incoming(DATA, bytes("cd"));
      dispatcher.round = 2;
      transport.incoming(DATA, bytes("ef"));
      expect(log).toEqual(["noteActive", "push DATA ab", "push DATA cd", "noteActive", "push DATA ef"]);
      transport.abort();
    });
  });

  it("data up to the share goes to the loop at once; the rest and every later event wait, in order, for the next host iteration", async () => {
    await run(function* () {
      const { transport, dispatcher, log } = fakeTransport();
      log.length = 0;
      transport.incoming(DATA, bytes("aaaaaa"));
      transport.incoming(DATA, bytes("bbbbbbbbbb")); // 4 of 10 fit the share of 10
      transport.incoming(END, null);
      expect(log).toEqual(["noteActive", "push DATA aaaaaa", "push DATA bbbb", "releaseLater"]);
      log.length = 0;
      dispatcher.deliver();
      dispatcher.releaseHeld();
      expect(log).toEqual(["data aaaaaa", "data bbbb", "push DATA bbbbbb", "push END", "release → false"]);
      log.length = 0;
      dispatcher.deliver();
      // Never throttled, so the socket is not resumed; the end closes the transport.
      expect(log).toEqual(["data bbbbbb", "eof", "socket.pause", "socket.destroySoon"]);
    });
  });

  it("a chunk that exactly fills the share goes whole; the next one, with no room left, waits whole", async () => {
    await run(function* () {
      const { transport, dispatcher, log } = fakeTransport();
      log.length = 0;
      transport.incoming(DATA, bytes("aaaaaaaaaa"));
      expect(log).toEqual(["noteActive", "push DATA aaaaaaaaaa"]);
      transport.incoming(DATA, bytes("cc"));
      expect(log).toEqual(["noteActive", "push DATA aaaaaaaaaa", "releaseLater"]);
      log.length = 0;
      dispatcher.deliver();
      dispatcher.releaseHeld();
      dispatcher.deliver();
      expect(log).toEqual(["data aaaaaaaaaa", "push DATA cc", "release → false", "data cc"]);
      transport.abort();
    });
  });

  it("a release hands over only what fits beside the data still queued, splitting a chunk, and the rest stays first in line", async () => {
    await run(function* () {
      const { transport, dispatcher, log } = fakeTransport();
      transport.incoming(DATA, bytes("aaaaaaaaaa"));
      transport.incoming(DATA, bytes("bbbb"));
      transport.incoming(DATA, bytes("cccccccc"));
      transport.incoming(DATA, bytes("dd"));
      dispatcher.deliver();
      log.length = 0;
      dispatcher.releaseHeld(); // a share of 10: bbbb and 6 of the c's
      expect(log).toEqual(["push DATA bbbb", "push DATA cccccc", "release → true"]);
      log.length = 0;
      dispatcher.releaseHeld(); // nothing delivered since: no room
      expect(log).toEqual(["release → true"]);
      log.length = 0;
      dispatcher.deliver();
      transport.incoming(DATA, bytes("e")); // behind the backlog
      dispatcher.releaseHeld();
      dispatcher.deliver();
      expect(log).toEqual(["data bbbb", "data cccccc", "push DATA cc", "push DATA dd", "push DATA e", "release → false", "data cc", "data dd", "data e"]);
      transport.abort();
    });
  });

  it("a release stops exactly at the share when a chunk fills it to the byte", async () => {
    await run(function* () {
      const { transport, dispatcher, log } = fakeTransport();
      transport.incoming(DATA, bytes("aaaa"));
      transport.incoming(DATA, bytes("bbbbbbbbbbbb")); // 6 fit, 6 wait
      transport.incoming(DATA, bytes("cccc"));
      transport.incoming(DATA, bytes("ddd"));
      dispatcher.deliver();
      log.length = 0;
      dispatcher.releaseHeld(); // bbbbbb and cccc: exactly 10
      expect(log).toEqual(["push DATA bbbbbb", "push DATA cccc", "release → true"]);
      log.length = 0;
      dispatcher.deliver();
      dispatcher.releaseHeld();
      expect(log).toEqual(["data bbbbbb", "data cccc", "push DATA ddd", "release → false"]);
      transport.abort();
    });
  });

  it("past two shares waiting, the socket is paused once, and resumed once when the backlog is all released", async () => {
    await run(function* () {
      const { transport, dispatcher, log } = fakeTransport();
      transport.incoming(DATA, bytes("aaaaaaaaaa"));
      log.length = 0;
      transport.incoming(DATA, bytes("b".repeat(19)));
      expect(log).toEqual(["releaseLater"]); // 19 waiting: under two shares
      transport.incoming(DATA, bytes("c"));
      expect(log).toEqual(["releaseLater", "socket.pause"]); // 20: two shares
      transport.incoming(DATA, bytes("ddddd"));
      transport.incoming(END, null);
      expect(log).toEqual(["releaseLater", "socket.pause"]);
      log.length = 0;
      for (let i = 0; i < 4; i++) {
        dispatcher.deliver();
        dispatcher.releaseHeld();
      }
      dispatcher.deliver();
      expect(log).toEqual([
        "data aaaaaaaaaa",
        "push DATA bbbbbbbbbb",
        "release → true",
        "data bbbbbbbbbb",
        "push DATA bbbbbbbbb",
        "push DATA c",
        "release → true",
        "data bbbbbbbbb",
        "data c",
        "push DATA ddddd",
        "push END",
        "socket.resume",
        "release → false",
        "data ddddd",
        "eof",
        "socket.pause",
        "socket.destroySoon",
      ]);
    });
  });

  it("a socket throttled, then resumed by the release of its backlog, is paused again the next time two shares wait", async () => {
    await run(function* () {
      const { transport, dispatcher, log } = fakeTransport();
      for (let round = 0; round < 2; round++) {
        transport.incoming(DATA, bytes("a".repeat(10)));
        transport.incoming(DATA, bytes("b".repeat(20)));
        for (let i = 0; i < 3; i++) {
          dispatcher.deliver();
          dispatcher.releaseHeld();
        }
        dispatcher.deliver();
      }
      expect(log.filter((line) => line.startsWith("socket"))).toEqual(["socket.pause", "socket.resume", "socket.pause", "socket.resume"]);
      transport.abort();
    });
  });

  it("the bytes a release hands over no longer count as waiting: the socket is paused only when two shares wait again", async () => {
    await run(function* () {
      const { transport, dispatcher, log } = fakeTransport();
      transport.incoming(DATA, bytes("aaaaaaaaaa"));
      transport.incoming(DATA, bytes("b".repeat(18)));
      dispatcher.deliver();
      dispatcher.releaseHeld(); // 10 of the b's go; 8 wait
      log.length = 0;
      transport.incoming(DATA, bytes("c".repeat(11))); // 19 wait
      expect(log).toEqual([]);
      transport.incoming(DATA, bytes("d")); // 20
      expect(log).toEqual(["socket.pause"]);
      transport.abort();
    });
  });

  it("a closed transport's socket is not resumed when its backlog has all been released", async () => {
    await run(function* () {
      const { transport, dispatcher, log } = fakeTransport();
      transport.incoming(DATA, bytes("aaaaaaaaaa"));
      transport.incoming(DATA, bytes("b".repeat(20))); // throttled
      transport.close();
      log.length = 0;
      for (let i = 0; i < 3; i++) {
        dispatcher.deliver();
        dispatcher.releaseHeld();
      }
      // No "socket.resume" after the last release.
      expect(log).toEqual(["data aaaaaaaaaa", "push DATA bbbbbbbbbb", "release → true", "data bbbbbbbbbb", "push DATA bbbbbbbbbb", "release → false", "data bbbbbbbbbb"]);
    });
  });

  it("while the protocol has paused reading a release hands over nothing; resumeReading asks for the release again, once", async () => {
    await run(function* () {
      const { transport, dispatcher, log } = fakeTransport();
      transport.incoming(DATA, bytes("aaaaaaaaaa"));
      transport.incoming(DATA, bytes("bbbbb"));
      dispatcher.deliver();
      transport.pauseReading();
      log.length = 0;
      dispatcher.releaseHeld();
      expect(log).toEqual(["release → false"]);
      log.length = 0;
      transport.resumeReading();
      transport.resumeReading(); // not paused: nothing to do
      transport.pauseReading();
      transport.resumeReading(); // the release asked for is still to come
      expect(log).toEqual(["socket.resume", "releaseLater", "socket.pause", "socket.resume"]);
      log.length = 0;
      dispatcher.releaseHeld();
      dispatcher.deliver();
      expect(log).toEqual(["push DATA bbbbb", "release → false", "data bbbbb"]);
      transport.abort();
    });
  });

  it("resumeReading leaves a throttled socket paused: the backlog's release resumes it", async () => {
    await run(function* () {
      const { transport, dispatcher, log } = fakeTransport();
      transport.incoming(DATA, bytes("aaaaaaaaaa"));
      transport.incoming(DATA, bytes("b".repeat(20))); // throttled
      dispatcher.deliver();
      transport.pauseReading();
      log.length = 0;
      transport.resumeReading();
      expect(log).toEqual([]);
      transport.abort();
    });
  });

  it("resumeReading with nothing held resumes the socket within the call, and asks for no release when nothing waits", async () => {
    await run(function* () {
      const { transport, log } = fakeTransport();
      transport.pauseReading();
      log.length = 0;
      transport.resumeReading();
      expect(log).toEqual(["socket.resume"]);
      transport.abort();
    });
  });
});

describe("pausing reading", () => {
  it("data and the end that arrive while reading is paused wait, then come in order from a loop callback after resumeReading", async () => {
    await run(function* () {
      const { transport, dispatcher, log } = fakeTransport();
      transport.pauseReading();
      transport.incoming(DATA, bytes("x"));
      transport.incoming(END, null);
      dispatcher.deliver();
      log.length = 0;
      transport.resumeReading();
      expect(log).toEqual([]);
      yield;
      expect(log).toEqual(["data x", "eof", "socket.pause", "socket.destroySoon"]);
    });
  });

  it("an end alone while paused waits for resumeReading too", async () => {
    await run(function* () {
      const { transport, dispatcher, log, reported } = fakeTransport();
      transport.pauseReading();
      transport.incoming(END, null);
      dispatcher.deliver();
      log.length = 0;
      expect(log).toEqual([]);
      transport.resumeReading();
      yield;
      expect(log).toEqual(["eof", "socket.pause", "socket.destroySoon"]);
      expect(reported).toEqual([]);
    });
  });

  it("data and the end that arrive after resumeReading, before the held bytes are handed over, never overtake them", async () => {
    await run(function* () {
      const { transport, dispatcher, log } = fakeTransport();
      transport.pauseReading();
      transport.incoming(DATA, bytes("x"));
      dispatcher.deliver();
      transport.resumeReading();
      transport.incoming(DATA, bytes("y"));
      transport.incoming(END, null);
      log.length = 0;
      dispatcher.deliver();
      expect(log).toEqual([]);
      yield;
      expect(log).toEqual(["data x", "data y", "eof", "socket.pause", "socket.destroySoon"]);
    });
  });

  it("a protocol that pauses again while held bytes are handed over keeps the rest held until it resumes", async () => {
    await run(function* () {
      const { transport, dispatcher, protocol, log } = fakeTransport();
      protocol.dataReceived = (data) => {
        log.push(`data ${Buffer.from(data).toString()}`);
        if (data[0] === "x".charCodeAt(0)) transport.pauseReading();
      };
      transport.pauseReading();
      transport.incoming(DATA, bytes("x"));
      transport.incoming(DATA, bytes("y"));
      dispatcher.deliver();
      log.length = 0;
      transport.resumeReading();
      yield;
      expect(log).toEqual(["data x", "socket.pause"]);
      transport.resumeReading();
      yield;
      expect(log).toEqual(["data x", "socket.pause", "data y", "socket.resume"]);
      transport.abort();
    });
  });

  it("after the held bytes (and no end), the socket is resumed; with the end it is not, and the end is not heard twice", async () => {
    await run(function* () {
      const { transport, dispatcher, protocol, log } = fakeTransport();
      protocol.keepOpenOnEof = true;
      transport.pauseReading();
      transport.incoming(DATA, bytes("x"));
      dispatcher.deliver();
      log.length = 0;
      transport.resumeReading();
      yield;
      expect(log).toEqual(["data x", "socket.resume"]);
      transport.pauseReading();
      transport.incoming(END, null);
      dispatcher.deliver();
      log.length = 0;
      transport.resumeReading();
      yield;
      expect(log).toEqual(["eof"]);
      transport.pauseReading();
      transport.resumeReading();
      yield;
      expect(log).toEqual(["eof", "socket.pause", "socket.resume"]);
      transport.abort();
    });
  });

  it("a throttled socket stays paused after the held bytes: the backlog's release resumes it", async () => {
    await run(function* () {
      const { transport, dispatcher, log } = fakeTransport();
      transport.pauseReading();
      transport.incoming(DATA, bytes("aaaaaaaaaa"));
      transport.incoming(DATA, bytes("b".repeat(20))); // throttled
      dispatcher.deliver();
      log.length = 0;
      transport.resumeReading();
      yield;
      expect(log).toEqual(["data aaaaaaaaaa"]);
      transport.abort();
    });
  });

  it("held bytes and a held end are dropped once the connection is lost before they are handed over", async () => {
    await run(function* () {
      const { transport, dispatcher, log, reported } = fakeTransport();
      transport.pauseReading();
      transport.incoming(DATA, bytes("x"));
      transport.incoming(END, null);
      dispatcher.deliver();
      transport.resumeReading();
      transport.incoming(CLOSE, null);
      dispatcher.deliver();
      yield;
      expect(log.filter((line) => !line.startsWith("push") && !line.startsWith("socket") && line !== "noteActive")).toEqual(["made", "lost null"]);
      expect(reported).toEqual([]);
    });
  });

  it("after close(), pauseReading does nothing: data already read still reaches the protocol", async () => {
    await run(function* () {
      const { transport, dispatcher, log } = fakeTransport();
      transport.incoming(DATA, bytes("x"));
      transport.close();
      log.length = 0;
      transport.pauseReading();
      dispatcher.deliver();
      expect(log).toEqual(["data x"]);
      expect(transport.isReading()).toBe(false);
    });
  });

  it("pauseReading twice pauses the socket once", async () => {
    await run(function* () {
      const { transport, log } = fakeTransport();
      log.length = 0;
      transport.pauseReading();
      transport.pauseReading();
      expect(log).toEqual(["socket.pause"]);
      expect(transport.isReading()).toBe(false);
      transport.abort();
    });
  });

  it("after close(), resumeReading hands nothing held over and leaves the socket paused", async () => {
    await run(function* () {
      const { transport, dispatcher, log } = fakeTransport();
      transport.pauseReading();
      transport.incoming(DATA, bytes("x"));
      dispatcher.deliver();
      transport.close();
      log.length = 0;
      transport.resumeReading();
      yield;
      expect(log).toEqual([]);
    });
  });

  it("close() stops reading: the socket is paused, its data no longer listened to, and a second close() does nothing", async () => {
    await run(function* () {
      const { transport, socket, log } = fakeTransport();
      log.length = 0;
      transport.close();
      socket.emit("data", bytes("late"));
      transport.close();
      expect(log).toEqual(["socket.pause", "socket.destroySoon"]);
      expect(transport.isClosing()).toBe(true);
    });
  });

  it("a protocol that pauses reading in connectionMade gets the socket's data once it resumes", async () => {
    await run(function* () {
      const { transport, socket, dispatcher, protocol, log } = fakeTransport({ start: false });
      protocol.connectionMade = (t) => {
        log.push("made");
        (t as typeof transport).pauseReading();
      };
      transport.start(protocol, true);
      transport.resumeReading();
      socket.emit("data", bytes("x"));
      dispatcher.deliver();
      expect(log).toEqual(["made", "socket.pause", "socket.resume", "noteActive", "push DATA x", "data x"]);
      transport.abort();
    });
  });
});

describe("errors and the end of the connection", () => {
  it("a dataReceived that throws is reported as a fatal error; the transport closes at once and the protocol loses the connection with that error", async () => {
    await run(function* () {
      const { transport, socket, dispatcher, protocol, log, reported } = fakeTransport();
      const boom = new Error("boom");
      protocol.dataReceived = () => {
        throw boom;
      };
      transport.incoming(DATA, bytes("x"));
      log.length = 0;
      dispatcher.deliver();
      expect(reported).toEqual([{ message: "Fatal error: protocol.dataReceived() call failed.", exception: boom, transport, protocol }]);
      expect(log).toEqual(["reported Fatal error: protocol.dataReceived() call failed.", "socket.destroy"]);
      expect(transport.isClosing()).toBe(true);
      socket.emit("close");
      dispatcher.deliver();
      expect(log.at(-1)).toBe("lost boom");
    });
  });

  it("an eofReceived that throws is a fatal error on the transport", async () => {
    await run(function* () {
      const { transport, socket, dispatcher, protocol, log, reported } = fakeTransport();
      protocol.eofReceived = () => {
        throw "not an Error";
      };
      transport.incoming(END, null);
      dispatcher.deliver();
      expect(reported.map((context) => [context.message, context.exception])).toEqual([["Fatal error on transport", "not an Error"]]);
      socket.emit("close");
      dispatcher.deliver();
      expect(log.at(-1)).toBe("lost not an Error");
    });
  });

  it("a socket error is what the protocol loses the connection with, even when a fatal error follows", async () => {
    await run(function* () {
      const { transport, socket, dispatcher, protocol, log } = fakeTransport();
      protocol.dataReceived = () => {
        throw new Error("second");
      };
      transport.incoming(ERROR, new Error("first"));
      transport.incoming(DATA, bytes("x"));
      dispatcher.deliver();
      socket.emit("close");
      dispatcher.deliver();
      expect(log.at(-1)).toBe("lost first");
    });
  });

  it("a held byte whose dataReceived throws is a fatal error too", async () => {
    await run(function* () {
      const { transport, dispatcher, protocol, reported } = fakeTransport();
      const boom = new Error("boom");
      protocol.dataReceived = () => {
        throw boom;
      };
      transport.pauseReading();
      transport.incoming(DATA, bytes("x"));
      dispatcher.deliver();
      transport.resumeReading();
      yield;
      expect(reported).toEqual([{ message: "Fatal error: protocol.dataReceived() call failed.", exception: boom, transport, protocol }]);
      expect(transport.isClosing()).toBe(true);
    });
  });

  it("nothing reaches the protocol after connectionLost, and it hears of the loss once", async () => {
    await run(function* () {
      const { transport, socket, dispatcher, log } = fakeTransport();
      socket.emit("close");
      transport.incoming(DATA, bytes("late"));
      socket.emit("close");
      dispatcher.deliver();
      expect(log.filter((line) => !line.startsWith("push") && line !== "noteActive")).toEqual(["made", "lost null"]);
    });
  });

  it("a socket destroyed before its transport was made (a connection reset before it was accepted) is reported closed to its owner, and its protocol is never made", async () => {
    await run(function* () {
      const closed: unknown[] = [];
      const owner = { transportClosed: (t: unknown) => void closed.push(t) };
      const { transport, socket, dispatcher, log, reported } = fakeTransport({ start: false, owner, destroyed: true });
      expect(socket.destroyed).toBe(true);
      dispatcher.push(transport, STARTED, () => {
        log.push("factory");
        return {} as Protocol;
      });
      dispatcher.deliver();
      expect(log).toEqual(["push CLOSE", "push STARTED"]);
      expect(closed).toEqual([transport]);
      expect(dispatcher.open.has(transport)).toBe(false);
      expect(reported).toEqual([]);
      expect(transport.owner).toBe(null);
    });
  });

  it("a protocol factory that throws is a fatal error on the transport", async () => {
    await run(function* () {
      const { transport, socket, dispatcher, reported } = fakeTransport({ start: false });
      const boom = new Error("factory failed");
      dispatcher.push(transport, STARTED, () => {
        throw boom;
      });
      dispatcher.deliver();
      expect(reported.map((context) => [context.message, context.exception])).toEqual([["Fatal error on transport", boom]]);
      expect(socket.destroyed).toBe(true);
      socket.emit("close");
      dispatcher.deliver();
      expect(reported).toHaveLength(1);
    });
  });
});

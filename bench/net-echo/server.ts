/**
 * One echo server of the net-echo benchmark, in its own process so that its CPU time is
 * its own: `node server.ts <variant>` with variant `loop` (@loop/net streams, built
 * dist), `loop-selector` (the same streams on @loop/selector's raw sockets),
 * `loop-protocol` / `loop-selector-protocol` (@loop/net's createServer with an echo
 * protocol, on either driver), `node-data` (raw node:net 'data' callbacks) or
 * `node-for-await` (`for await` over the socket). It prints its port, then answers commands on stdin:
 * `start` (mark the CPU clock), `report` (CPU µs since the mark, total and user, as JSON), `mem` (memory
 * after a GC, as JSON).
 */
import * as net from "node:net";
import { createInterface } from "node:readline";
import { CancelledError, ensureFuture, run, type Coroutine } from "@loop/core";
import type { BaseTransport, Protocol, Transport } from "@loop/core";
import { createServer, startServer, type StreamReader, type StreamWriter } from "@loop/net";
import { SelectorPoller } from "@loop/selector";

const variant = process.argv[2] ?? "loop";
let cpuMark = process.cpuUsage();

function listening(port: number): void {
  process.stdout.write(`${port}\n`);
}

function commands(onEnd: () => void): void {
  const lines = createInterface({ input: process.stdin });
  lines.on("line", (line) => {
    if (line === "start") {
      cpuMark = process.cpuUsage();
      process.stdout.write("ok\n");
    } else if (line === "report") {
      const used = process.cpuUsage(cpuMark);
      process.stdout.write(`${JSON.stringify({ cpuUs: used.user + used.system, userUs: used.user })}\n`);
    } else if (line === "mem") {
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      gc?.();
      const m = process.memoryUsage();
      process.stdout.write(`${JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed, external: m.external + m.arrayBuffers })}\n`);
    }
  });
  lines.on("close", onEnd);
}

if (variant === "node-data") {
  const server = net.createServer({ noDelay: true }, (socket) => {
    socket.on("data", (data) => socket.write(data));
    socket.on("error", () => socket.destroy());
  });
  server.listen(0, "127.0.0.1", () => listening((server.address() as net.AddressInfo).port));
  commands(() => server.close(() => process.exit(0)));
} else if (variant === "node-for-await") {
  const server = net.createServer({ noDelay: true }, (socket) => {
    socket.on("error", () => socket.destroy());
    void (async () => {
      try {
        for await (const data of socket) socket.write(data as Buffer);
      } catch {
        socket.destroy();
      }
    })();
  });
  server.listen(0, "127.0.0.1", () => listening((server.address() as net.AddressInfo).port));
  commands(() => server.close(() => process.exit(0)));
} else {
  function* echo(reader: StreamReader, writer: StreamWriter): Coroutine<void> {
    try {
      for (;;) {
        const data = yield* reader.read(65_536);
        if (data.length === 0) break;
        writer.write(data);
        yield* writer.drain();
      }
    } catch (error) {
      // The load generator resets its connections at the end; a cancellation goes on.
      if (error instanceof CancelledError) throw error;
    }
  }
  /** asyncio's echo Protocol: no reader, writer or task per connection. */
  class EchoProtocol implements Protocol {
    private transport: Transport | null = null;
    connectionMade(transport: BaseTransport): void {
      this.transport = transport as Transport;
    }
    dataReceived(data: Uint8Array): void {
      this.transport!.write(data);
    }
    eofReceived(): boolean {
      return false;
    }
    connectionLost(): void {
      this.transport = null;
    }
    pauseWriting(): void {}
    resumeWriting(): void {}
  }
  const poller = variant.startsWith("loop-selector") ? new SelectorPoller() : undefined;
  await run(function* () {
    const server = variant.endsWith("-protocol") ? yield* createServer(() => new EchoProtocol(), "127.0.0.1", 0) : yield* startServer(echo, "127.0.0.1", 0);
    listening((server.address() as net.AddressInfo).port);
    const ended = new Promise<void>((resolve) => commands(resolve));
    yield* ensureFuture(ended);
    server.close();
    server.abortClients();
    yield* server.waitClosed();
  }, { poller });
  process.exit(0);
}

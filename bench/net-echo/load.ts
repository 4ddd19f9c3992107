/**
 * The load generator of the net-echo benchmark, a separate process: `node load.ts
 * <port> echo <connections> <bytes> <seconds>` keeps each connection sending one
 * message and waiting for its whole echo, and prints the requests completed;
 * `node load.ts <port> idle <connections>` opens the connections, prints "open" and
 * holds them until stdin closes.
 */
import * as net from "node:net";

const [portArg, mode = "echo", connArg = "50", sizeArg = "1024", secondsArg = "5"] = process.argv.slice(2);
const port = Number(portArg);
const connections = Number(connArg);

function open(): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: "127.0.0.1", noDelay: true }, () => resolve(socket));
    socket.once("error", reject);
  });
}

const sockets = await Promise.all(Array.from({ length: connections }, open));

if (mode === "idle") {
  // One round trip each, so that the server has accepted and set up every connection.
  await Promise.all(
    sockets.map(
      (socket) =>
        new Promise<void>((resolve) => {
          socket.once("data", () => resolve());
          socket.write("x");
        }),
    ),
  );
  process.stdout.write("open\n");
  process.stdin.resume();
  process.stdin.on("end", () => {
    for (const socket of sockets) socket.destroy();
    process.exit(0);
  });
} else {
  const size = Number(sizeArg);
  const message = Buffer.alloc(size, 120);
  let requests = 0;
  let running = true;
  for (const socket of sockets) {
    let pending = 0;
    socket.on("data", (chunk: Buffer) => {
      pending -= chunk.length;
      if (pending > 0) return;
      requests++;
      if (!running) return;
      pending = size;
      socket.write(message);
    });
    pending = size;
    socket.write(message);
  }
  setTimeout(() => {
    running = false;
    process.stdout.write(`${JSON.stringify({ requests })}\n`);
    for (const socket of sockets) socket.destroy();
    process.exit(0);
  }, Number(secondsArg) * 1000);
}

/**
 * The load generator of the udp-echo benchmark, a separate process: `node load.ts <port>
 * <clients> <bytes> <seconds>` gives each client its own UDP socket sending one datagram
 * and waiting for its echo before the next (a datagram lost on the way is sent again after
 * 100 ms), and prints the requests completed and the resends.
 */
import * as dgram from "node:dgram";

const [portArg, clientsArg = "20", sizeArg = "1024", secondsArg = "5"] = process.argv.slice(2);
const port = Number(portArg);
const message = Buffer.alloc(Number(sizeArg), 120);
let requests = 0;
let resends = 0;
let running = true;
const sockets: dgram.Socket[] = [];

for (let i = 0; i < Number(clientsArg); i++) {
  const socket = dgram.createSocket("udp4");
  sockets.push(socket);
  let timer: NodeJS.Timeout | null = null;
  const send = (): void => {
    socket.send(message);
    timer = setTimeout(() => {
      resends++;
      if (running) send();
    }, 100);
  };
  socket.on("message", () => {
    if (timer !== null) clearTimeout(timer);
    requests++;
    if (running) send();
  });
  socket.connect(port, "127.0.0.1", send);
}

setTimeout(() => {
  running = false;
  process.stdout.write(`${JSON.stringify({ requests, resends })}\n`);
  for (const socket of sockets) socket.close();
}, Number(secondsArg) * 1000);

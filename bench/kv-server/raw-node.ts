/**
 * The floor for any Node server in the kv-server benchmark: raw `node:net` with a 'data'
 * callback, the same design as the demo's server (parse every complete command of the
 * chunk, one write for all replies) and just enough RESP2 for `redis-benchmark -t get,set`:
 * GET, SET, PING, CONFIG GET. No event loop of ours, no streams, no limits, no expiry:
 * the difference with the demo's server is what @loop's layers cost.
 *
 *   node --import tsx raw-node.ts <port>      prints "listening <port>", stops on SIGTERM
 */
import { createServer, type Socket } from "node:net";

const data = new Map<string, Buffer>();

/** One command at `pos`, as [args, next] — or null when the chunk ends inside it. */
function parse(buf: Buffer, pos: number): [Buffer[], number] | null {
  let eol = buf.indexOf(13, pos);
  if (eol < 0) return null;
  const count = Number(buf.toString("latin1", pos + 1, eol));
  let at = eol + 2;
  const args: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    eol = buf.indexOf(13, at);
    if (eol < 0) return null;
    const length = Number(buf.toString("latin1", at + 1, eol));
    const start = eol + 2;
    if (start + length + 2 > buf.length) return null;
    args.push(buf.subarray(start, start + length));
    at = start + length + 2;
  }
  return [args, at];
}

const EMPTY = Buffer.alloc(0);

function execute(args: Buffer[]): string | Buffer {
  const [command = EMPTY, key = EMPTY, value = EMPTY] = args;
  const name = command.toString("latin1").toLowerCase();
  if (name === "get") {
    const stored = data.get(key.toString("latin1"));
    return stored === undefined ? "$-1\r\n" : Buffer.concat([Buffer.from(`$${stored.length}\r\n`), stored, Buffer.from("\r\n")]);
  }
  if (name === "set") {
    data.set(key.toString("latin1"), Buffer.from(value));
    return "+OK\r\n";
  }
  if (name === "config") {
    const param = value.toString().toLowerCase();
    const answer = param === "save" ? "" : param === "appendonly" ? "no" : null;
    return answer === null ? "*0\r\n" : `*2\r\n$${param.length}\r\n${param}\r\n$${answer.length}\r\n${answer}\r\n`;
  }
  return "+PONG\r\n";
}

const server = createServer((socket: Socket) => {
  socket.setNoDelay(true);
  let pending: Buffer | null = null;
  socket.on("data", (chunk: Buffer) => {
    const buf = pending === null ? chunk : Buffer.concat([pending, chunk]);
    const replies: (string | Buffer)[] = [];
    let pos = 0;
    for (;;) {
      if (pos >= buf.length) break;
      const parsed = parse(buf, pos);
      if (parsed === null) break;
      replies.push(execute(parsed[0]));
      pos = parsed[1];
    }
    pending = pos < buf.length ? buf.subarray(pos) : null;
    if (replies.length > 0) socket.write(replies.length === 1 && typeof replies[0] === "string" ? replies[0] : Buffer.concat(replies.map((r) => (typeof r === "string" ? Buffer.from(r) : r))));
  });
  socket.on("error", () => socket.destroy());
});
server.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => {
  console.log(`listening ${(server.address() as { port: number }).port}`);
});
process.once("SIGTERM", () => {
  server.close();
  process.exit(0);
});

import { createHash } from "node:crypto";
import { run, type Coroutine } from "@loop/core";
import { openConnection, startServer, type StreamReader, type StreamWriter } from "@loop/net";
import { describe, expect, it } from "vitest";
import { SelectorPoller } from "../src/index.js";
import { expectNoOpenDescriptors } from "./helpers.js";
import { available } from "./native-available.js";

function* digestAll(reader: StreamReader, writer: StreamWriter): Coroutine<void> {
  const hash = createHash("sha256");
  let total = 0;
  for (;;) {
    const chunk = yield* reader.read(1 << 16);
    if (chunk.length === 0) break;
    hash.update(chunk);
    total += chunk.length;
  }
  writer.write(`${total} ${hash.digest("hex")}\n`);
  yield* writer.drain();
}

describe.skipIf(!available)("writes through the staging queue, the addon and the backlog", () => {
  it("small writes, big writes and writes to two sockets interleaved arrive whole and in order, under backpressure", async () => {
    await run(
      function* () {
        const server = yield* startServer(digestAll, "127.0.0.1", 0);
        const port = (server.address() as { port: number }).port;
        const a = yield* openConnection("127.0.0.1", port);
        const b = yield* openConnection("127.0.0.1", port);
        const expected = [createHash("sha256"), createHash("sha256")];
        const totals = [0, 0];
        let seed = 1;
        const next = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
        for (let i = 0; i < 300; i++) {
          // Mostly small writes (staged), now and then one bigger than the staging limit.
          const size = i % 50 === 49 ? 200_000 + (next() % 1000) : 1 + (next() % 3000);
          const chunk = Buffer.alloc(size, i & 0xff);
          const side = next() % 2;
          (side === 0 ? a : b)[1].write(chunk);
          expected[side]!.update(chunk);
          totals[side]! += size;
          if (i % 10 === 9) {
            yield* a[1].drain();
            yield* b[1].drain();
          }
        }
        const replies: string[] = [];
        for (const [reader, writer] of [a, b]) {
          writer.writeEof();
          replies.push(Buffer.from(yield* reader.readline()).toString().trim());
          writer.close();
          yield* writer.waitClosed();
        }
        expect(replies).toEqual([`${totals[0]} ${expected[0]!.digest("hex")}`, `${totals[1]} ${expected[1]!.digest("hex")}`]);
        server.close();
        yield* server.waitClosed();
      },
      { poller: new SelectorPoller() },
    );
    await expectNoOpenDescriptors();
  });
});

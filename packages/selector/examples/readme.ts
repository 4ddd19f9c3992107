// The example of README.md, word for word below this line (test/readme.test.ts checks it).
import { run } from "@loop/core";
import { openConnection, startServer } from "@loop/net";
import { SelectorPoller } from "@loop/selector";

// Without the native addon this warns once and runs on Node's timers and sockets.
const poller = new SelectorPoller();

const reply = await run(
  function* () {
    // @loop/net's streams, here carried by raw non-blocking sockets and epoll.
    const server = yield* startServer(
      function* (reader, writer) {
        writer.write(yield* reader.readline());
        yield* writer.drain();
        writer.close();
      },
      "127.0.0.1",
      0,
    );
    const { port } = server.address() as { port: number };
    const [reader, writer] = yield* openConnection("127.0.0.1", port);
    writer.write("hello over epoll\n");
    const line = Buffer.from(yield* reader.readline()).toString().trim();
    writer.close();
    server.close();
    yield* server.waitClosed();
    return line;
  },
  { poller },
);
console.log(reply, poller.native ? "(native selector)" : "(fallback)");

// The README's UDP example, word for word below this line (test/datagram-readme.test.ts checks it).
import { run, type DatagramAddress, type DatagramTransport } from "@loop/core";
import { createDatagramEndpoint, openDatagramSocket } from "@loop/net";

await run(function* () {
  // asyncio's level: a protocol whose datagramReceived echoes each datagram.
  let transport: DatagramTransport | null = null;
  const [server] = yield* createDatagramEndpoint(
    () => ({
      connectionMade: (t: DatagramTransport) => void (transport = t),
      datagramReceived: (data: Uint8Array, addr: DatagramAddress) => transport?.sendto(data, addr),
    }),
    { localAddr: ["127.0.0.1", 0] },
  );
  // The coroutine level asyncio never had: send and recv.
  const client = yield* openDatagramSocket({ remoteAddr: server.getExtraInfo<DatagramAddress>("sockname") });
  yield* client.send("ping");
  const [reply, from] = yield* client.recv();
  console.log(Buffer.from(reply).toString(), from[0]); // "ping 127.0.0.1"
  client.close();
  server.close();
});

"""The CPython side of the udp-echo benchmark: an asyncio DatagramProtocol echo server
(uvloop's loop when `uvloop` is given). Same commands on stdin as server.ts."""
import asyncio, json, os, sys

use_uvloop = len(sys.argv) > 1 and sys.argv[1] == "uvloop"
if use_uvloop:
    import uvloop

mark = os.times()

class Echo(asyncio.DatagramProtocol):
    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.transport.sendto(data, addr)

async def main():
    global mark
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(Echo, local_addr=("127.0.0.1", 0))
    print(transport.get_extra_info("sockname")[1], flush=True)
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = (await reader.readline()).decode().strip()
        if not line:
            break
        if line == "start":
            mark = os.times()
            print("ok", flush=True)
        elif line == "report":
            now = os.times()
            user = now.user - mark.user
            print(json.dumps({"cpuUs": (user + now.system - mark.system) * 1e6, "userUs": user * 1e6}), flush=True)
    transport.close()

if use_uvloop:
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
asyncio.run(main())

"""The CPython side of the net-echo benchmark: asyncio streams (uvloop's when
`uvloop` is given and importable; `protocol` as a further argument serves with an echo
Protocol through loop.create_server instead of streams). Same commands on stdin as
server.ts."""
import asyncio, gc, json, os, resource, sys

use_uvloop = len(sys.argv) > 1 and sys.argv[1] == "uvloop"
use_protocol = "protocol" in sys.argv[1:]
if use_uvloop:
    import uvloop  # noqa: F401  (exits with an ImportError when missing)

mark = os.times()

async def echo(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    writer.close()

class EchoProtocol(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)

async def main():
    global mark
    if use_protocol:
        server = await asyncio.get_running_loop().create_server(EchoProtocol, "127.0.0.1", 0)
    else:
        server = await asyncio.start_server(echo, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    loop = asyncio.get_running_loop()
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
        elif line == "mem":
            gc.collect()
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
            with open("/proc/self/statm") as f:
                rss = int(f.read().split()[1]) * resource.getpagesize()
            print(json.dumps({"rss": rss, "heapUsed": 0, "external": 0}), flush=True)
    server.close()

if use_uvloop and hasattr(uvloop, "run"):
    uvloop.run(main())
elif use_uvloop:
    # uvloop before 0.18 (Debian's python3-uvloop) has no run().
    uvloop.install()
    asyncio.run(main())
else:
    asyncio.run(main())

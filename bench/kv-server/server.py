"""The CPython asyncio peer of the kv-server benchmark: the same design as the demo's
server (read what is there, parse every complete command, write all replies at once,
drain) with asyncio streams, enough of RESP2 for `redis-benchmark -t get,set` and the fairness suite: GET,
SET, INCR, PING, CONFIG GET. Multibulk requests only. Prints "listening <port>", serves until
SIGTERM/SIGINT.

    python3 server.py <port>
"""

import asyncio
import signal
import sys

CONFIG = {b"save": b"", b"appendonly": b"no"}


def bulk(value):
    if value is None:
        return b"$-1\r\n"
    return b"$%d\r\n%s\r\n" % (len(value), value)


def parse(buf, pos):
    """One command from buf[pos:], as (args, next_pos), or (None, pos) if incomplete."""
    if buf[pos : pos + 1] != b"*":
        raise ValueError("multibulk only")
    end = buf.find(b"\r\n", pos)
    if end < 0:
        return None, pos
    count = int(buf[pos + 1 : end])
    at = end + 2
    args = []
    for _ in range(count):
        end = buf.find(b"\r\n", at)
        if end < 0:
            return None, pos
        length = int(buf[at + 1 : end])
        start = end + 2
        if start + length + 2 > len(buf):
            return None, pos
        args.append(buf[start : start + length])
        at = start + length + 2
    return args, at


def execute(data, args):
    name = args[0].lower()
    if name == b"get":
        return bulk(data.get(args[1]))
    if name == b"set":
        data[args[1]] = args[2]
        return b"+OK\r\n"
    if name == b"incr":
        value = int(data.get(args[1], b"0")) + 1
        data[args[1]] = b"%d" % value
        return b":%d\r\n" % value
    if name == b"ping":
        return b"+PONG\r\n"
    if name == b"config":
        value = CONFIG.get(args[2].lower())
        return b"*0\r\n" if value is None else b"*2\r\n" + bulk(args[2]) + bulk(value)
    return b"-ERR unknown command\r\n"


async def main(port):
    data = {}

    async def client(reader, writer):
        buf = b""
        try:
            while True:
                chunk = await reader.read(65536)
                if not chunk:
                    break
                buf += chunk
                out = []
                pos = 0
                while pos < len(buf):
                    args, pos = parse(buf, pos)
                    if args is None:
                        break
                    out.append(execute(data, args))
                buf = buf[pos:]
                if out:
                    writer.write(b"".join(out))
                    await writer.drain()
        except (ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(client, "127.0.0.1", port)
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    print(f"listening {server.sockets[0].getsockname()[1]}", flush=True)
    await stop
    server.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 0))

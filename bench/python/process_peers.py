"""CPython peers of bench/suites/process.bench.ts. Prints JSON: name -> list of values.

argv: loop ("asyncio" or "uvloop"), spawns, concurrency, pipe_mib, rounds.
(a) spawn throughput: `spawns` runs of /bin/true (all streams DEVNULL), at most
`concurrency` at once, with create_subprocess_exec and wait(): spawns per second and the
process's CPU µs per spawn, per round;
(b) pipe throughput: `pipe_mib` MiB through `cat` (stdin written with drain(), stdout read
in 64 KiB reads): MiB per second and the process's CPU ms per round.
"""
import asyncio
import json
import sys
import time

LOOP = sys.argv[1] if len(sys.argv) > 1 else "asyncio"
SPAWNS = int(sys.argv[2]) if len(sys.argv) > 2 else 500
CONCURRENCY = int(sys.argv[3]) if len(sys.argv) > 3 else 8
PIPE_MIB = int(sys.argv[4]) if len(sys.argv) > 4 else 256
ROUNDS = int(sys.argv[5]) if len(sys.argv) > 5 else 5
CHUNK = 64 * 1024


async def spawn_round():
    left = SPAWNS

    async def worker():
        nonlocal left
        while left > 0:
            left -= 1
            proc = await asyncio.create_subprocess_exec(
                "/bin/true",
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
            await proc.wait()

    t0 = time.perf_counter()
    cpu0 = time.process_time()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return SPAWNS / (time.perf_counter() - t0), (time.process_time() - cpu0) * 1e6 / SPAWNS


async def pipe_round():
    total = PIPE_MIB * 1024 * 1024
    chunk = b"x" * CHUNK
    proc = await asyncio.create_subprocess_exec(
        "cat", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )

    async def write():
        sent = 0
        while sent < total:
            proc.stdin.write(chunk)
            sent += CHUNK
            await proc.stdin.drain()
        proc.stdin.close()

    async def read():
        got = 0
        while True:
            data = await proc.stdout.read(CHUNK)
            if not data:
                return got
            got += len(data)

    t0 = time.perf_counter()
    cpu0 = time.process_time()
    _, got = await asyncio.gather(write(), read())
    await proc.wait()
    elapsed = time.perf_counter() - t0
    assert got == total, (got, total)
    return PIPE_MIB / elapsed, (time.process_time() - cpu0) * 1000


async def main():
    out = {"spawn": [], "spawn_cpu": [], "pipe": [], "pipe_cpu": []}
    await spawn_round()  # warm-up
    for _ in range(ROUNDS):
        rate, cpu = await spawn_round()
        out["spawn"].append(rate)
        out["spawn_cpu"].append(cpu)
    if PIPE_MIB > 0:
        await pipe_round()
        for _ in range(ROUNDS):
            rate, cpu = await pipe_round()
            out["pipe"].append(rate)
            out["pipe_cpu"].append(cpu)
    return out


if LOOP == "uvloop":
    import uvloop

    result = uvloop.run(main()) if hasattr(uvloop, "run") else None
    if result is None:
        uvloop.install()
        result = asyncio.run(main())
else:
    result = asyncio.run(main())
print(json.dumps(result))

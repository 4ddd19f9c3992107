"""CPython asyncio peers of bench/suites/workers.bench.ts. Prints JSON: name -> list of values.

argv: jobs threads job_ms. (a) `jobs` CPU-bound hashing jobs of about `job_ms` each, on the
loop and through run_in_executor with a ProcessPoolExecutor (threads would share the GIL);
(c) a trivial job's round trip through run_in_executor with a ThreadPoolExecutor.
"""
import asyncio
import concurrent.futures
import hashlib
import json
import sys
import time

JOBS = int(sys.argv[1]) if len(sys.argv) > 1 else 8
THREADS = int(sys.argv[2]) if len(sys.argv) > 2 else 2
JOB_MS = float(sys.argv[3]) if len(sys.argv) > 3 else 50
ROUNDS = 5
ROUND_TRIPS = 2000


BLOCK_BYTES = 64 * 1024


def sha(text, blocks):
    """The job of workers-jobs.mjs: SHA-256 of `blocks` blocks of 64 KiB, streamed through one hash."""
    seed = text.encode()
    block = (seed * (BLOCK_BYTES // len(seed) + 1))[:BLOCK_BYTES]
    digest = hashlib.sha256()
    for _ in range(blocks):
        digest.update(block)
    return digest.hexdigest()


def inc(x):
    return x + 1


def calibrate():
    """Blocks for about JOB_MS, from the fastest of a few tries (the least disturbed)."""
    probe = 200
    fastest = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        sha("calibrate", probe)
        fastest = min(fastest, time.perf_counter() - t0)
    return int(probe * JOB_MS / (fastest * 1000))


async def on_loop(blocks):
    async def job(i):
        await asyncio.sleep(0)
        return sha(f"job {i}", blocks)

    await asyncio.gather(*(job(i) for i in range(JOBS)))


async def in_executor(pool, blocks):
    loop = asyncio.get_running_loop()
    await asyncio.gather(*(loop.run_in_executor(pool, sha, f"job {i}", blocks) for i in range(JOBS)))


async def round_trips(pool):
    loop = asyncio.get_running_loop()
    x = 0
    for _ in range(ROUND_TRIPS):
        x = await loop.run_in_executor(pool, inc, x)


def timed(coro_factory):
    t0 = time.perf_counter()
    asyncio.run(coro_factory())
    return (time.perf_counter() - t0) * 1000


def main():
    blocks = calibrate()
    out = {"cpu_loop_ms": [], "cpu_process_pool_ms": [], "round_trip_thread_us": []}
    with concurrent.futures.ProcessPoolExecutor(THREADS) as processes, concurrent.futures.ThreadPoolExecutor(THREADS) as threads:
        list(processes.map(inc, range(THREADS * 4)))  # start the processes
        for r in range(ROUNDS + 1):
            loop_ms = timed(lambda: on_loop(blocks))
            pool_ms = timed(lambda: in_executor(processes, blocks))
            trip_us = timed(lambda: round_trips(threads)) * 1000 / ROUND_TRIPS
            if r > 0:
                out["cpu_loop_ms"].append(loop_ms)
                out["cpu_process_pool_ms"].append(pool_ms)
                out["round_trip_thread_us"].append(trip_us)
    print(json.dumps(out))


if __name__ == "__main__":
    main()

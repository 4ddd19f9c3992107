"""CPython asyncio peers of bench/suites/sync.bench.ts. Prints JSON: name -> list of values
(CPU ns per operation, as the suite measures).

uvloop is not installable here, so only the default asyncio loop is measured.
"""
import asyncio
import json
import sys
import time

ITEMS = 1_000_000
MAXSIZE = 100
ROUNDS = 10
TASKS = 10_000
PERMITS = 10


async def queue_pass():
    q = asyncio.Queue(MAXSIZE)

    async def producer():
        for i in range(ITEMS):
            await q.put(i)

    p = asyncio.create_task(producer())
    total = 0
    for _ in range(ITEMS):
        total += await q.get()
    await p
    assert total == ITEMS * (ITEMS - 1) // 2


def measure_queue():
    t0 = time.process_time_ns()
    asyncio.run(queue_pass())
    return (time.process_time_ns() - t0) / ITEMS


async def semaphore_rounds():
    sem = asyncio.Semaphore(PERMITS)

    async def worker():
        async with sem:
            await asyncio.sleep(0)

    for _ in range(ROUNDS):
        await asyncio.gather(*(worker() for _ in range(TASKS)))


def measure_semaphore():
    t0 = time.process_time_ns()
    asyncio.run(semaphore_rounds())
    return (time.process_time_ns() - t0) / (ROUNDS * TASKS)


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    measure_queue()
    measure_semaphore()
    out = {
        "queue": [measure_queue() for _ in range(rounds)],
        "semaphore": [measure_semaphore() for _ in range(rounds)],
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()

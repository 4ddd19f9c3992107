"""CPython asyncio peers of bench/suites/debug.bench.ts: per-step cost with debug mode off and on.
Prints JSON: name -> list of ns per step."""
import asyncio
import json
import time

TASKS = 5_000
STEPS = 10


async def yield_worker():
    for _ in range(STEPS):
        await asyncio.sleep(0)


async def future_worker():
    loop = asyncio.get_running_loop()
    for _ in range(STEPS):
        f = loop.create_future()
        loop.call_soon(f.set_result, None)
        await f


def measure(worker, debug):
    async def main():
        await asyncio.gather(*(worker() for _ in range(TASKS)))

    t0 = time.process_time_ns()  # CPU time, as the TypeScript side measures
    asyncio.run(main(), debug=debug)
    return (time.process_time_ns() - t0) / (TASKS * STEPS)


def rounds(worker, debug, n=3):
    measure(worker, debug)
    return [measure(worker, debug) for _ in range(n)]


if __name__ == "__main__":
    import logging

    logging.disable(logging.WARNING)  # debug mode logs slow callbacks; not what is measured
    print(json.dumps({
        "yield: debug off": rounds(yield_worker, False),
        "yield: debug on": rounds(yield_worker, True),
        "future wait: debug off": rounds(future_worker, False),
        "future wait: debug on": rounds(future_worker, True),
    }))

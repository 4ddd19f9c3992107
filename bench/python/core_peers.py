"""CPython asyncio peers of bench/suites/core.bench.ts. Prints JSON: name -> list of values."""
import asyncio
import gc
import json
import time
import tracemalloc

from timers_peers import delays as timer_delays, timer_round_cpu_ns

TASKS = 100_000
YIELDS = 10
CALLBACKS = 1_000_000
TIMERS = 100_000


async def worker():
    for _ in range(YIELDS):
        await asyncio.sleep(0)


async def tasks_yielding():
    await asyncio.gather(*(worker() for _ in range(TASKS)))


def measure_yield():
    t0 = time.perf_counter_ns()
    asyncio.run(tasks_yielding())
    return (time.perf_counter_ns() - t0) / (TASKS * YIELDS)


def measure_call_soon():
    loop = asyncio.new_event_loop()
    count = 0

    def tick():
        nonlocal count
        count += 1

    def start():
        for _ in range(CALLBACKS):
            loop.call_soon(tick)
        loop.call_soon(lambda: loop.call_soon(loop.stop))

    t0 = time.perf_counter_ns()
    loop.call_soon(start)
    loop.run_forever()
    ns = (time.perf_counter_ns() - t0) / CALLBACKS
    loop.close()
    return ns


def measure_timers():
    # The workload of bench/lib/timer-workload.ts, shared with timers_peers.py.
    return timer_round_cpu_ns(timer_delays(TIMERS)) / (TIMERS + TIMERS // 2)


async def blocked(gate):
    await gate


async def tasks_memory():
    loop = asyncio.get_running_loop()
    gate = loop.create_future()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    tasks = [asyncio.create_task(blocked(gate)) for _ in range(TASKS)]
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    gc.collect()
    size = (tracemalloc.get_traced_memory()[0] - before) / TASKS
    tracemalloc.stop()
    gate.set_result(None)
    await asyncio.gather(*tasks)
    return size


def main():
    out = {"yield_ns": [], "call_soon_ns": [], "timer_cpu_ns": [], "task_bytes": []}
    measure_yield()
    for _ in range(3):
        out["yield_ns"].append(measure_yield())
    measure_call_soon()
    for _ in range(3):
        out["call_soon_ns"].append(measure_call_soon())
    for _ in range(3):
        out["timer_cpu_ns"].append(measure_timers())
    out["task_bytes"].append(asyncio.run(tasks_memory()))
    print(json.dumps(out))


if __name__ == "__main__":
    main()

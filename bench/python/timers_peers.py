"""CPython asyncio peer of bench/suites/timers.bench.ts: call_later/cancel of N timers
with delays over 0-100 ms, half cancelled, the rest fired. Prints JSON: name -> CPU ns per timer."""
import asyncio
import json
import sys
import time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000


def delays(n=N):
    """The delays of bench/lib/timer-workload.ts (same generator), in seconds."""
    out = []
    seed = 42
    for _ in range(n):
        seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
        out.append((seed % 10_000) / 100 / 1000)
    return out


def timer_round_cpu_ns(ds):
    """call_later for each delay, cancel every other one, run until the rest fired: CPU ns."""
    loop = asyncio.new_event_loop()
    fired = 0

    def on_fire():
        nonlocal fired
        fired += 1

    def start():
        handles = [loop.call_later(d, on_fire) for d in ds]
        for h in handles[::2]:
            h.cancel()
        loop.call_later(0.101, loop.stop)

    t0 = time.process_time_ns()
    loop.call_soon(start)
    loop.run_forever()
    ns = time.process_time_ns() - t0
    loop.close()
    assert fired == len(ds) // 2, fired
    return ns


if __name__ == "__main__":
    ds = delays()
    timer_round_cpu_ns(ds)
    print(json.dumps({"CPython asyncio call_later / cancel": [timer_round_cpu_ns(ds) / N for _ in range(3)]}))

/**
 * The timer workload two suites share (core's (c) and the timers suite): `count` timers
 * with pseudo-random delays spread over 0–100 ms, every other one cancelled, the rest left
 * to fire. Each round returns the CPU time (user + system, ns) it took; the suites divide
 * it by what they count as operations.
 */
import { EventLoop } from "@loop/core";
import { cpuSince } from "./report.ts";

/** The same delays (ms) for every peer; bench/python/timers_peers.py draws the same ones. */
export function timerDelays(count: number): Float64Array {
  const out = new Float64Array(count);
  let seed = 42;
  for (let i = 0; i < count; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    out[i] = (seed % 10_000) / 100;
  }
  return out;
}

/** @loop: `loop.callLater` for each delay, `handle.cancel()` for every other one. */
export async function loopTimerRound(delays: Float64Array): Promise<number> {
  const count = delays.length;
  const loop = new EventLoop();
  let fired = 0;
  const onFire = (): void => {
    if (++fired === count >> 1) loop.stop();
  };
  const cpu = process.cpuUsage();
  loop.callSoon(() => {
    const handles = new Array(count);
    for (let i = 0; i < count; i++) handles[i] = loop.callLater(delays[i] as number, onFire);
    for (let i = 0; i < count; i += 2) handles[i].cancel();
  });
  await loop.runForever();
  const ns = cpuSince(cpu);
  loop.close();
  if (fired !== count >> 1) throw new Error(`@loop fired ${fired} of ${count >> 1} timers`);
  return ns;
}

/** Node: `setTimeout` for each delay, `clearTimeout` for every other one. */
export async function nodeTimerRound(delays: Float64Array): Promise<number> {
  const count = delays.length;
  let fired = 0;
  const cpu = process.cpuUsage();
  await new Promise<void>((resolve) => {
    const onFire = (): void => {
      if (++fired === count >> 1) resolve();
    };
    const handles = new Array(count);
    for (let i = 0; i < count; i++) handles[i] = setTimeout(onFire, delays[i]);
    for (let i = 0; i < count; i += 2) clearTimeout(handles[i]);
  });
  return cpuSince(cpu);
}

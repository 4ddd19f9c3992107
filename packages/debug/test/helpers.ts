import { EventLoop, type Coroutine, type Future } from "@loop/core";

/** Runs `turns` iterations of a loop that has work queued, then stops it (no timing involved). */
export async function runTurns(loop: EventLoop, turns: number): Promise<void> {
  let left = turns;
  const tick = (): void => {
    if (--left <= 0) loop.stop();
    else loop.callSoon(tick);
  };
  loop.callSoon(tick);
  await loop.runForever();
}

/** A coroutine that waits on `future` (a stand-in for Queue.get, Lock.acquire, …). */
export function* waitOn<T>(future: Future<T>): Coroutine<T> {
  return yield* future;
}

/** A pending future labelled as a primitive would label it. */
export function labelled<T>(loop: EventLoop, label: string): Future<T> {
  const future = loop.createFuture<T>();
  future.label = label;
  return future;
}

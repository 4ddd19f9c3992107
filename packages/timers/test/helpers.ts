import { run, type Awaitable, type Coroutine } from "@loop/core";
import { VirtualPoller, runVirtual } from "@loop/testing";

/** Runs `main` in virtual time (the clock starts at 0 and jumps to the next timer). */
export const virtual = runVirtual;

/**
 * Runs `main` in virtual time and hands it the poller, for tests that simulate a loop
 * kept busy by blocking code (`poller.clock.jump(ms)` inside a step, like `time.sleep`).
 */
export function withPoller<T>(main: (poller: VirtualPoller) => Coroutine<T>): Promise<T> {
  const poller = new VirtualPoller();
  return run(() => main(poller), { poller });
}

/** The error a coroutine throws, or a marker if it returns. */
export function* caught(body: () => Awaitable<unknown>): Coroutine<unknown> {
  try {
    yield* body();
  } catch (error) {
    return error;
  }
  return "returned";
}

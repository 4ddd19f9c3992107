/**
 * The dispatcher that carries Node's socket events into the loop, on a scripted loop:
 * one loop callback per batch, events in arrival order, targets released when the loop
 * closes, and the read share each busy socket may hand the loop per host iteration.
 */
import type { ErrorContext, EventLoop } from "@loop/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Dispatcher, dispatcherFor, ITERATION_READ_BUDGET, MAX_READ_SHARE, MIN_READ_SHARE, type DispatchTarget, type ThrottledTarget } from "../src/node-dispatcher.js";

/** The few loop methods the dispatcher uses; `turn()` runs what it scheduled. */
class ScriptedLoop {
  closed = false;
  debug = false;
  readonly errors: ErrorContext[] = [];
  private _ready: (() => void)[] = [];
  private readonly _closeCallbacks: (() => void)[] = [];

  get scheduled(): number {
    return this._ready.length;
  }
  addCloseCallback(callback: () => void): void {
    this._closeCallbacks.push(callback);
  }
  isClosed(): boolean {
    return this.closed;
  }
  getDebug(): boolean {
    return this.debug;
  }
  callSoonThreadsafe(callback: () => void): void {
    this._ready.push(callback);
  }
  callExceptionHandler(context: ErrorContext): void {
    this.errors.push(context);
  }
  turn(): void {
    const ready = this._ready;
    this._ready = [];
    for (const callback of ready) callback();
  }
  close(): void {
    this.closed = true;
    for (const callback of this._closeCallbacks) callback();
  }
}

function scripted(): { loop: ScriptedLoop; dispatcher: Dispatcher } {
  const loop = new ScriptedLoop();
  return { loop, dispatcher: new Dispatcher(loop as unknown as EventLoop) };
}

class Target implements DispatchTarget {
  readonly events: [number, unknown][] = [];
  discarded = 0;
  constructor(private readonly _onEvent?: (kind: number, payload: unknown) => void) {}
  handleEvent(kind: number, payload: unknown): void {
    this.events.push([kind, payload]);
    this._onEvent?.(kind, payload);
  }
  discard(): void {
    this.discarded++;
  }
}

/** A throttled target with `left` shares to release. */
class Throttled implements ThrottledTarget {
  released = 0;
  constructor(private _left: number) {}
  release(): boolean {
    this.released++;
    return --this._left > 0;
  }
}

/** One iteration of Node's event loop: the immediates queued before this call have run. */
const hostIteration = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

afterEach(() => {
  vi.restoreAllMocks();
});

describe("the dispatcher's batches", () => {
  it("one loop callback per batch, delivering every event in arrival order", () => {
    const { loop, dispatcher } = scripted();
    const a = new Target();
    const b = new Target();
    dispatcher.push(a, 1, "one");
    dispatcher.push(b, 2, "two");
    dispatcher.push(a, 3, "three");
    expect(loop.scheduled).toBe(1);
    loop.turn();
    expect(a.events).toEqual([
      [1, "one"],
      [3, "three"],
    ]);
    expect(b.events).toEqual([[2, "two"]]);
    // The next event starts a new batch with its own callback.
    dispatcher.push(b, 4, "four");
    expect(loop.scheduled).toBe(1);
    loop.turn();
    expect(b.events.at(-1)).toEqual([4, "four"]);
  });

  it("an event pushed while a batch is delivered goes to the next batch", () => {
    const { loop, dispatcher } = scripted();
    const later = new Target();
    const first = new Target(() => dispatcher.push(later, 9, "later"));
    dispatcher.push(first, 1, null);
    loop.turn();
    expect(later.events).toEqual([]);
    expect(loop.scheduled).toBe(1);
    loop.turn();
    expect(later.events).toEqual([[9, "later"]]);
  });

  it("after the loop closed, a pushed event discards its target instead", () => {
    const { loop, dispatcher } = scripted();
    const target = new Target();
    loop.close();
    dispatcher.push(target, 1, null);
    expect(target.discarded).toBe(1);
    expect(loop.scheduled).toBe(0);
  });

  it("dispatcherFor gives one dispatcher per loop", () => {
    const one = new ScriptedLoop() as unknown as EventLoop;
    const two = new ScriptedLoop() as unknown as EventLoop;
    expect(dispatcherFor(one)).toBe(dispatcherFor(one));
    expect(dispatcherFor(one)).not.toBe(dispatcherFor(two));
  });
});

describe("what is open when the loop closes", () => {
  it("is discarded, and reported (with the count) in debug mode only", () => {
    const { loop, dispatcher } = scripted();
    const a = new Target();
    const b = new Target();
    dispatcher.open.add(a);
    dispatcher.open.add(b);
    loop.debug = true;
    loop.close();
    expect([a.discarded, b.discarded]).toEqual([1, 1]);
    expect(dispatcher.open.size).toBe(0);
    expect(loop.errors).toEqual([{ message: "@loop/net: 2 socket(s) or listener(s) left open when the loop closed; closing them" }]);

    const quiet = scripted();
    const c = new Target();
    quiet.dispatcher.open.add(c);
    quiet.loop.close();
    expect(c.discarded).toBe(1);
    expect(quiet.loop.errors).toEqual([]);
  });

  it("nothing open: nothing reported, even in debug mode", () => {
    const { loop } = scripted();
    loop.debug = true;
    loop.close();
    expect(loop.errors).toEqual([]);
  });
});

describe("read shares", () => {
  it("one busy socket gets the largest share; more share the iteration's budget, never below the least", () => {
    const { dispatcher } = scripted();
    expect(dispatcher.share).toBe(MAX_READ_SHARE);
    dispatcher.noteActive();
    expect(dispatcher.share).toBe(MAX_READ_SHARE);
    dispatcher.noteActive();
    expect(dispatcher.share).toBe(ITERATION_READ_BUDGET / 2);
    dispatcher.noteActive();
    expect(dispatcher.share).toBe(Math.floor(ITERATION_READ_BUDGET / 3));
    for (let i = 0; i < 200; i++) dispatcher.noteActive();
    expect(dispatcher.share).toBe(MIN_READ_SHARE);
  });

  it("a flush that carried data counts a round; how busy it was decays by a sixteenth a round", () => {
    const { loop, dispatcher } = scripted();
    const target = new Target();
    dispatcher.push(target, 0, null);
    loop.turn();
    // No socket data in that batch: no round.
    expect(dispatcher.round).toBe(0);
    for (let i = 0; i < 32; i++) dispatcher.noteActive();
    dispatcher.push(target, 0, null);
    loop.turn();
    expect(dispatcher.round).toBe(1);
    expect(dispatcher.share).toBe(ITERATION_READ_BUDGET / 32);
    // One socket busy now: the 32 of the last round decay to 30, not at once to 1.
    dispatcher.noteActive();
    dispatcher.push(target, 0, null);
    loop.turn();
    expect(dispatcher.round).toBe(2);
    expect(dispatcher.share).toBe(Math.floor(ITERATION_READ_BUDGET / 30));
    // Three busy in a round after that: the decayed 30 - 1 still dominates.
    for (let i = 0; i < 3; i++) dispatcher.noteActive();
    dispatcher.push(target, 0, null);
    loop.turn();
    expect(dispatcher.share).toBe(Math.floor(ITERATION_READ_BUDGET / 29));
  });

  it("targets holding more than their share are released a share per host iteration, each once", async () => {
    const { dispatcher } = scripted();
    const immediates = vi.spyOn(globalThis, "setImmediate");
    const a = new Throttled(3);
    const b = new Throttled(1);
    dispatcher.releaseLater(a);
    dispatcher.releaseLater(b);
    // Two sockets waiting: the share is split.
    expect(dispatcher.share).toBe(ITERATION_READ_BUDGET / 2);
    expect(immediates).toHaveBeenCalledTimes(1);
    expect([a.released, b.released]).toEqual([0, 0]);
    await hostIteration();
    expect([a.released, b.released]).toEqual([1, 1]);
    // b is done; a still holds more: one share next iteration, and a newcomer joins that same release.
    const c = new Throttled(1);
    dispatcher.releaseLater(c);
    await hostIteration();
    expect([a.released, c.released]).toEqual([2, 1]);
    await hostIteration();
    expect(a.released).toBe(3);
    const calls = immediates.mock.calls.length;
    // Nothing is held: no more iterations are asked for.
    await hostIteration();
    await hostIteration();
    expect(immediates.mock.calls.length).toBe(calls + 2);
    expect(dispatcher.share).toBe(MAX_READ_SHARE);
    // And a later target is released again.
    const d = new Throttled(1);
    dispatcher.releaseLater(d);
    await hostIteration();
    expect(d.released).toBe(1);
  });

  it("once the loop has closed, no further host iteration is asked for", async () => {
    const { loop, dispatcher } = scripted();
    const a = new Throttled(5);
    dispatcher.releaseLater(a);
    await hostIteration();
    expect(a.released).toBe(1);
    loop.close();
    // The iteration already asked for still runs; it asks for no next one.
    await hostIteration();
    await hostIteration();
    await hostIteration();
    expect(a.released).toBe(2);
  });
});

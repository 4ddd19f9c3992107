import { EventLoop, getRunningLoop, type Poller, type SignalDriver } from "@loop/core";

// Signals whose default action is to be ignored: should a check's signal reach a process
// with no listener (a test runner's parent, a removed listener), nothing happens.
const SIGNAL = "SIGWINCH";
const OTHER = "SIGURG";

/**
 * The conformance checks of the optional `signals` capability (see CONTRIBUTING.md),
 * registered by `pollerConformance` when the poller has one: a raised signal reaches
 * every listener added for it, from a host callback; `remove` stops one listener and no
 * other; and a real `EventLoop` on the poller runs `addSignalHandler` callbacks as loop
 * callbacks and drops them when it closes. The checks raise SIGWINCH and SIGURG, which a
 * process without listeners ignores; the delivery checks are left out where the driver's
 * `supports` says it cannot watch them (Node's default driver on a worker thread).
 */
export function signalChecks(makePoller: () => Poller, it: (name: string, body: () => Promise<void>) => void, stuckAfterMs: number): void {
  const probe = makePoller();
  const has = probe.signals !== undefined;
  // A driver that cannot watch the checks' signals here (Node's, on a worker thread, which
  // never receives signals) is held to its word: its delivery is not checked, and the
  // first check below still holds it to the interface.
  const delivers = has && (probe.signals as SignalDriver).supports(SIGNAL) && (probe.signals as SignalDriver).supports(OTHER);
  probe.close();
  if (!has) return;

  const withLimit = <T>(promise: Promise<T>, what: string): Promise<T> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Poller contract (signals): ${what} never came (waited ${stuckAfterMs} ms)`)), stuckAfterMs);
    });
    return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
  };

  it("signals: the driver has supports, add, remove and raise, and supports SIGINT or says why not", async () => {
    const poller = makePoller();
    const signals = poller.signals as SignalDriver;
    for (const m of ["supports", "add", "remove", "raise"] as const) check(typeof signals[m] === "function", `signals.${m} must be a function`);
    check(typeof signals.supports("SIGINT") === "boolean", "signals.supports(signal) must return a boolean");
    poller.close();
  });

  if (!delivers) return;

  it("signals: a raised signal reaches every listener added for it, never synchronously inside add()", async () => {
    const poller = makePoller();
    const signals = poller.signals as SignalDriver;
    const heard: string[] = [];
    let resolve!: () => void;
    const both = new Promise<void>((r) => (resolve = r));
    const first = (s: string): void => void heard.push(`first ${s}`);
    const second = (s: string): void => {
      heard.push(`second ${s}`);
      resolve();
    };
    signals.add(SIGNAL, first);
    signals.add(SIGNAL, second);
    check(heard.length === 0, "a listener was called from inside add()");
    try {
      signals.raise(SIGNAL);
      await withLimit(both, `the ${SIGNAL} raised`);
      check(heard.join(",") === `first ${SIGNAL},second ${SIGNAL}`, `listeners heard ${JSON.stringify(heard)}, expected both, with the signal's name, in the order added`);
    } finally {
      signals.remove(SIGNAL, first);
      signals.remove(SIGNAL, second);
      poller.close();
    }
  });

  it("signals: remove() stops that listener only", async () => {
    const poller = makePoller();
    const signals = poller.signals as SignalDriver;
    const heard: string[] = [];
    let resolve!: () => void;
    const arrived = new Promise<void>((r) => (resolve = r));
    const removed = (s: string): void => void heard.push(s);
    const kept = (s: string): void => {
      heard.push(s);
      resolve();
    };
    signals.add(OTHER, removed);
    signals.add(SIGNAL, kept);
    signals.remove(OTHER, removed);
    signals.remove(OTHER, removed); // twice: harmless
    try {
      signals.raise(OTHER);
      signals.raise(SIGNAL);
      await withLimit(arrived, `the ${SIGNAL} raised after ${OTHER}`);
      check(heard.join(",") === SIGNAL, `heard ${JSON.stringify(heard)}: a removed listener was still called`);
    } finally {
      signals.remove(SIGNAL, kept);
      poller.close();
    }
  });

  it("signals: a loop on the poller runs addSignalHandler callbacks as loop callbacks and drops them when it closes", async () => {
    const poller = makePoller();
    const signals = poller.signals as SignalDriver;
    const loop = new EventLoop({ poller });
    const calls: string[] = [];
    const got = loop.createFuture<void>();
    loop.addSignalHandler(
      SIGNAL,
      (arg: string) => {
        calls.push(`${arg} on its loop: ${getRunningLoop() === loop}`);
        if (!got.done()) got.setResult();
        loop.unrefExternal();
      },
      "called",
    );
    // The signal comes from outside: a virtual clock must wait for it, not declare a deadlock.
    loop.refExternal();
    setImmediate(() => signals.raise(SIGNAL));
    await withLimit(loop.runUntilComplete(got), "the addSignalHandler callback");
    check(calls.join(",") === "called on its loop: true", `the handler ran as ${JSON.stringify(calls)}`);
    loop.close();
    let resolve!: () => void;
    const after = new Promise<void>((r) => (resolve = r));
    const witness = (): void => resolve();
    signals.add(SIGNAL, witness);
    try {
      signals.raise(SIGNAL);
      await withLimit(after, `the ${SIGNAL} raised after close()`);
      check(calls.length === 1, "a closed loop's signal handler was still called");
    } finally {
      signals.remove(SIGNAL, witness);
    }
  });
}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`Poller contract (signals): ${message}`);
}

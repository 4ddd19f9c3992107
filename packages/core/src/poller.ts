import { host, monotonicNow } from "./host.js";
import type { EventLoop } from "./loop.js";
import type { ProcessDriver } from "./process-driver.js";
import type { NetDriver } from "./transports.js";

/**
 * What the loop gives its poller: the way back in. A poller calls `runOnce()` whenever
 * the wait it was asked for ends, and never otherwise.
 */
export interface PollerHost {
  /** The loop this poller serves. */
  readonly loop: EventLoop;
  /** Runs one turn of the loop; the turn ends by calling `schedule` again (or not, once stopped). */
  runOnce(): void;
  /**
   * How many operations outside the loop (Promises adopted with `ensureFuture`, worker
   * jobs, open sockets: anything counted with `loop.refExternal()`) may still wake it.
   * A virtual-time poller only advances its clock when this is 0.
   */
  externalPending(): number;
}

/**
 * The plug-in through which the loop meets the outside world: its clock, its waits,
 * its wake-ups and (optionally) its network. See CONTRIBUTING.md for the contract in prose
 * and `@loop/testing`'s conformance kit for the tests a poller must pass.
 */
export interface Poller {
  readonly name: string;
  /** Called once, when the loop starts running with this poller. */
  attach(host: PollerHost): void;
  /** The loop's clock in milliseconds: monotonic, never going back. */
  time(): number;
  /**
   * Calls `host.runOnce()` after at most `timeoutMs` ms, sooner on I/O or `wakeup()`;
   * `null` waits for I/O or `wakeup()` only. A new call replaces the previous request.
   * It must never call `runOnce` synchronously from inside `schedule`.
   */
  schedule(timeoutMs: number | null): void;
  /** Makes the pending wait end now (safe to call at any time, any number of times). */
  wakeup(): void;
  /** Releases the poller's resources; no `runOnce` call follows. */
  close(): void;
  /** Transports for TCP/Unix/TLS, when this poller can carry them. */
  readonly net?: NetDriver;
  /** Child processes for `@loop/process`, when this poller starts them itself (a fake, a sandbox). */
  readonly processes?: ProcessDriver;
}

/**
 * The longest time the default poller keeps the thread in one host callback while the loop
 * keeps finding work ready. Running several turns per host callback saves a host round
 * trip per turn; the cap keeps the host's own I/O phases from waiting longer than this.
 */
const BATCH_BUDGET_MS = 2;
const BATCH_MAX_TURNS = 256;
const MAX_HOST_TIMEOUT_MS = 2_147_483_647;

/**
 * The default poller: the host's own timers. On Node it waits with `setTimeout` and
 * turns with `setImmediate` (so Node's I/O callbacks run between turns); in a browser it
 * turns with a `MessageChannel` message. An idle loop holds no timer and costs no CPU.
 */
export class DefaultPoller implements Poller {
  readonly name: string = "default";
  private _host: PollerHost | null = null;
  private _timer: unknown = null;
  private _timerDeadline = Infinity;
  private _turnQueued = false;
  private _inTurn = false;
  private _turnRequested = false;
  private _closed = false;
  private readonly _queueTurn: () => void;
  private _channel: InstanceType<NonNullable<typeof host.MessageChannel>> | null = null;

  constructor() {
    if (typeof host.setImmediate === "function") {
      const setImmediate = host.setImmediate;
      this._queueTurn = () => setImmediate(this._onTurn);
    } else if (typeof host.MessageChannel === "function") {
      const channel = new host.MessageChannel();
      channel.port1.onmessage = this._onTurn;
      this._channel = channel;
      this._queueTurn = () => channel.port2.postMessage(null);
    } else {
      this._queueTurn = () => host.setTimeout(this._onTurn, 0);
    }
  }

  attach(pollerHost: PollerHost): void {
    this._host = pollerHost;
  }

  time(): number {
    return monotonicNow();
  }

  schedule(timeoutMs: number | null): void {
    if (this._closed) return;
    if (timeoutMs !== null && timeoutMs <= 0) {
      this._cancelTimer();
      if (this._inTurn) this._turnRequested = true;
      else this._requestTurn();
      return;
    }
    if (timeoutMs === null || timeoutMs === Infinity) {
      this._cancelTimer();
      return;
    }
    const deadline = this.time() + timeoutMs;
    // Re-arming a host timer costs more than a loop turn; keep one that is due no later.
    if (this._timer !== null && this._timerDeadline <= deadline && this._timerDeadline > deadline - 1) return;
    this._cancelTimer();
    this._timerDeadline = deadline;
    // Host timers have millisecond granularity and may round down: round up, so that the
    // turn they start finds the timer due instead of spinning through an early turn.
    // Host timers also overflow past 2^31-1 ms (about 24.8 days) and would fire at once:
    // cap the wait; the turn it starts finds nothing due and waits again.
    this._timer = host.setTimeout(this._onTimer, Math.min(Math.ceil(timeoutMs), MAX_HOST_TIMEOUT_MS));
  }

  wakeup(): void {
    if (this._closed || this._host === null) return;
    if (this._inTurn) this._turnRequested = true;
    else this._requestTurn();
  }

  close(): void {
    this._closed = true;
    this._cancelTimer();
    if (this._channel !== null) {
      this._channel.port1.close();
      this._channel.port2.close();
      this._channel = null;
    }
  }

  private _requestTurn(): void {
    if (this._turnQueued) return;
    this._turnQueued = true;
    this._queueTurn();
  }

  private _cancelTimer(): void {
    if (this._timer !== null) {
      host.clearTimeout(this._timer);
      this._timer = null;
      this._timerDeadline = Infinity;
    }
  }

  private readonly _onTimer = (): void => {
    this._timer = null;
    this._timerDeadline = Infinity;
    this._turn();
  };

  private readonly _onTurn = (): void => {
    this._turnQueued = false;
    this._turn();
  };

  private _turn(): void {
    const pollerHost = this._host;
    if (this._closed || pollerHost === null) return;
    const deadline = this.time() + BATCH_BUDGET_MS;
    let turns = 0;
    this._inTurn = true;
    try {
      do {
        this._turnRequested = false;
        pollerHost.runOnce();
      } while (this._turnRequested && !this._closed && ++turns < BATCH_MAX_TURNS && this.time() < deadline);
    } finally {
      this._inTurn = false;
    }
    if (this._turnRequested && !this._closed) {
      this._turnRequested = false;
      this._requestTurn();
    }
  }
}

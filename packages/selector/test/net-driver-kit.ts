/**
 * What the selector network driver's connect and listen tests share: a protocol that logs,
 * and the counts that show a failed or cancelled operation gave back what it took (its
 * descriptor-table entry and its loop ref).
 */
import { getRunningLoop, type BaseTransport, type Coroutine, type EventLoop, type Future, type Protocol, type Transport } from "@loop/core";
import type { SelectorNetDriver, SelectorPoller } from "../src/index.js";
import type { Reactor } from "../src/reactor.js";

/** Logs what its transport tells it. */
export class Recorder implements Protocol {
  readonly log: string[] = [];
  transport: Transport | null = null;
  connectionMade(transport: BaseTransport): void {
    this.transport = transport as Transport;
    this.log.push("made");
  }
  dataReceived(data: Uint8Array): void {
    this.log.push(`data ${Buffer.from(data).toString()}`);
  }
  eofReceived(): boolean {
    this.log.push("eof");
    return false;
  }
  connectionLost(error: Error | null): void {
    this.log.push(`lost ${error === null ? "null" : String((error as { code?: string }).code)}`);
  }
  pauseWriting(): void {}
  resumeWriting(): void {}
}

export interface Selector {
  loop: EventLoop;
  poller: SelectorPoller;
  driver: SelectorNetDriver;
  reactor: Reactor;
}

/** The running loop's selector poller, its network driver and the thread's reactor. */
export function selector(): Selector {
  const loop = getRunningLoop();
  const poller = loop.poller as SelectorPoller;
  return { loop, poller, driver: poller.net as SelectorNetDriver, reactor: poller._reactor as Reactor };
}

/** Entries of the descriptor table: each must belong to an open socket. */
export function tableEntries(reactor: Reactor): number {
  return reactor.targets.filter((target) => target !== undefined).length;
}

/** Operations the loop counts as pending outside it (each connect and listener holds one). */
export function externalRefs(loop: EventLoop): number {
  return (loop as unknown as { _externalRefs: number })._externalRefs;
}

/** The error `future` fails with; a test failure if it succeeds. */
export function* failure(future: Coroutine<unknown> | Future<unknown>): Coroutine<Error & Record<string, unknown>> {
  try {
    yield* future;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error("expected a failure");
}

import { spawn } from "node:child_process";
import { isMainThread } from "node:worker_threads";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { DefaultPoller, type AbstractEventLoop, type AbstractFuture, type ProcessDriver, type ProcessHandle, type ProcessProtocols, type SpawnOptions } from "@loop/core";
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import { SelectorPoller, SelectorProcessDriver } from "@loop/selector";
import { nodeProcessDriver } from "../src/index.js";

/** True in the "process-selector" project (vitest.selector.config.ts): `run()` uses SelectorPoller's driver. */
export const onSelector = process.env.LOOP_PROCESS_DRIVER === "selector";

/** Resolves once every child of either driver has exited and been reaped. */
export async function childrenSettled(): Promise<void> {
  await nodeProcessDriver.settled();
  await SelectorProcessDriver.settled();
}

/** How many file descriptors this process has open. */
export function openFds(): number {
  return readdirSync("/proc/self/fd").length;
}

/** Children of this process that exited and were never reaped. */
export function zombies(): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // gone meanwhile
    }
    // pid (comm) state ppid ...: comm may hold spaces, so read after the last ')'.
    const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (state === "Z" && Number(ppid) === process.pid) found.push(Number(entry));
  }
  return found;
}

/** True when no process has this pid any more (not even a zombie). */
export function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH" && !existsSync(`/proc/${pid}`);
  }
}

/**
 * Registers the leak checks every test file of this package runs: after each test no
 * child is left unreaped and none is a zombie; over the file, the fd count is unchanged.
 */
export function checkNoLeaks(): void {
  let fdsBefore = 0;
  beforeAll(async () => {
    // The first child of a process makes libuv open its SIGCHLD pipe for good: start one
    // before counting, so that the count compares like with like.
    await new Promise((resolve) => spawn("/bin/true", [], { stdio: "ignore" }).once("close", resolve));
    // Likewise the thread's selector opens its epoll descriptor for good with the first SelectorPoller.
    new SelectorPoller().close();
    fdsBefore = openFds();
  });
  afterEach(async () => {
    await childrenSettled();
    expect(zombies()).toEqual([]);
  });
  afterAll(() => {
    // In a thread pool (how Stryker runs the tests) this file shares the process, and its
    // descriptor table, with the worker threads running other files: the count means
    // nothing there, and a failing afterAll makes Stryker drop the file's coverage.
    if (isMainThread) expect(openFds()).toBe(fdsBefore);
  });
}

/** One spawn seen by a `RecordingDriver`. */
export interface SpawnRecord {
  options: SpawnOptions;
  handle: ProcessHandle | null;
  signals: (string | number)[];
  /** The exit the driver reported, once it did. */
  returncode: number | null;
  /** The first bytes the child wrote to stdout. */
  firstOutput: AbstractFuture<Uint8Array>;
  exited: AbstractFuture<number>;
}

/**
 * The Node driver, watched: each spawn is recorded with the signals sent to it, its exit
 * and a future for its first output, so a test can act at the moment a child is ready.
 */
export class RecordingDriver implements ProcessDriver {
  readonly spawns: SpawnRecord[] = [];

  spawn(loop: AbstractEventLoop, options: SpawnOptions, protocols: ProcessProtocols): AbstractFuture<ProcessHandle> {
    const record: SpawnRecord = { options, handle: null, signals: [], returncode: null, firstOutput: loop.createFuture(), exited: loop.createFuture() };
    this.spawns.push(record);
    const watched: ProcessProtocols = {
      ...protocols,
      processExited(returncode) {
        record.returncode = returncode;
        record.exited.setResult(returncode);
        protocols.processExited(returncode);
      },
    };
    const stdout = protocols.stdout;
    if (stdout !== undefined) {
      watched.stdout = {
        ...stdout,
        connectionMade: (t) => stdout.connectionMade(t),
        connectionLost: (e) => stdout.connectionLost(e),
        pauseWriting: () => stdout.pauseWriting(),
        resumeWriting: () => stdout.resumeWriting(),
        eofReceived: () => stdout.eofReceived(),
        dataReceived(data) {
          if (!record.firstOutput.done()) record.firstOutput.setResult(data);
          stdout.dataReceived(data);
        },
      };
    }
    const base = loop.poller instanceof SelectorPollerWith ? loop.poller.base : nodeProcessDriver;
    const pending = base.spawn(loop, options, watched);
    pending.addDoneCallback(() => {
      if (pending.cancelled() || pending.exception() !== null) return;
      const handle = pending.result();
      record.handle = handle;
      const sendSignal = handle.sendSignal.bind(handle);
      handle.sendSignal = (signal) => {
        record.signals.push(signal);
        sendSignal(signal);
      };
    });
    return pending;
  }
}

/** The default poller, carrying `processes`. */
class DefaultPollerWith extends DefaultPoller {
  constructor(readonly processes: ProcessDriver) {
    super();
  }
}

/** A SelectorPoller whose `processes` is `recording`, which spawns through the poller's own driver (`base`). */
class SelectorPollerWith extends SelectorPoller {
  readonly base: ProcessDriver;

  constructor(private readonly _recording: ProcessDriver) {
    super();
    const base = super.processes;
    if (base === undefined) throw new Error("SelectorPoller offers no processes here");
    this.base = base;
  }

  override get processes(): ProcessDriver {
    return this._recording;
  }
}

/** A poller carrying `processes`: the selector's in the "process-selector" project, else the default poller. */
export const PollerWith: new (processes: ProcessDriver) => DefaultPoller | SelectorPoller = onSelector ? SelectorPollerWith : DefaultPollerWith;

export const text = (bytes: Uint8Array | null): string => (bytes === null ? "<null>" : Buffer.from(bytes).toString("utf8"));

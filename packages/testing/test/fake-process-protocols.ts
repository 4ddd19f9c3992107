import { getRunningLoop, type BaseTransport, type Coroutine, type ErrorContext, type ProcessHandle, type ProcessProtocols, type SpawnOptions, type Protocol, type ReadTransport } from "@loop/core";
import { expect } from "vitest";
import { FakeProcesses, runVirtual, type FakeScript } from "../src/index.js";

// Protocols that log what a fake child's pipes give them, for the fake-process tests.

export const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
export const bytesOf = (s: string) => new TextEncoder().encode(s);

export const options = (program: string, more: Partial<SpawnOptions> = {}): SpawnOptions => ({
  program,
  args: [],
  stdin: "pipe",
  stdout: "pipe",
  stderr: "pipe",
  startNewSession: false,
  ...more,
});

export interface Logged extends ProcessProtocols {
  readonly log: string[];
  /** What stdout's protocol received, joined. */
  out: string;
  exited: Coroutine<number>;
  /** Set to make stdout's protocol pause reading after each chunk it is given. */
  pauseOnData: boolean;
  stdoutTransport: ReadTransport | null;
}

export function logged(): Logged {
  const loop = getRunningLoop();
  const exit = loop.createFuture<number>();
  const log: string[] = [];
  const reading = (name: string): Protocol => ({
    connectionMade: (transport: BaseTransport) => {
      if (name === "stdout") protocols.stdoutTransport = transport as ReadTransport;
    },
    dataReceived: (data) => {
      log.push(`${loop.time()} ${name}: ${data.byteLength > 20 ? `${data.byteLength} bytes` : text(data)}`);
      if (name === "stdout") protocols.out += text(data);
      if (name === "stdout" && protocols.pauseOnData) protocols.stdoutTransport?.pauseReading();
    },
    eofReceived: () => {
      log.push(`${loop.time()} ${name} eof`);
    },
    connectionLost: () => log.push(`${loop.time()} ${name} lost`),
    pauseWriting: () => {},
    resumeWriting: () => {},
  });
  const protocols: Logged = {
    log,
    out: "",
    pauseOnData: false,
    stdoutTransport: null,
    stdin: {
      connectionMade: () => {},
      connectionLost: () => log.push(`${loop.time()} stdin lost`),
      pauseWriting: () => log.push(`${loop.time()} stdin paused`),
      resumeWriting: () => log.push(`${loop.time()} stdin resumed`),
    },
    stdout: reading("stdout"),
    stderr: reading("stderr"),
    processExited: (code) => {
      log.push(`${loop.time()} exited ${code}`);
      exit.setResult(code);
    },
    exited: (function* () {
      return yield* exit;
    })(),
  };
  return protocols;
}

/** Runs `main` in virtual time with `processes`; fails if any loop callback threw. */
export async function run<T>(processes: FakeProcesses, main: () => Coroutine<T>): Promise<T> {
  const errors: ErrorContext[] = [];
  const result = await runVirtual(function* () {
    getRunningLoop().setExceptionHandler((_loop, context) => errors.push(context));
    return yield* main();
  }, { processes });
  expect(errors.map((e) => `${e.message} ${String(e.exception)}`)).toEqual([]);
  return result;
}

export function* spawn(processes: FakeProcesses, program: string, protocols: ProcessProtocols, more: Partial<SpawnOptions> = {}): Coroutine<ProcessHandle> {
  return yield* processes.spawn(getRunningLoop(), options(program, more), protocols);
}

export function* sleepFor(ms: number): Coroutine<void> {
  const loop = getRunningLoop();
  const done = loop.createFuture<void>();
  loop.callLater(ms, () => done.setResult(undefined));
  yield* done;
}

export function* turns(n: number): Coroutine<void> {
  for (let i = 0; i < n; i++) yield;
}

export const one = (script: FakeScript) => new FakeProcesses().define("p", script);


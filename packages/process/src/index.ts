/**
 * @loop/process — child processes for @loop coroutines (asyncio.subprocess): start a
 * program, talk to it through `@loop/net` streams, wait for it, signal it, and never leave
 * one behind. Carried by the poller's `processes` driver when it has one (the scripted
 * fake processes of `@loop/testing`), by `node:child_process` otherwise.
 */
export { createSubprocessExec, createSubprocessShell } from "./create.js";
export { Process } from "./subprocess.js";
export { PIPE, STDOUT, DEVNULL } from "./options.js";
export type { ProcessOptions, Stdio } from "./options.js";
export { runProcess, CompletedProcess } from "./run-process.js";
export type { RunProcessOptions } from "./run-process.js";
export { CalledProcessError } from "./errors.js";
export { NodeProcessDriver, nodeProcessDriver } from "./node-driver.js";

/**
 * `@loop/testing` — a virtual-time poller (`runVirtual`), an in-memory network and the
 * poller conformance kit. One export per line, so that parallel edits do not collide.
 */
import { registerLibraryModule } from "@loop/core";

// Diagnostics (debug-mode reports, task trees) point past this package's frames at the user's code.
registerLibraryModule(import.meta.url);

export { runVirtual } from "./run-virtual.js";
export type { RunVirtualOptions } from "./run-virtual.js";
export { VirtualPoller } from "./virtual-poller.js";
export type { VirtualPollerOptions } from "./virtual-poller.js";
export { VirtualClock } from "./virtual-clock.js";
export { VirtualSignals } from "./virtual-signals.js";
export { DeadlockError } from "./deadlock-error.js";
export type { BlockedTask } from "./deadlock-error.js";
export { seededShuffle } from "./shuffle.js";
export { MemoryNetwork } from "./memory-network.js";
export type { LinkConditions, MemoryNetworkOptions } from "./memory-network.js";
export type { DatagramConditions } from "./memory-datagram.js";
export { pollerConformance } from "./poller-conformance.js";
export type { PollerConformanceOptions, TestRegistrar } from "./poller-conformance.js";
export { FakeProcesses } from "./fake-processes.js";
export type { FakeChild, FakeOutput, FakeProcessRecord, FakeScript } from "./fake-processes.js";

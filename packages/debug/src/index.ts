/**
 * `@loop/debug` — see what the loop is doing: task tree dumps with deadlock detection, loop
 * metrics, Chrome Trace Event export, a live inspector, and loggers for debug mode.
 * `test/surface.test.ts` pins the public surface.
 */
import { registerLibraryModule } from "@loop/core";

// Diagnostics (debug-mode reports, task trees) point past this package's frames at the user's code.
registerLibraryModule(import.meta.url);

export { consoleLogger, pinoLogger, plainDetails } from "./logger.js";
export type { PinoLike } from "./logger.js";
export { dumpTasks, formatTaskTree, describeWait, taskId } from "./task-tree.js";
export type { AwaitEdge, AwaitKind, TaskDump, TaskInfo } from "./task-tree.js";
export { dumpTasksOnSignal } from "./dump-on-signal.js";
export type { DumpOnSignalOptions } from "./dump-on-signal.js";
export { LoopMonitor } from "./monitor.js";
export type { LoopMonitorOptions, MonitorSnapshot, SlowCallback } from "./monitor.js";
export { formatPrometheus, prometheusHandler, PROMETHEUS_CONTENT_TYPE } from "./prometheus.js";
export { TraceRecorder } from "./trace.js";
export type { TraceEvent, TraceFile } from "./trace.js";
export { startInspector } from "./inspector.js";
export type { Inspector, InspectorOptions } from "./inspector.js";

import type { IncomingMessage, ServerResponse } from "node:http";
import type { LoopMonitor, MonitorSnapshot } from "./monitor.js";

/**
 * A snapshot as Prometheus text (exposition format 0.0.4): gauges and counters named
 * `loop_*`, lag as a summary in seconds.
 */
export function formatPrometheus(s: MonitorSnapshot): string {
  const lines: string[] = [];
  const metric = (name: string, type: string, help: string, samples: [string, number][]): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) lines.push(`${name}${labels} ${formatNumber(value)}`);
  };
  metric("loop_iteration_lag_seconds", "summary", "How much longer than its requested wait a loop iteration took.", [
    ['{quantile="0.5"}', s.lagMs.p50 / 1000],
    ['{quantile="0.99"}', s.lagMs.p99 / 1000],
    ['{quantile="1"}', s.lagMs.max / 1000],
  ]);
  metric("loop_iteration_lag_max_seconds", "gauge", "The largest iteration lag since monitoring started.", [["", s.lagMaxEverMs / 1000]]);
  metric("loop_iterations_total", "counter", "Loop iterations since monitoring started.", [["", s.iterations]]);
  metric("loop_ready_queue_depth", "gauge", "Callbacks and task steps queued for the next iteration.", [["", s.readyQueue.depth]]);
  metric("loop_callbacks_total", "counter", "Callbacks and task steps run since monitoring started.", [["", s.callbacksTotal]]);
  metric("loop_callbacks_per_second", "gauge", "Callbacks and task steps run per second, over the last second.", [["", s.callbacksPerSecond]]);
  metric("loop_live_tasks", "gauge", "Tasks not yet done.", [["", s.liveTasks]]);
  metric("loop_pending_timers", "gauge", "Timers scheduled and not cancelled.", [["", s.pendingTimers]]);
  metric("loop_worker_jobs_total", "counter", "Jobs executors ran off the loop.", [["", s.workers.jobs]]);
  metric("loop_worker_busy_seconds_total", "counter", "Time executor jobs spent running off the loop.", [["", s.workers.busyMs / 1000]]);
  return `${lines.join("\n")}\n`;
}

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}

/** The content type of the text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/**
 * A `node:http` request handler that answers every request with the monitor's metrics,
 * for `http.createServer(prometheusHandler(monitor))` or a route of an existing server.
 * @example
 * http.createServer(prometheusHandler(new LoopMonitor(loop).start())).listen(9464, "127.0.0.1");
 */
export function prometheusHandler(monitor: LoopMonitor): (req: IncomingMessage, res: ServerResponse) => void {
  return (_req, res) => {
    const body = monitor.prometheus();
    res.writeHead(200, { "content-type": PROMETHEUS_CONTENT_TYPE, "cache-control": "no-store" });
    res.end(body);
  };
}

import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { getRunningLoop, type EventLoop } from "@loop/core";
import { INSPECTOR_PAGE } from "./inspector-page.js";
import { LoopMonitor } from "./monitor.js";
import { PROMETHEUS_CONTENT_TYPE } from "./prometheus.js";
import { dumpTasks, formatTaskTree } from "./task-tree.js";

/** Options of `startInspector`. */
export interface InspectorOptions {
  /** The loop to inspect; the running loop by default. */
  loop?: EventLoop;
  /** TCP port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
  /** A monitor to read metrics from; by default the inspector starts its own and stops it on close. */
  monitor?: LoopMonitor;
}

/** A running inspector. */
export interface Inspector {
  /** "http://127.0.0.1:<port>/" */
  readonly url: string;
  /** The port it listens on, on 127.0.0.1. */
  readonly port: number;
  /** The monitor whose metrics the page shows. */
  readonly monitor: LoopMonitor;
  /** Stops serving (open connections are closed) and stops the inspector's own monitor. */
  close(): Promise<void>;
}

// The page's files, and uPlot's, which is served from wherever the package is installed.
const require = createRequire(import.meta.url);
let uplotDir: string | null = null;
function vendorFile(name: string): string {
  uplotDir ??= join(dirname(require.resolve("uplot/package.json")), "dist");
  return join(uplotDir, name);
}
const VENDOR: Record<string, string> = {
  "/vendor/uPlot.iife.min.js": "text/javascript; charset=utf-8",
  "/vendor/uPlot.min.css": "text/css; charset=utf-8",
};

/**
 * Serves a live view of the loop on 127.0.0.1 (only): the task tree, a lag chart and the
 * slowest callbacks, refreshed twice a second, and the JSON endpoints the page reads —
 * `/api/tasks` (`{ dump, text }`), `/api/metrics` (a `MonitorSnapshot`), and `/metrics`
 * (Prometheus text). `loop-inspect <url>` prints the same tree in a terminal.
 *
 * The server runs on Node's own event loop, so it answers between the loop's turns; a
 * request never runs inside a callback of the inspected loop.
 * @example
 * const inspector = await startInspector({ loop, port: 0 });
 * console.log(`inspector on ${inspector.url}`);
 * // inside a coroutine: const inspector = yield* ensureFuture(startInspector());
 */
export function startInspector(opts?: InspectorOptions): Promise<Inspector> {
  if (opts !== undefined && (typeof opts !== "object" || opts === null)) {
    throw new TypeError("startInspector(opts): opts must be an object like { loop, port }");
  }
  const port = opts?.port ?? 0;
  if (typeof port !== "number") throw new TypeError(`startInspector({ port }): port must be a number, got ${typeof port}`);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`startInspector({ port }): port must be an integer from 0 to 65535, got ${port}`);
  const loop = opts?.loop ?? getRunningLoop();
  const ownMonitor = opts?.monitor === undefined;
  const monitor = opts?.monitor ?? new LoopMonitor(loop).start();
  return listen(loop, port, monitor, ownMonitor);
}

async function listen(loop: EventLoop, port: number, monitor: LoopMonitor, ownMonitor: boolean): Promise<Inspector> {
  const server = createServer((req, res) => {
    handle(loop, monitor, server, req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
      res.end(`inspector error: ${error instanceof Error ? error.message : String(error)}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const actual = (server.address() as AddressInfo).port;
  let closed: Promise<void> | null = null;
  return {
    url: `http://127.0.0.1:${actual}/`,
    port: actual,
    monitor,
    close() {
      closed ??= new Promise<void>((resolve) => {
        if (ownMonitor) monitor.stop();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

async function handle(loop: EventLoop, monitor: LoopMonitor, server: Server, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // DNS rebinding: a page from another origin that resolves its name to 127.0.0.1 must not
  // read the tree, so only loopback host names are answered.
  const port = (server.address() as AddressInfo).port;
  const hostHeader = req.headers.host ?? "";
  if (hostHeader !== `127.0.0.1:${port}` && hostHeader !== `localhost:${port}` && hostHeader !== `[::1]:${port}`) {
    send(res, 421, "text/plain; charset=utf-8", "the inspector answers only to http://127.0.0.1\n");
    return;
  }
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("allow", "GET, HEAD");
    send(res, 405, "text/plain; charset=utf-8", "method not allowed\n");
    return;
  }
  const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
  switch (path) {
    case "/":
      send(res, 200, "text/html; charset=utf-8", INSPECTOR_PAGE);
      return;
    case "/api/tasks": {
      const dump = dumpTasks(loop);
      send(res, 200, "application/json", JSON.stringify({ dump, text: formatTaskTree(dump) }));
      return;
    }
    case "/api/metrics":
      send(res, 200, "application/json", JSON.stringify(monitor.snapshot()));
      return;
    case "/metrics":
      send(res, 200, PROMETHEUS_CONTENT_TYPE, monitor.prometheus());
      return;
    default: {
      const type = VENDOR[path];
      if (type === undefined) {
        send(res, 404, "text/plain; charset=utf-8", `not found: ${path}\n`);
        return;
      }
      send(res, 200, type, await readFile(vendorFile(path.slice("/vendor/".length))));
    }
  }
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { "content-type": type, "cache-control": "no-store", "x-content-type-options": "nosniff" });
  res.end(body);
}

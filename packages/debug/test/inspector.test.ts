import { spawn } from "node:child_process";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { EventLoop, type Future } from "@loop/core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { inspectMain } from "../src/cli.js";
import { startInspector, type Inspector, type MonitorSnapshot, type TaskDump } from "../src/index.js";
import { labelled, waitOn } from "./helpers.js";

const here = dirname(fileURLToPath(import.meta.url));

let loop: EventLoop;
let gate: Future<void>;
let running: Promise<unknown>;
let inspector: Inspector;

beforeAll(async () => {
  loop = new EventLoop();
  gate = labelled<void>(loop, "Event.wait");
  const main = loop.createTask(
    (function* () {
      const child = loop.createTask(waitOn(gate), { name: "known-task" });
      yield* child;
    })(),
    { name: "main" },
  );
  running = loop.runUntilComplete(main);
  inspector = await startInspector({ loop, port: 0 });
});

afterAll(async () => {
  await inspector.close();
  loop.callSoonThreadsafe(() => gate.setResult());
  await running;
  loop.close();
});

/** GET with a chosen Host header (fetch does not allow setting it). */
function get(path: string, host: string, method = "GET"): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: inspector.port, path, method, headers: { host } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("startInspector", () => {
  test("listens on 127.0.0.1 only, on the port the OS picked", () => {
    expect(inspector.url).toBe(`http://127.0.0.1:${inspector.port}/`);
    expect(inspector.port).toBeGreaterThan(0);
  });

  test("/api/tasks gives the dump and the tree text, with the task awaiting the known task", async () => {
    const body = (await (await fetch(`${inspector.url}api/tasks`)).json()) as { dump: TaskDump; text: string };
    expect(body.dump.tasks.map((t) => t.name).sort()).toEqual(["known-task", "main"]);
    expect(body.text).toContain('└── Task "main" waiting on task "known-task"\n    └── Task "known-task" waiting on Event.wait');
  });

  test("/api/metrics gives a monitor snapshot, /metrics the Prometheus text", async () => {
    const snapshot = (await (await fetch(`${inspector.url}api/metrics`)).json()) as MonitorSnapshot;
    expect(snapshot.liveTasks).toBe(2);
    expect(snapshot.lagMs).toEqual({ p50: expect.any(Number), p99: expect.any(Number), max: expect.any(Number) });
    const metrics = await fetch(`${inspector.url}metrics`);
    expect(metrics.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    expect(await metrics.text()).toContain("loop_live_tasks 2\n");
  });

  test("serves the page and uPlot from the installed package", async () => {
    const page = await fetch(inspector.url);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const html = await page.text();
    expect(html).toContain('<script src="/vendor/uPlot.iife.min.js"></script>');
    const script = await fetch(`${inspector.url}vendor/uPlot.iife.min.js`);
    expect(script.status).toBe(200);
    expect(await script.text()).toContain("uPlot");
    expect((await fetch(`${inspector.url}vendor/uPlot.min.css`)).status).toBe(200);
  });

  test("answers only to loopback host names, only GET, and 404 elsewhere", async () => {
    expect((await get("/api/tasks", "evil.example:80")).status).toBe(421);
    expect((await get("/api/tasks", `localhost:${inspector.port}`)).status).toBe(200);
    expect((await get("/api/tasks", `127.0.0.1:${inspector.port}`, "POST")).status).toBe(405);
    expect((await get("/nope", `127.0.0.1:${inspector.port}`)).status).toBe(404);
    expect((await get("/vendor/../package.json", `127.0.0.1:${inspector.port}`)).status).toBe(404);
  });

  test("argument errors are thrown at the call", () => {
    expect(() => startInspector({ loop, port: -1 })).toThrow(RangeError);
    expect(() => startInspector({ loop, port: "80" as unknown as number })).toThrow(TypeError);
    expect(() => startInspector()).toThrow(/no running event loop/);
  });
});

describe("loop-inspect", () => {
  function capture(): { out: string[]; err: string[]; o: (s: string) => void; e: (s: string) => void } {
    const c = { out: [] as string[], err: [] as string[], o: (s: string) => c.out.push(s), e: (s: string) => c.err.push(s) };
    return c;
  }

  test("prints the same tree as the inspector", async () => {
    const c = capture();
    expect(await inspectMain([inspector.url], c.o, c.e)).toBe(0);
    expect(c.out.join("")).toContain('└── Task "main" waiting on task "known-task"\n    └── Task "known-task" waiting on Event.wait');
    expect(c.err).toEqual([]);
  });

  test("--json prints the dump", async () => {
    const c = capture();
    expect(await inspectMain([inspector.url.slice(0, -1), "--json"], c.o, c.e)).toBe(0);
    const dump = JSON.parse(c.out.join("")) as TaskDump;
    expect(dump.tasks.map((t) => t.name).sort()).toEqual(["known-task", "main"]);
  });

  test("bad arguments exit 2 with usage; an unreachable inspector exits 1", async () => {
    const c = capture();
    expect(await inspectMain([], c.o, c.e)).toBe(2);
    expect(c.err.join("")).toContain("usage: loop-inspect <url>");
    expect(await inspectMain(["--bogus", inspector.url], c.o, c.e)).toBe(2);
    expect(await inspectMain(["not a url"], c.o, c.e)).toBe(2);
    const closed = await startInspector({ loop, port: 0 });
    await closed.close();
    const d = capture();
    expect(await inspectMain([closed.url], d.o, d.e)).toBe(1);
    expect(d.err.join("")).toMatch(/^loop-inspect: cannot read http:\/\/127\.0\.0\.1:\d+\/api\/tasks/);
  });

  test("the bin runs as a command", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", join(here, "..", "src", "cli.ts"), inspector.url], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code).toBe(0);
    expect(out).toContain('Task "known-task" waiting on Event.wait');
  }, 30_000); // a fresh Node process compiling TypeScript: slow on a loaded machine
});

describe("startInspector's options", () => {
  test("each bad option is refused at the call with the option, the rule and the value, before anything listens", () => {
    const own = new EventLoop();
    expect(() => startInspector(null as never)).toThrow(new TypeError("startInspector(opts): opts must be an object like { loop, port }"));
    expect(() => startInspector("9229" as never)).toThrow(new TypeError("startInspector(opts): opts must be an object like { loop, port }"));
    expect(() => startInspector({ loop: own, port: "80" as unknown as number })).toThrow(new TypeError("startInspector({ port }): port must be a number, got string"));
    for (const port of [-1, 65536, 1.5]) {
      expect(() => startInspector({ loop: own, port })).toThrow(new RangeError(`startInspector({ port }): port must be an integer from 0 to 65535, got ${port}`));
    }
    own.close();
  });
});

describe("loop-inspect's arguments and exit statuses", () => {
  function capture(): { out: string[]; err: string[]; o: (s: string) => void; e: (s: string) => void } {
    const c = { out: [] as string[], err: [] as string[], o: (s: string) => c.out.push(s), e: (s: string) => c.err.push(s) };
    return c;
  }

  /** A stand-in inspector that answers every request with `status` and `body`. */
  async function serve(status: number, body: unknown): Promise<{ url: string; server: Server }> {
    const server = createServer((_req, res) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    }).listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
  }

  test("-h and --help print the usage on stdout and exit 0", async () => {
    for (const flag of ["-h", "--help"]) {
      const c = capture();
      expect(await inspectMain([flag], c.o, c.e)).toBe(0);
      expect(c.out.join("")).toMatch(/^usage: loop-inspect <url> \[--json\]\n/);
      expect(c.out.join("")).toContain("3 if the tree has a deadlock.");
      expect(c.err).toEqual([]);
    }
  });

  test("each bad argument says what is wrong and exits 2", async () => {
    const two = capture();
    expect(await inspectMain(["http://a/", "http://b/"], two.o, two.e)).toBe(2);
    expect(two.err.join("")).toMatch(/^loop-inspect: expected one URL, got 2\n\nusage: loop-inspect <url>/);
    const none = capture();
    expect(await inspectMain([], none.o, none.e)).toBe(2);
    expect(none.err.join("")).toMatch(/^loop-inspect: expected one URL, got 0\n/);
    const bogus = capture();
    expect(await inspectMain(["--bogus", "http://a/"], bogus.o, bogus.e)).toBe(2);
    expect(bogus.err.join("")).toMatch(/^loop-inspect: Unknown option '--bogus'.*\n\nusage: loop-inspect <url>/s);
    const notUrl = capture();
    expect(await inspectMain(["not a url"], notUrl.o, notUrl.e)).toBe(2);
    expect(notUrl.err).toEqual(["loop-inspect: not a URL: not a url\n"]);
    expect([...two.out, ...none.out, ...bogus.out, ...notUrl.out]).toEqual([]);
  });

  test("an HTTP error from the inspector exits 1 and names the status and the URL", async () => {
    const { url, server } = await serve(404, { error: "no" });
    try {
      const c = capture();
      expect(await inspectMain([url], c.o, c.e)).toBe(1);
      expect(c.err).toEqual([`loop-inspect: cannot read ${url}api/tasks: HTTP 404 from ${url}api/tasks\n`]);
      expect(c.out).toEqual([]);
    } finally {
      server.close();
    }
  });

  test("a tree with a deadlock is printed and exits 3; without one, 0", async () => {
    const deadlocked = await serve(200, { dump: { deadlocks: [{ tasks: ["a", "b"] }] }, text: "the tree" });
    const fine = await serve(200, { dump: { deadlocks: [] }, text: "the tree" });
    try {
      const c = capture();
      expect(await inspectMain([deadlocked.url], c.o, c.e)).toBe(3);
      expect(c.out).toEqual(["the tree\n"]);
      const d = capture();
      expect(await inspectMain([fine.url, "--json"], d.o, d.e)).toBe(0);
      expect(d.out).toEqual([`${JSON.stringify({ deadlocks: [] }, null, 2)}\n`]);
    } finally {
      deadlocked.server.close();
      fine.server.close();
    }
  });
});

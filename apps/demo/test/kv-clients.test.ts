/**
 * The demo's server in the hands of real client libraries, each on its default options:
 * ioredis (whose ready check sends INFO before any command), node-redis (the `redis`
 * package: CLIENT SETINFO on connect) and redis-py (Debian's `python3-redis`, in a child
 * process). Each connects, lets its handshake run, and does a round of ordinary commands.
 *
 * redis-py is skipped locally when python3-redis is missing; on CI (`CI` set) that fails,
 * with the command that installs it.
 */
import { execFile, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { describe, expect, it } from "vitest";
import { ensureFuture, run } from "@loop/core";
import { startKvServer } from "../src/kv/server.js";

/** Runs `body` against a fresh server on 127.0.0.1, port 0; shuts the server down after. */
function withServer<T>(body: (port: number) => Promise<T>): Promise<T> {
  return run(function* () {
    const server = yield* startKvServer({ port: 0 });
    try {
      return yield* ensureFuture(body(server.port));
    } finally {
      yield* server.shutdown();
    }
  });
}

/** Debian's interpreter, where python3-redis installs; a PATH python3 may be another one. */
const PYTHON = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

function hasRedisPy(): boolean {
  try {
    execFileSync(PYTHON, ["-c", "import redis"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const onCi = process.env["CI"] !== undefined && process.env["CI"] !== "" && process.env["CI"] !== "false";
const redisPy = hasRedisPy();
const MISSING_PY = "redis-py not found: apt-get update && apt-get install -y python3-redis";
if (!redisPy && !onCi) console.warn(`kv-clients redis-py test skipped: ${MISSING_PY}`);

describe("real client libraries on their default options", () => {
  it("ioredis: the ready check (INFO) passes and commands work", async () => {
    const out = await withServer(async (port) => {
      const client = new Redis({ port, host: "127.0.0.1", lazyConnect: false });
      try {
        await new Promise<void>((resolve, reject) => {
          client.once("ready", resolve);
          client.once("error", reject);
        });
        await client.set("k", "v");
        const got = await client.get("k");
        const incr = await client.incr("n");
        await client.client("SETNAME", "io");
        const name = await client.client("GETNAME");
        const info = await client.info("server");
        const pipeline = await client.pipeline().set("a", "1").get("a").exec();
        return { got, incr, name, version: /redis_version:(\S+)/.exec(info)?.[1], pipeline, status: client.status };
      } finally {
        await client.quit();
      }
    });
    expect(out).toEqual({ got: "v", incr: 1, name: "io", version: "7.0.0", pipeline: [[null, "OK"], [null, "1"]], status: "ready" });
  });

  it("node-redis (the redis package): connect, SETINFO, commands, pub/sub", async () => {
    const out = await withServer(async (port) => {
      const client = createClient({ url: `redis://127.0.0.1:${port}` });
      const errors: unknown[] = [];
      client.on("error", (error: unknown) => errors.push(error));
      await client.connect();
      const subscriber = client.duplicate();
      await subscriber.connect();
      try {
        const heard = new Promise<string>((resolve) => void subscriber.subscribe("news", (message) => resolve(message)));
        await client.set("k", "v");
        const got = await client.get("k");
        const ttl = await client.expire("k", 100);
        const id = await client.clientId();
        const size = await client.dbSize();
        // Published until the subscription is in place: SUBSCRIBE's reply comes on another connection.
        let delivered = 0;
        while (delivered === 0) delivered = await client.publish("news", "hello");
        return { got, ttl, idIsNumber: typeof id === "number", size, message: await heard, errors };
      } finally {
        await subscriber.quit();
        await client.quit();
      }
    });
    expect(out).toEqual({ got: "v", ttl: 1, idIsNumber: true, size: 1, message: "hello", errors: [] });
  });

  (redisPy || onCi ? it : it.skip)("redis-py (python3-redis): ping, set/get, pipeline, info", async () => {
    if (!redisPy) throw new Error(MISSING_PY);
    const script = [
      "import json, sys, redis",
      "r = redis.Redis(host='127.0.0.1', port=int(sys.argv[1]))",
      "out = {'ping': r.ping(), 'set': r.set('k', 'v'), 'get': r.get('k').decode()}",
      "p = r.pipeline(); p.incr('n'); p.incr('n'); out['pipeline'] = p.execute()",
      "out['version'] = r.info()['redis_version']",
      "out['loading'] = r.info('persistence')['loading']",
      "r.client_setname('py'); name = r.client_getname(); out['name'] = name.decode() if isinstance(name, bytes) else name",
      "print(json.dumps(out))",
    ].join("\n");
    const stdout = await withServer(
      (port) =>
        new Promise<string>((resolve, reject) => {
          execFile(PYTHON, ["-c", script, String(port)], { timeout: 20_000 }, (error, out, stderr) => {
            if (error !== null) reject(new Error(`redis-py failed: ${error.message}\n${stderr}`));
            else resolve(out);
          });
        }),
    );
    expect(JSON.parse(stdout)).toEqual({ ping: true, set: true, get: "v", pipeline: [1, 2], version: "7.0.0", loading: 0, name: "py" });
  });
});

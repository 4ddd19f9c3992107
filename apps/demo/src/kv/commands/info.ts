/**
 * `INFO [section …]`: the server's state as Redis prints it, "# Section" headers and
 * `field:value` lines. Client libraries read it on connect — ioredis's ready check waits
 * while `loading:1`, others read `redis_version` and `role` — so the fields they parse are
 * here, with the values this server really has; the rest of Redis's long list is not.
 */

import type { Command, CommandContext, ServerFacts } from "./context.js";

/** The version this server answers to (HELLO says the same). */
export const REDIS_VERSION = "7.0.0";

type Section = (ctx: CommandContext, facts: ServerFacts | undefined) => string[];

const runId = Array.from({ length: 40 }, () => "0123456789abcdef"[Math.floor(Math.random() * 16)]).join("");

const sections: ReadonlyMap<string, Section> = new Map<string, Section>([
  [
    "server",
    (_ctx, facts) => {
      const uptime = facts === undefined ? 0 : Math.floor((Date.now() - facts.startedAt) / 1000);
      return [
        `redis_version:${REDIS_VERSION}`,
        "redis_mode:standalone",
        "server_name:loop-kv",
        `os:${process.platform} ${process.arch}`,
        "arch_bits:64",
        "multiplexing_api:@loop",
        `process_id:${process.pid}`,
        `run_id:${runId}`,
        `tcp_port:${facts?.port ?? 0}`,
        `uptime_in_seconds:${uptime}`,
        `uptime_in_days:${Math.floor(uptime / 86_400)}`,
        "hz:10",
      ];
    },
  ],
  [
    "clients",
    (_ctx, facts) => [`connected_clients:${facts?.connections ?? 1}`, "blocked_clients:0", "maxclients:10000"],
  ],
  [
    "memory",
    () => {
      const memory = process.memoryUsage();
      const used = memory.heapUsed + memory.arrayBuffers;
      return [
        `used_memory:${used}`,
        `used_memory_human:${human(used)}`,
        `used_memory_rss:${memory.rss}`,
        `used_memory_rss_human:${human(memory.rss)}`,
        "maxmemory:0",
        "maxmemory_human:0B",
        "maxmemory_policy:noeviction",
        "mem_allocator:v8",
      ];
    },
  ],
  [
    "persistence",
    // No persistence: never loading, nothing to save. ioredis's ready check reads `loading`.
    () => ["loading:0", "async_loading:0", "rdb_changes_since_last_save:0", "rdb_bgsave_in_progress:0", "rdb_last_bgsave_status:ok", "aof_enabled:0", "aof_rewrite_in_progress:0"],
  ],
  [
    "stats",
    (ctx, facts) => [
      `total_connections_received:${facts?.stats.connectionsAccepted ?? 0}`,
      `total_commands_processed:${facts?.stats.commandsProcessed ?? 0}`,
      "rejected_connections:0",
      `pubsub_channels:${ctx.pubsub.channelNames().length}`,
      "pubsub_patterns:0",
    ],
  ],
  ["replication", () => ["role:master", "connected_slaves:0", `master_replid:${runId}`, "master_repl_offset:0"]],
  [
    "cpu",
    () => {
      const cpu = process.cpuUsage();
      return [`used_cpu_sys:${(cpu.system / 1e6).toFixed(6)}`, `used_cpu_user:${(cpu.user / 1e6).toFixed(6)}`];
    },
  ],
  [
    "keyspace",
    (ctx) => (ctx.keyspace.size === 0 ? [] : [`db0:keys=${ctx.keyspace.size},expires=${ctx.keyspace.expiringSize},avg_ttl=0`]),
  ],
]);

/** What `INFO` and `INFO default` print (Redis's default set, less what this server lacks). */
const DEFAULT = ["server", "clients", "memory", "persistence", "stats", "replication", "cpu", "keyspace"];

export const info: Command = {
  name: "info",
  arity: -1,
  run(ctx, args) {
    let names: string[] = [];
    if (args.length === 1) names = DEFAULT;
    for (let i = 1; i < args.length; i++) {
      const name = args.latin1(i).toLowerCase();
      if (name === "default" || name === "all" || name === "everything") names = names.concat(DEFAULT);
      else if (sections.has(name)) names.push(name);
      // An unknown section prints nothing, as in Redis.
    }
    let text = "";
    const seen = new Set<string>();
    for (const name of names) {
      const section = sections.get(name);
      if (section === undefined || seen.has(name)) continue;
      seen.add(name);
      if (text !== "") text += "\r\n";
      text += `# ${name.charAt(0).toUpperCase()}${name.slice(1)}\r\n`;
      for (const line of section(ctx, ctx.server)) text += `${line}\r\n`;
    }
    ctx.out.bulkLatin1(text);
  },
};

function human(bytes: number): string {
  if (bytes < 1024) return `${bytes}B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(2)}K`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(2)}M`;
  return `${(bytes / (1024 * 1024 * 1024)).toFixed(2)}G`;
}

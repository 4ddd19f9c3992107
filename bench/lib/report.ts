/**
 * Small helpers shared by the suites: run a body a few times after warm-up and report
 * the median and percentiles of a per-operation cost, and run a CPython peer script.
 */
import { spawnSync } from "node:child_process";

export interface Sample {
  name: string;
  /** Per-operation cost of each measured round, in the unit of the suite. */
  values: number[];
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

export function summarize(values: number[]): { median: number; p90: number; min: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  return { median: percentile(s, 50), p90: percentile(s, 90), min: s[0] as number, max: s[s.length - 1] as number };
}

/**
 * Runs `round` `warmup + rounds` times and keeps the per-operation cost of the measured
 * rounds. `round` returns the cost of one operation (ns, bytes…) for that round.
 */
export async function measure(name: string, round: () => Promise<number> | number, opts?: { warmup?: number; rounds?: number }): Promise<Sample> {
  const warmup = opts?.warmup ?? 2;
  const rounds = opts?.rounds ?? 7;
  for (let i = 0; i < warmup; i++) await round();
  const values: number[] = [];
  for (let i = 0; i < rounds; i++) values.push(await round());
  return { name, values };
}

/** Prints a table of samples with the ratio of each median to the reference's median. */
export function printTable(title: string, unit: string, samples: Sample[], reference: string): void {
  const ref = samples.find((s) => s.name === reference);
  const refMedian = ref ? summarize(ref.values).median : NaN;
  console.log(`\n### ${title} (${unit}; lower is better; ratio = median / ${reference})`);
  const rows = samples.map((s) => {
    const { median, p90, min, max } = summarize(s.values);
    return {
      name: s.name,
      median: round2(median),
      p90: round2(p90),
      min: round2(min),
      max: round2(max),
      ratio: Number.isNaN(refMedian) ? "-" : `${round2(median / refMedian)}x`,
    };
  });
  console.table(rows);
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** Runs a CPython peer script when python3 exists; returns its JSON output or null. */
export function runPython(script: string, args: string[] = []): Record<string, number[]> | null {
  const probe = spawnSync("python3", ["--version"], { encoding: "utf8" });
  if (probe.status !== 0) {
    console.log("(python3 not found: CPython asyncio peers skipped)");
    return null;
  }
  const r = spawnSync("python3", [script, ...args], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) {
    console.log(`(python peer failed: ${r.stderr.trim().split("\n").pop()})`);
    return null;
  }
  return JSON.parse(r.stdout) as Record<string, number[]>;
}

/** CPU time (user + system) of this process in ns since `start`. */
export function cpuSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) * 1000;
}

export function gcIfPossible(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
}

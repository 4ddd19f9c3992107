/**
 * The Promise round trip of part (c) of streams.bench.ts counted in machine instructions
 * instead of CPU time: what a change to the wake-up path costs can be told apart on a loaded
 * machine, where CPU time moves by 5–10% between rounds and instruction counts by 1–3%.
 *
 * Each variant runs in Node under valgrind's cachegrind (no cache simulation), once with
 * 100,000 and once with 300,000 round trips; the difference over 200,000 is the count per
 * round trip, without start-up and module loading. `--predictable --single-threaded` make V8
 * compile and collect garbage on the main thread, so that two runs of the same code agree.
 * The variants: a bare `await` in an async function (the reference), a generator driven by
 * hand from each Promise's `then` (the least any generator-based round trip can cost), the
 * same through `yield*` of a hand-written coroutine object like `call()`'s, then @loop's
 * `call()` and `ensureFuture()`. Needs valgrind (Debian's `valgrind`); about a minute per
 * variant, longer under load.
 *
 *   cd bench && node --import tsx suites/promise-instructions.ts   (after pnpm build)
 *   PROMISE_IC_VARIANTS=call,bare …    only those
 */
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = join(dirname(fileURLToPath(import.meta.url)), "..");
const SMALL = 100_000;
const LARGE = 300_000;

// Each body runs N round trips of Promise.resolve(1) and checks the sum.
const bodies: Record<string, string> = {
  bare: `let s = 0; for (let i = 0; i < N; i++) s += await Promise.resolve(1); check(s);`,
  "generator driven by then": `
    await new Promise((done) => {
      const gen = (function* () { let s = 0; for (let i = 0; i < N; i++) s += yield Promise.resolve(1); return s; })();
      const ok = (v) => step(v);
      const step = (v) => { const r = gen.next(v); if (r.done) { check(r.value); done(); } else r.value.then(ok, null); };
      step(undefined);
    });`,
  "generator, yield* of an object": `
    class Op {
      constructor(fn) { this.fn = fn; this.started = false; this.done = false; this.value = undefined; }
      [Symbol.iterator]() { return this; }
      next(v) { if (!this.started) { this.started = true; this.value = this.fn(); return this; } this.done = true; this.value = v; return this; }
    }
    await new Promise((done) => {
      const gen = (function* () { let s = 0; for (let i = 0; i < N; i++) s += yield* new Op(() => Promise.resolve(1)); return s; })();
      const ok = (v) => step(v);
      const step = (v) => { const r = gen.next(v); if (r.done) { check(r.value); done(); } else r.value.then(ok, null); };
      step(undefined);
    });`,
  call: `
    const { call, run } = await import("@loop/core");
    await run(function* () { let s = 0; for (let i = 0; i < N; i++) s += yield* call(() => Promise.resolve(1)); check(s); });`,
  ensureFuture: `
    const { ensureFuture, run } = await import("@loop/core");
    await run(function* () { let s = 0; for (let i = 0; i < N; i++) s += yield* ensureFuture(Promise.resolve(1)); check(s); });`,
};

function instructions(body: string, n: number): number {
  const code = `const N = ${n}; const check = (s) => { if (s !== N) throw new Error("lost results: " + s); };\n${body}`;
  const r = spawnSync(
    "valgrind",
    ["--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null", "--smc-check=all-non-file", process.execPath, "--predictable", "--single-threaded", "--input-type=module", "-e", code],
    { cwd: here, encoding: "utf8" },
  );
  if (r.error !== undefined) throw new Error(`valgrind could not run (${r.error.message}): apt-get install valgrind`);
  if (r.status !== 0) throw new Error(`the variant failed:\n${r.stderr}`);
  const match = /I\s+refs:\s+([\d,]+)/.exec(r.stderr);
  if (match === null) throw new Error(`no instruction count in valgrind's output:\n${r.stderr}`);
  return Number((match[1] as string).replaceAll(",", ""));
}

const wanted = process.env["PROMISE_IC_VARIANTS"]?.split(",");
const rows: { variant: string; "instructions per round trip": number; ratio: string }[] = [];
let reference = NaN;
for (const [name, body] of Object.entries(bodies)) {
  if (wanted !== undefined && !wanted.includes(name) && name !== "bare") continue;
  const perTrip = Math.round((instructions(body, LARGE) - instructions(body, SMALL)) / (LARGE - SMALL));
  if (name === "bare") reference = perTrip;
  rows.push({ variant: name, "instructions per round trip": perTrip, ratio: `${(perTrip / reference).toFixed(2)}x` });
  console.log(`${name}: ${perTrip}`);
}
console.log(`\n### A Promise round trip in machine instructions (${LARGE - SMALL} round trips; ratio to the bare await)`);
console.table(rows);

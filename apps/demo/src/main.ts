#!/usr/bin/env -S node --enable-source-maps
import type { Scenario } from "./scenario.js";
import { scenarios } from "./scenarios/index.js";

const usage = `usage: npm run demo -- [--debug] [--list] [scenario [args…]]

  (no scenario)  play every scenario in order
  --list         list the scenarios
  --debug        run with the loop's debug mode on (same as LOOP_DEBUG=1)`;

async function main(argv: readonly string[]): Promise<number> {
  const args = [...argv];
  if (args.includes("--help") || args.includes("-h")) {
    console.log(usage);
    return 0;
  }
  if (args.includes("--debug")) {
    // The loop reads LOOP_DEBUG when it is created (docs/design.md); the flag is kept in `args`
    // too, so that a scenario can look at it.
    process.env["LOOP_DEBUG"] = "1";
  }
  if (args.includes("--list")) {
    for (const s of scenarios) console.log(`${s.name.padEnd(20)} ${s.description}`);
    return 0;
  }

  console.log("demo");
  const name = args.find((a) => !a.startsWith("-"));
  let chosen: readonly Scenario[] = scenarios;
  let rest = args;
  if (name !== undefined) {
    const found = scenarios.find((s) => s.name === name);
    if (found === undefined) {
      console.error(`unknown scenario "${name}"; try --list`);
      return 2;
    }
    chosen = [found];
    rest = args.filter((a) => a !== name);
  }
  if (chosen.length === 0) console.log("(no scenarios yet)");
  for (const s of chosen) {
    console.log(`\n== ${s.name}: ${s.description}`);
    await s.run(rest);
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);

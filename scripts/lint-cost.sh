#!/usr/bin/env bash
# What @loop/eslint-plugin costs `pnpm lint` (packages/eslint-plugin/README.md, "Performance"):
# the same files linted with the plugin's rules off and no program, with the program built
# but the rules off, and as configured; alternating, ROUNDS times (default 3), printing CPU
# seconds (user+system) so that runs on a busy machine still compare.
#   bash scripts/lint-cost.sh [ROUNDS] [BASELINE_CHECKOUT]
# BASELINE_CHECKOUT, if given, is another checkout (say of 921034f, the last lint before the
# plugin, with `pnpm install` run in it) whose `eslint .` joins each round.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
baseline=${2:-}
dir=.cache/lint-cost
mkdir -p "$dir"
cat > "$dir/eslint.off.js" <<'JS'
import config from "../../eslint.config.js";
export default config.map((c) => {
  if (!(c.plugins && "@loop" in c.plugins)) return c;
  const { languageOptions: _untyped, ...rest } = c;
  return { ...rest, rules: Object.fromEntries(Object.keys(c.rules).map((r) => [r, "off"])) };
});
JS
cat > "$dir/eslint.program.js" <<'JS'
import config from "../../eslint.config.js";
export default config.map((c) =>
  c.plugins && "@loop" in c.plugins ? { ...c, rules: Object.fromEntries(Object.keys(c.rules).map((r) => [r, "off"])) } : c,
);
JS
pnpm exec turbo run build --filter=@loop/eslint-plugin --output-logs=errors-only > /dev/null
run() {
  local label=$1 where=$2; shift 2
  local out="$PWD/$dir/time"
  (cd "$where" && /usr/bin/time -o "$out" -f "%e %U %S" node node_modules/eslint/bin/eslint.js "$@" . > /dev/null 2>&1) || true
  read -r wall user sys < "$out"
  printf "%-10s wall %6.2f s  cpu %6.2f s  load %s\n" "$label" "$wall" "$(echo "$user + $sys" | bc)" "$(cut -d' ' -f1 /proc/loadavg)"
}
for i in $(seq 1 "$rounds"); do
  [ -n "$baseline" ] && run baseline "$baseline"
  run off . -c "$dir/eslint.off.js"
  run program . -c "$dir/eslint.program.js"
  run plugin .
done

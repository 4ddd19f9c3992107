import type { Poller } from "@loop/core";
import { SelectorPoller } from "@loop/selector";

/**
 * The `--poller <name>` option of the network stops: `selector` runs the loop on
 * @loop/selector's native epoll poller (raw sockets); `default` (or no option) on Node's
 * timers and sockets. Returns the poller for `run(main, { poller })`.
 */
export function pollerFromArgs(args: readonly string[], where: string): Poller | undefined {
  const i = args.indexOf("--poller");
  if (i < 0) return undefined;
  const name = args[i + 1];
  if (name === "default") return undefined;
  if (name === "selector") return new SelectorPoller();
  throw new RangeError(`${where}: --poller must be "default" or "selector", got ${name === undefined ? "nothing" : JSON.stringify(name)}`);
}

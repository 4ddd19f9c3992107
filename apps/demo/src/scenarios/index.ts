import type { Scenario } from "../scenario.js";
import { debugScenario } from "./debug.js";
import { flakyNetworkScenario } from "./flaky-network.js";
import { hello } from "./hello.js";
import { kvServer } from "./kv-server.js";
import { queuesAndSemaphores } from "./queues-and-semaphores.js";
import { timersScenario } from "./timers.js";
import { udpEcho } from "./udp-echo.js";
import { workersScenario } from "./workers.js";

/**
 * Every scenario of the tour, in the order `npm run demo` plays them. One import and one
 * entry per scenario, each on its own line.
 */
export const scenarios: readonly Scenario[] = [
  hello,
  kvServer,
  flakyNetworkScenario,
  udpEcho,
  debugScenario,
  workersScenario,
  queuesAndSemaphores,
  timersScenario,
];

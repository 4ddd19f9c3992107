import type { Scenario } from "../scenario.js";

/** Every scenario of the tour, in the order `npm run demo` plays them. */
export const scenarios: readonly Scenario[] = [];

import { describe, it } from "vitest";
import { DefaultPoller } from "@loop/core";
import { VirtualPoller, pollerConformance } from "../src/index.js";

// Both built-in pollers pass the kit (docs/design.md#the-poller-contract).
pollerConformance(() => new DefaultPoller(), { describe, it });
pollerConformance(() => new VirtualPoller(), { describe, it });
pollerConformance(() => new VirtualPoller({ seed: 7 }), { describe, it }, { name: "poller conformance: virtual, seeded" });

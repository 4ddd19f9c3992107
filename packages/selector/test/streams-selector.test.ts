import { run, type Coroutine } from "@loop/core";
import type { StreamWriter } from "@loop/net";
import { afterAll, beforeAll, describe } from "vitest";
// The stream suite of @loop/net, shared by every network driver.
import { streamSuite } from "../../net/test/stream-suite.js";
import { SelectorPoller, type SelectorSocket } from "../src/index.js";
import { blackhole, expectNoOpenDescriptors } from "./helpers.js";
import { available, openFds } from "./native-available.js";

describe.skipIf(!available)("@loop/net's streams on the selector's raw sockets", () => {
  let fdsAtStart = 0;
  beforeAll(() => {
    fdsAtStart = openFds();
  });
  afterAll(async () => {
    await expectNoOpenDescriptors(fdsAtStart);
  });

  streamSuite({
    name: "the selector poller's raw sockets on 127.0.0.1",
    host: "127.0.0.1",
    unknownHost: "no-such-host.invalid",
    run<T>(main: () => Coroutine<T>): Promise<T> {
      return run(main, { poller: new SelectorPoller() });
    },
    resetConnection(writer: StreamWriter): void {
      writer.getExtraInfo<SelectorSocket>("socket")!.resetAndDestroy();
    },
    unreachable: blackhole,
    *tick(): Coroutine<void> {
      yield;
    },
    expectNoOpenHandles: () => expectNoOpenDescriptors(),
  });
});

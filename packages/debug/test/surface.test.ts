import { expect, test } from "vitest";
import * as debug from "../src/index.js";

test("the public surface is exactly these names", () => {
  expect(Object.keys(debug).sort()).toEqual(
    [
      "LoopMonitor",
      "PROMETHEUS_CONTENT_TYPE",
      "TraceRecorder",
      "consoleLogger",
      "describeWait",
      "dumpTasks",
      "dumpTasksOnSignal",
      "formatPrometheus",
      "formatTaskTree",
      "pinoLogger",
      "plainDetails",
      "prometheusHandler",
      "startInspector",
      "taskId",
    ].sort(),
  );
});

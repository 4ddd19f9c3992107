import { expect, test } from "vitest";
import * as workers from "../src/index.js";

test("the public surface is exactly these names", () => {
  expect(Object.keys(workers).sort()).toEqual([
    "WorkerPoolExecutor",
    "defaultExecutor",
    "moduleFunction",
    "runInExecutor",
    "runInWorker",
    "toThread",
    "transfer",
  ]);
});

// "From async/await to @loop" in packages/core/README.md, program 2: apps/demo/test/guide.test.ts runs both versions.
import { each, fromAsyncIterable, type Coroutine } from "@loop/core";
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";

// #region lines-async
async function countErrors(path: string): Promise<number> {
  const input = createReadStream(path);
  let errors = 0;
  try {
    for await (const line of createInterface({ input, crlfDelay: Infinity })) {
      if (line.startsWith("ERROR")) errors++;
    }
  } finally {
    input.destroy(); // readline never closes its input
  }
  return errors;
}
// #endregion

// #region lines-loop
function* countErrorsOnLoop(path: string): Coroutine<number> {
  const input = createReadStream(path);
  let errors = 0;
  try {
    for (const line of yield* each(fromAsyncIterable(createInterface({ input, crlfDelay: Infinity })))) {
      if (line.startsWith("ERROR")) errors++;
      yield* each.next(); // pulls the next line; leaving the loop early closes the reader
    }
  } finally {
    input.destroy(); // readline never closes its input
  }
  return errors;
}
// #endregion

export { countErrors, countErrorsOnLoop };

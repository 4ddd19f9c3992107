// "From async/await to @loop" in packages/core/README.md, program 2: apps/demo/test/guide.test.ts runs both versions.
import { each, fromAsyncIterable, type Coroutine } from "@loop/core";
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";

// #region lines-async
async function countErrors(path: string): Promise<number> {
  let errors = 0;
  for await (const line of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
    if (line.startsWith("ERROR")) errors++;
  }
  return errors;
}
// #endregion

// #region lines-loop
function* countErrorsOnLoop(path: string): Coroutine<number> {
  let errors = 0;
  const lines = fromAsyncIterable(createInterface({ input: createReadStream(path), crlfDelay: Infinity }));
  for (const line of yield* each(lines)) {
    if (line.startsWith("ERROR")) errors++;
    yield* each.next(); // pulls the next line; a break or a cancellation closes the file
  }
  return errors;
}
// #endregion

export { countErrors, countErrorsOnLoop };

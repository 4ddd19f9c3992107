// "From async/await to @loop" in packages/core/README.md, program 5: apps/demo/test/guide.test.ts runs both versions.
import { call, each, fromIterable, mapConcurrent, type Coroutine } from "@loop/core";

// #region crawl-async
async function crawl(urls: string[], limit: number): Promise<number[]> {
  const sizes = new Array<number>(urls.length);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < urls.length) {
      const i = next++;
      const response = await fetch(urls[i] as string);
      sizes[i] = (await response.arrayBuffer()).byteLength;
    }
  }
  await Promise.all(Array.from({ length: limit }, worker)); // one failure: the rest go on
  return sizes;
}
// #endregion

// #region crawl-loop
function* crawlOnLoop(urls: string[], limit: number): Coroutine<number[]> {
  const pages = mapConcurrent(fromIterable(urls), limit, (url) =>
    call(async (signal) => (await (await fetch(url, { signal })).arrayBuffer()).byteLength),
  );
  const sizes: number[] = [];
  for (const size of yield* each(pages)) {
    sizes.push(size); // in the order of urls; { ordered: false } for as they finish
    yield* each.next();
  }
  return sizes;
}
// #endregion

export { crawl, crawlOnLoop };

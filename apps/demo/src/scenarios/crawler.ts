import { CancelledError, call, createTask, each, fromIterable, getRunningLoop, mapConcurrent, type Coroutine } from "@loop/core";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A small local web site to crawl, on a real `node:http` server bound to 127.0.0.1:
 * `/page/<i>` answers after a few milliseconds (a different delay per page); `/hang/<i>`
 * never answers, until the client gives up. It counts the requests in flight, the most at
 * once, and those the client abandoned before an answer.
 */
export class LocalSite {
  inFlight = 0;
  /** Requests to /hang/… in flight. */
  hanging = 0;
  mostInFlight = 0;
  abandoned = 0;
  private readonly _server: Server;
  private readonly _waiters: { until: () => boolean; resolve: () => void }[] = [];

  private constructor() {
    this._server = createServer((req, res) => this._handle(req, res));
  }

  static start(): Promise<LocalSite> {
    const site = new LocalSite();
    return new Promise((resolve) => site._server.listen(0, "127.0.0.1", () => resolve(site)));
  }

  private _handle(req: IncomingMessage, res: ServerResponse): void {
    const match = /^\/page\/(\d+)$/.exec(req.url ?? "");
    const hangs = match === null; // /hang/<i>: no answer
    this._arrive(hangs);
    let answered = false;
    const i = Number(match?.[1] ?? 0);
    const timer = hangs
      ? undefined
      : setTimeout(() => {
          answered = true;
          res.end(`<html><body>page ${i}${" lorem".repeat(i % 50)}</body></html>`);
        }, 2 + ((i * 7) % 11));
    res.on("close", () => {
      clearTimeout(timer);
      if (!answered) this.abandoned++;
      this._leave(hangs);
    });
  }

  get origin(): string {
    return `http://127.0.0.1:${(this._server.address() as AddressInfo).port}`;
  }

  /** Resolves once `until()` is true of the counts (at once if it is). */
  when(until: () => boolean): Promise<void> {
    if (until()) return Promise.resolve();
    return new Promise((resolve) => this._waiters.push({ until, resolve }));
  }

  close(): Promise<void> {
    this._server.closeAllConnections();
    return new Promise((resolve) => this._server.close(() => resolve()));
  }

  private _arrive(hangs: boolean): void {
    this.inFlight++;
    if (hangs) this.hanging++;
    this.mostInFlight = Math.max(this.mostInFlight, this.inFlight);
    this._notify();
  }

  private _leave(hangs: boolean): void {
    this.inFlight--;
    if (hangs) this.hanging--;
    this._notify();
  }

  private _notify(): void {
    for (let i = this._waiters.length - 1; i >= 0; i--) {
      const waiter = this._waiters[i] as { until: () => boolean; resolve: () => void };
      if (waiter.until()) {
        this._waiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }
}

/** Fetches each url, at most `limit` at a time, and streams the page sizes in url order. */
export function* crawl(urls: readonly string[], limit: number, onPage: (size: number) => void): Coroutine<number> {
  const pages = mapConcurrent(fromIterable(urls), limit, (url) =>
    call(async (signal) => (await (await fetch(url, { signal })).arrayBuffer()).byteLength),
  );
  let total = 0;
  for (const size of yield* each(pages)) {
    total += size;
    onPage(size);
    yield* each.next();
  }
  return total;
}

export interface CrawlReport {
  pages: number;
  bytes: number;
  mostInFlight: number;
}

/** 300 pages of a local site through `fetch`, at most `limit` requests at once. */
export function* crawlSite(print: (line: string) => void, pages = 300, limit = 20): Coroutine<CrawlReport> {
  const site = yield* call(() => LocalSite.start());
  try {
    const urls = Array.from({ length: pages }, (_, i) => `${site.origin}/page/${i}`);
    let done = 0;
    const bytes = yield* crawl(urls, limit, () => {
      if (++done % 100 === 0) print(`  ${done} pages fetched; ${site.inFlight} requests in flight`);
    });
    print(`${done} pages, ${bytes} bytes; the server saw at most ${site.mostInFlight} requests at once (limit ${limit})`);
    if (site.mostInFlight > limit) throw new Error(`mapConcurrent let ${site.mostInFlight} requests run at once`);
    return { pages: done, bytes, mostInFlight: site.mostInFlight };
  } finally {
    yield* call(() => site.close());
  }
}

export interface StopReport {
  fetched: number;
  inFlightAtStop: number;
  abandoned: number;
  stillOpen: number;
  byCtrlC: boolean;
}

/**
 * A crawl that is stopped: the first `answered` pages answer, the rest hang. The crawl is
 * cancelled on Ctrl-C, or by itself once `limit` requests hang; every request in flight is
 * aborted (the server sees each one abandoned) and none stays open.
 */
export function* crawlAndStop(print: (line: string) => void, answered = 30, limit = 20, opts?: { waitForCtrlC?: boolean }): Coroutine<StopReport> {
  const loop = getRunningLoop();
  const site = yield* call(() => LocalSite.start());
  let byCtrlC = false;
  try {
    const urls = Array.from({ length: 1000 }, (_, i) => `${site.origin}/${i < answered ? "page" : "hang"}/${i}`);
    let fetched = 0;
    const answeredAll = loop.createFuture<void>();
    const crawling = createTask(
      crawl(urls, limit, () => {
        if (++fetched === answered) answeredAll.setResult();
      }),
      { name: "crawl" },
    );
    const onSigint = (): void => {
      byCtrlC = true;
      loop.callSoonThreadsafe(() => crawling.cancel("Ctrl-C"));
    };
    process.once("SIGINT", onSigint);
    try {
      // The answered pages are in; then `limit` requests hang (or Ctrl-C comes first).
      const allHanging = Promise.resolve(answeredAll).then(() => site.when(() => site.hanging === limit && site.inFlight === limit));
      if (opts?.waitForCtrlC === true) {
        yield* call(() => allHanging);
        print(`  ${fetched} pages fetched, ${site.hanging} requests hanging: press Ctrl-C to stop`);
      }
      yield* call(() => Promise.race([opts?.waitForCtrlC === true ? new Promise<void>(ignore) : allHanging, Promise.resolve(crawling).then(ignore, ignore)]));
      const inFlightAtStop = site.inFlight;
      if (byCtrlC) print(`  Ctrl-C with ${inFlightAtStop} requests in flight`);
      else print(`  ${fetched} pages fetched, ${inFlightAtStop} requests hanging: stopping (as Ctrl-C would)`);
      crawling.cancel("stop");
      try {
        yield* crawling;
      } catch (error) {
        if (!(error instanceof CancelledError)) throw error;
      }
      yield* call(() => site.when(() => site.inFlight === 0)); // the server hears every abort
      print(`stopped: ${site.abandoned} requests aborted, ${site.inFlight} still open on the server`);
      return { fetched, inFlightAtStop, abandoned: site.abandoned, stillOpen: site.inFlight, byCtrlC };
    } finally {
      process.off("SIGINT", onSigint);
    }
  } finally {
    yield* call(() => site.close());
  }
}

function ignore(): void {}

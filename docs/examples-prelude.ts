// What the documentation's examples use without defining it, so that each example can
// stay a few lines long: scripts/check-examples.mjs type-checks the examples (JSDoc
// `@example` fragments) with these in scope, next to every public name of every package.
// Our own API is what the check is about; the data an example works on is loosely typed.
/* eslint-disable @typescript-eslint/no-explicit-any -- the data of an example is deliberately loose */
import type { Coroutine, EventLoop } from "@loop/core";
import type { StreamWriter } from "@loop/net";
import type { Lock, Queue } from "@loop/sync";
import type { VirtualPoller } from "@loop/testing";
import type { WorkerPoolExecutor } from "@loop/workers";

declare global {
  // The running loop and objects an example talks about.
  var loop: EventLoop;
  var lock: Lock;
  var queue: Queue<any> & { length: number };
  var cond: any;
  var writer: StreamWriter;
  var poller: VirtualPoller;
  var pool: WorkerPoolExecutor;
  var client: any;
  var worker: any;
  var http: typeof import("node:http");
  var fs: typeof import("node:fs");
  var requestId: import("@loop/core").ContextVar<string>;
  var user: import("@loop/core").ContextVar<string>;
  var task: import("@loop/core").Task<unknown>;
  var future: import("@loop/core").Future<unknown>;
  var a: import("@loop/core").Future<unknown>;
  var b: import("@loop/core").Future<unknown>;
  // Data.
  var data: Uint8Array;
  var file: string;
  var files: string[];
  var items: any[];
  var reader: import("@loop/net").StreamReader;
  var stream: import("@loop/core").Stream<any>;
  var jobs: Queue<any>;
  var urls: string[];
  var path: string;
  var socket: any;
  var button: any;
  var fd: number;
  var stopping: import("@loop/sync").Event;
  var stack: import("@loop/core").ExitStack;
  var textLines: string[];
  var group: import("@loop/core").ExceptionGroup;
  var readline: typeof import("node:readline");
  var connect: (...args: any[]) => Coroutine<any>;
  var handleJob: (job: any) => Coroutine<void>;
  var afterEach: (fn: () => unknown) => void;
  var MyProtocol: new () => import("@loop/core").Protocol;
  var url: string;
  var id: number;
  var pipeFds: [number, number];
  var x: any;
  var imageModule: URL;
  var hashModule: URL;
  // Helpers: some work, as coroutines or plain functions.
  function fetchOne(name: string, ms: number): Coroutine<string>;
  function fetchPage(url: string): Coroutine<string>;
  function fetchUser(id: number): Coroutine<{ name: string }>;
  function fetchPosts(id: number): Coroutine<string[]>;
  function fetchA(): Coroutine<string>;
  function fetchB(): Coroutine<string>;
  function download(name: string): Coroutine<Uint8Array>;
  function handshake(): Coroutine<void>;
  function transfer(): Coroutine<void>;
  function stepOne(): Coroutine<void>;
  function stepTwo(): Coroutine<void>;
  function saveToDisk(data: Uint8Array): Coroutine<void>;
  function writeAll(file: string, data: Uint8Array): Coroutine<void>;
  function readCounter(): Coroutine<number>;
  function handle(job: unknown): Coroutine<void>;
  function main(): Coroutine<void>;
  function handler(...args: any[]): Coroutine<void>;
  function use(item: unknown): void;
  function log(message: unknown): void;
  function write(line: string): Coroutine<void>;
  function sha(data: Uint8Array | string): string;
  function pinoLogger(...args: any[]): any;
  class MyPoller extends VirtualPoller {}
}

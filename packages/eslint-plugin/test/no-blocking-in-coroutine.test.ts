import { noBlockingInCoroutine } from "../src/rules/no-blocking-in-coroutine.js";
import { imports, typedTester } from "./rule-tester.js";

typedTester().run("no-blocking-in-coroutine", noBlockingInCoroutine, {
  valid: [
    { code: `import { readFileSync } from "node:fs";\nconst config = readFileSync("x");\nvoid config;` },
    { code: `import * as fs from "node:fs";\nfunction load() { return fs.readFileSync("x"); }\nvoid load;` },
    { code: `${imports}import { promises } from "node:fs";\nfunction* main(): Coroutine<void> { yield* ensureFuture(promises.readFile("x")); }` },
    { code: `${imports}function* main(): Coroutine<void> { const end = Date.now() + 10; while (Date.now() < end) { yield; } }` },
    // Another module's *Sync function.
    { code: `${imports}declare const cache: { getSync(): number };\nfunction* main(): Coroutine<void> { cache.getSync(); yield; }` },
    { code: `${imports}import { parseSync } from "./parser.js";\nimport * as memfs from "memfs";\nfunction* main(): Coroutine<void> { parseSync(); memfs.readFileSync("x"); yield; }` },
    // A blocking module's asynchronous functions, by name or through the namespace.
    { code: `${imports}import fs, { readFile } from "node:fs";\nfunction* main(): Coroutine<void> { readFile("x", () => {}); fs.readFile("x", () => {}); yield; }` },
    // Atomics that do not wait; Atomics.wait outside a coroutine (a worker may block).
    { code: `${imports}const cell = new Int32Array(new SharedArrayBuffer(4));\nfunction* main(): Coroutine<void> { Atomics.notify(cell, 0); yield* ensureFuture(Atomics.waitAsync(cell, 0, 0).value); }\nAtomics.wait(cell, 0, 0);` },
    // A loop without a test ends by `break`; a loop on the clock outside any coroutine.
    { code: `${imports}function* main(): Coroutine<void> { const end = Date.now() + 10; for (;;) { if (Date.now() > end) break; } yield; }` },
    { code: `function spin(end: number): void { while (performance.now() < end) {} }\nvoid spin;` },
    // A loop whose test reads no clock (a date, not the time; another object's `now`).
    { code: `${imports}function* main(): Coroutine<void> { let i = 0; while (i < 10) i++; while (Date.parse("2026-01-01") < i) {} while (clock.now() < 5) {} yield; }\ndeclare const clock: { now(): number };` },
    // Waiting on something else than Atomics is not Atomics.wait (here a Condition's coroutine).
    { code: `${imports}declare const ready: { wait(): Coroutine<boolean> };\nfunction* main(): Coroutine<void> { yield* ready.wait(); }` },
  ],
  invalid: [
    { code: `${imports}import { readFileSync } from "node:fs";\nfunction* main(): Coroutine<void> { readFileSync("x"); yield; }`, errors: [{ messageId: "syncCall", data: { name: "readFileSync" } }] },
    { code: `${imports}import fs from "fs";\nfunction* main(): Coroutine<void> { fs.writeFileSync("x", "y"); yield; }`, errors: [{ messageId: "syncCall", data: { name: "fs.writeFileSync" } }] },
    { code: `${imports}import * as cp from "node:child_process";\nfunction* main(): Coroutine<void> { cp.execSync("ls"); yield; }`, errors: [{ messageId: "syncCall", data: { name: "cp.execSync" } }] },
    { code: `${imports}function* main(): Coroutine<void> { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); yield; }`, errors: [{ messageId: "atomicsWait" }] },
    { code: `${imports}function* main(): Coroutine<void> { const end = Date.now() + 10; while (Date.now() < end) {} yield; }`, errors: [{ messageId: "busyWait" }] },
    // Renamed on import, from zlib and crypto: the imported name says it blocks.
    { code: `${imports}import { gunzipSync as gunzip } from "zlib";\nimport { pbkdf2Sync } from "node:crypto";\nfunction* main(): Coroutine<void> { gunzip(Buffer.from("")); pbkdf2Sync("p", "s", 1, 32, "sha256"); yield; }`, errors: [{ messageId: "syncCall", data: { name: "gunzip" } }, { messageId: "syncCall", data: { name: "pbkdf2Sync" } }] },
    { code: `${imports}import { "readFileSync" as read } from "node:fs";\nfunction* main(): Coroutine<void> { read("x"); yield; }`, errors: [{ messageId: "syncCall", data: { name: "read" } }] },
    // Every kind of loop, on either clock.
    { code: `${imports}function* main(): Coroutine<void> { const end = performance.now() + 10; do {} while (performance.now() < end); for (; Date.now() < end; ) {} yield; }`, errors: [{ messageId: "busyWait" }, { messageId: "busyWait" }] },
  ],
});

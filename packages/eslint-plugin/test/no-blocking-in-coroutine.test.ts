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
  ],
  invalid: [
    { code: `${imports}import { readFileSync } from "node:fs";\nfunction* main(): Coroutine<void> { readFileSync("x"); yield; }`, errors: [{ messageId: "syncCall", data: { name: "readFileSync" } }] },
    { code: `${imports}import fs from "fs";\nfunction* main(): Coroutine<void> { fs.writeFileSync("x", "y"); yield; }`, errors: [{ messageId: "syncCall" }] },
    { code: `${imports}import * as cp from "node:child_process";\nfunction* main(): Coroutine<void> { cp.execSync("ls"); yield; }`, errors: [{ messageId: "syncCall" }] },
    { code: `${imports}function* main(): Coroutine<void> { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); yield; }`, errors: [{ messageId: "atomicsWait" }] },
    { code: `${imports}function* main(): Coroutine<void> { const end = Date.now() + 10; while (Date.now() < end) {} yield; }`, errors: [{ messageId: "busyWait" }] },
  ],
});

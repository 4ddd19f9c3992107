import { noPromiseInCoroutine } from "../src/rules/no-promise-in-coroutine.js";
import { imports, typedTester } from "./rule-tester.js";

typedTester().run("no-promise-in-coroutine", noPromiseInCoroutine, {
  valid: [
    { code: `${imports}function* main(): Coroutine<number> { return yield* ensureFuture(Promise.resolve(1)); }` },
    { code: `${imports}function* main(): Coroutine<void> { const p = fetch("http://127.0.0.1/"); yield* ensureFuture(p); }` },
    // Outside coroutines it is typescript-eslint's no-floating-promises' business.
    { code: `async function main(): Promise<void> { fetch("http://127.0.0.1/"); }` },
    // A Promise started in a callback inside a coroutine belongs to that callback.
    { code: `${imports}function* main(): Coroutine<void> { getRunningLoop().callSoon(() => { void Promise.resolve(1); }); yield; }` },
    // An operator on something that is not a Promise; a bare `return;`.
    { code: `${imports}function* main(): Coroutine<void> { !Number("1"); yield; return; }` },
    // A plain iterator.
    { code: `function* lazy() { yield 1; Promise.resolve(2); }` },
  ],
  invalid: [
    { code: `${imports}function* main(): Coroutine<void> { fetch("http://127.0.0.1/"); yield; }`, errors: [{ messageId: "floating" }] },
    { code: `${imports}function* main(): Coroutine<void> { void Promise.resolve(1); yield; }`, errors: [{ messageId: "floating" }] },
    { code: `${imports}function* main(): Coroutine<void> { !fetch("http://127.0.0.1/"); yield; }`, errors: [{ messageId: "floating" }] },
    { code: `${imports}function* main(): Coroutine<void> { new Promise<void>((resolve) => setTimeout(resolve, 10)); yield; }`, errors: [{ messageId: "floating" }] },
    { code: `${imports}function* main() { yield; return fetch("http://127.0.0.1/"); }`, errors: [{ messageId: "returned" }] },
    // A declared result that can hold a Promise is still checked (only primitives and Futures are skipped untyped).
    { code: `${imports}function* main(): Coroutine<Promise<Response> | undefined> { yield; return fetch("http://127.0.0.1/"); }`, errors: [{ messageId: "returned" }] },
    // Syntax says "not a Promise" only where the type would: an object literal with a `then`, an asserted literal.
    { code: `${imports}function* main() { yield; return { then(resolve: (v: number) => void) { resolve(1); } }; }`, errors: [{ messageId: "returned" }] },
    { code: `${imports}function* main() { yield; return [] as unknown as Promise<number>; }`, errors: [{ messageId: "returned" }] },
    { code: `${imports}function* main<T>(make: () => T): Coroutine<T> { yield; return make(); }\nfunction* outer(): Coroutine<unknown> { yield; return Promise.resolve(1); }`, errors: [{ messageId: "returned" }] },
    // Promises from declarations that say so only through inference or an alias.
    { code: `${imports}const api = { load() { return fetch("http://127.0.0.1/"); } };\nfunction* main(): Coroutine<void> { api.load(); yield; }`, errors: [{ messageId: "floating" }] },
    { code: `${imports}type Load = () => Promise<void>;\ndeclare const store: { load: Load };\nfunction* main(): Coroutine<void> { store.load(); yield; }`, errors: [{ messageId: "floating" }] },
    { code: `${imports}class Client { async close(): Promise<void> {} }\nfunction* main(): Coroutine<void> { new Client().close(); yield; }`, errors: [{ messageId: "floating" }] },
  ],
});

import { noFloatingCoroutine } from "../src/rules/no-floating-coroutine.js";
import { imports, typedTester } from "./rule-tester.js";

const coro = `${imports}function* fetchOne(): Coroutine<string> { yield; return "x"; }\n`;

typedTester().run("no-floating-coroutine", noFloatingCoroutine, {
  valid: [
    { code: `${coro}function* main(): Coroutine<void> { yield* fetchOne(); }` },
    { code: `${coro}function* main(): Coroutine<string> { return yield* fetchOne(); }` },
    { code: `${coro}function start() { return fetchOne(); }` },
    { code: `${coro}function* main(): Coroutine<void> { const t = createTask(fetchOne()); yield* t; }` },
    { code: `${coro}function* main(): Coroutine<void> { yield* taskGroup(function* (tg) { tg.createTask(fetchOne()); }); }` },
    { code: `${coro}await run(fetchOne());` },
    { code: `${coro}function* main(): Coroutine<void> { const c = fetchOne(); yield* c; }` },
    { code: `${coro}const list = [fetchOne(), fetchOne()];` },
    // A plain call of something that is not a coroutine.
    { code: `${coro}function plain(): number { return 1; } plain();` },
    // A Future that is kept.
    { code: `${coro}function* main(): Coroutine<void> { const f = getRunningLoop().createFuture<number>(); f.setResult(1); yield* f; }` },
  ],
  invalid: [
    { code: `${coro}function* main(): Coroutine<void> { fetchOne(); }`, errors: [{ messageId: "floating" }] },
    { code: `${coro}function main(): void { fetchOne(); }`, errors: [{ messageId: "floating" }] },
    { code: `${coro}void fetchOne();`, errors: [{ messageId: "floating" }] },
    { code: `${coro}function* main(): Coroutine<void> { const r = fetchOne(); }`, errors: [{ messageId: "neverUsed", data: { name: "r" } }] },
    { code: `${coro}async function main(): Promise<void> { await fetchOne(); }`, errors: [{ messageId: "awaited" }] },
    { code: `${coro}async function main(): Promise<string> { const s = await fetchOne(); return String(s); }`, errors: [{ messageId: "awaited" }] },
    { code: `${coro}declare const ok: boolean; function* main(): Coroutine<void> { ok ? fetchOne() : undefined; }`, errors: [{ messageId: "floating" }] },
    { code: `${coro}function* main(): Coroutine<void> { getRunningLoop().createFuture<number>(); }`, errors: [{ messageId: "floatingFuture" }] },
  ],
});

typedTester().run("no-floating-coroutine (allowForKnownSafeCalls)", noFloatingCoroutine, {
  valid: [
    // Assertion chains are skipped without typing them.
    { code: `${coro}declare function expect(x: unknown): { toBe(y: unknown): void };\nexpect(1).toBe(1);` },
  ],
  invalid: [
    // Naming no safe calls checks everything.
    {
      code: `${coro}declare const console: { log(x: unknown): ReturnType<typeof fetchOne> };\nconsole.log(1);`,
      options: [{ allowForKnownSafeCalls: [] }],
      errors: [{ messageId: "floating" }],
    },
  ],
});

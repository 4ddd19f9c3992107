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

// A call is typed only when a declaration its callee can reach may give a coroutine: these
// pin that every kind of declaration is read, so that nothing is skipped that is one.
typedTester().run("no-floating-coroutine (callees read from their declarations)", noFloatingCoroutine, {
  valid: [
    { code: `${coro}const log: string[] = [];\nfunction* main(): Coroutine<void> { log.push("x"); new Map<string, number>().set("a", 1); yield; }` },
    { code: `${coro}class Emitter { on(_event: string): this { return this; } }\nnew Emitter().on("x").on("y");` },
    // Inferred results whose syntax rules out a coroutine: an object, an array, a sum.
    { code: `${coro}const api = { stats() { return { n: 1 }; }, list() { return [fetchOne()]; }, size(a: number) { return a + 1; } };\napi.stats(); api.list(); api.size(1);` },
  ],
  invalid: [
    // The same member name declared elsewhere as something else.
    {
      code: `${coro}class Plain { run(): number { return 1; } }\nclass Job { *run(): Coroutine<void> { yield; } }\ndeclare const job: Job;\nnew Plain().run();\njob.run();`,
      errors: [{ messageId: "floating", line: 7 }],
    },
    // A property whose type is an alias of a coroutine function.
    { code: `${coro}type Step = () => Coroutine<void>;\ninterface Plan { step: Step }\ndeclare const plan: Plan;\nplan.step();`, errors: [{ messageId: "floating" }] },
    // A method without a declared return type, returning a coroutine.
    { code: `${coro}const api = { load() { return fetchOne(); } };\napi.load();`, errors: [{ messageId: "floating" }] },
    // One return whose syntax cannot rule it out is enough to infer the result.
    { code: `${coro}const api = { pick(ok: boolean) { if (ok) return [1]; return ok ? { n: 1 } : fetchOne(); } };\napi.pick(true);`, errors: [{ messageId: "floating" }] },
    { code: `${coro}declare let c: ReturnType<typeof fetchOne>;\nconst api = { swap() { return (c = fetchOne()); } };\napi.swap();`, errors: [{ messageId: "floating" }] },
    // An expando member and a function-typed variable.
    { code: `${coro}function tools(): void {}\ntools.go = function* () { yield; };\ntools.go();`, errors: [{ messageId: "floating" }] },
    { code: `${coro}const make: () => ReturnType<typeof fetchOne> = fetchOne;\nmake();`, errors: [{ messageId: "floating" }] },
    // Reached only through an index signature: no declaration named \`save\`.
    { code: `${coro}declare const steps: Record<string, () => Coroutine<void>>;\nsteps.save();`, errors: [{ messageId: "floating" }] },
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

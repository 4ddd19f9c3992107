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
    // Declared and assigned later; destructured (which iterates the generator, driving it).
    { code: `${coro}function* main(): Coroutine<void> { let c; c = fetchOne(); yield* c; }` },
    { code: `${coro}function* main(): Coroutine<void> { const [first] = fetchOne(); yield; }` },
    // A directive is a statement too, of a string.
    { code: `"use strict";\n${coro}` },
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
    { code: `${coro}import { Future } from "@loop/core";\nfunction* main(): Coroutine<void> { new Future<number>(); yield; }`, errors: [{ messageId: "floatingFuture" }] },
    // Dropped through \`&&\`, a comma, or any unary operator.
    {
      code: `${coro}declare const ok: boolean; function* main(): Coroutine<void> { ok && fetchOne(); (yield, fetchOne()); !fetchOne(); }`,
      errors: [{ messageId: "floating" }, { messageId: "floating" }, { messageId: "floating" }],
    },
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
    // Each default safe name, through calls, members and \`new\`: skipped untyped, whatever they return.
    {
      code: `${coro}type C = () => Coroutine<void>;\ndeclare const expect: C, describe: C, it: C, test: C, suite: C, beforeEach: C, afterEach: C, beforeAll: C, afterAll: C;\ndeclare const vi: { Mock: new () => { run: C } };\ndeclare const console: { log: C };\nexpect(); describe(); it(); test(); suite(); beforeEach(); afterEach(); beforeAll(); afterAll(); new vi.Mock().run(); console.log();`,
    },
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

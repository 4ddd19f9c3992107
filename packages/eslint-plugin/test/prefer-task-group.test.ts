import { preferTaskGroup } from "../src/rules/prefer-task-group.js";
import { imports, typedTester } from "./rule-tester.js";

const coro = `${imports}function* work(): Coroutine<void> { yield; }\n`;
/** A case linted without type information: the rule then guesses a loop from its name. */
const untyped = { languageOptions: { parserOptions: { project: false } } } as const;

typedTester().run("prefer-task-group", preferTaskGroup, {
  valid: [
    { code: `${coro}function* main(): Coroutine<void> { const t = createTask(work()); yield* t; }` },
    { code: `${coro}function* main(): Coroutine<void> { const t = createTask(work()); t.cancel(); yield; }` },
    { code: `${coro}const tasks = new Set();\nfunction* main(): Coroutine<void> { tasks.add(createTask(work())); yield; }` },
    { code: `${coro}function* main(): Coroutine<void> { yield* taskGroup(function* (tg) { tg.createTask(work()); }); }` },
    // Neither a name nor a method called `createTask`: a call of a call, and a private method.
    { code: `${coro}declare function starter(): (c: Coroutine<void>) => void;\nfunction* main(): Coroutine<void> { starter()(work()); yield; }` },
    { code: `${coro}class Pool { #createTask(c: Coroutine<void>): void {}\n  *start(): Coroutine<void> { this.#createTask(work()); yield; } }` },
    // Declared first, assigned later: the assignment is not a statement that drops the task.
    { code: `${coro}function* main(): Coroutine<void> { let t; t = createTask(work()); yield* t; }` },
    // Destructured: the rule cannot follow the parts, so it leaves them alone.
    { code: `${coro}function* main(): Coroutine<void> { const { cancel } = createTask(work()); yield; }` },
    // Without types, a group is anything not named like a loop nor got from a call.
    { code: `${coro}function* main(): Coroutine<void> { yield* taskGroup(function* (tg) { tg.createTask(work()); }); }`, ...untyped },
    { code: `${coro}declare const state: { group: { createTask(c: unknown): void } };\nfunction* main(): Coroutine<void> { state.group.createTask(work()); yield; }`, ...untyped },
  ],
  invalid: [
    { code: `${coro}function* main(): Coroutine<void> { createTask(work()); yield; }`, errors: [{ messageId: "orphan" }] },
    { code: `${coro}function* main(): Coroutine<void> { getRunningLoop().createTask(work()); yield; }`, errors: [{ messageId: "orphan" }] },
    { code: `${coro}function* main(): Coroutine<void> { const t = createTask(work()); yield; }`, errors: [{ messageId: "orphan" }] },
    // With types, the receiver's type decides, whatever its name: a loop is not a TaskGroup...
    { code: `${coro}function* main(): Coroutine<void> { const current = getRunningLoop(); current.createTask(work()); yield; }`, errors: [{ messageId: "orphan" }] },
    // ...and neither is a receiver whose type says nothing.
    { code: `${coro}declare const anything: any;\nfunction* main(): Coroutine<void> { anything.createTask(work()); yield; }`, errors: [{ messageId: "orphan" }] },
    // Without types: a receiver named like a loop, or got from a call (`getRunningLoop()`).
    { code: `${coro}declare const loop: ReturnType<typeof getRunningLoop>;\nfunction* main(): Coroutine<void> { loop.createTask(work()); yield; }`, errors: [{ messageId: "orphan" }], ...untyped },
    { code: `${coro}function* main(): Coroutine<void> { getRunningLoop().createTask(work()); yield; }`, errors: [{ messageId: "orphan" }], ...untyped },
  ],
});

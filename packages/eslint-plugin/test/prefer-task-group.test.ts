import { preferTaskGroup } from "../src/rules/prefer-task-group.js";
import { imports, typedTester } from "./rule-tester.js";

const coro = `${imports}function* work(): Coroutine<void> { yield; }\n`;

typedTester().run("prefer-task-group", preferTaskGroup, {
  valid: [
    { code: `${coro}function* main(): Coroutine<void> { const t = createTask(work()); yield* t; }` },
    { code: `${coro}function* main(): Coroutine<void> { const t = createTask(work()); t.cancel(); yield; }` },
    { code: `${coro}const tasks = new Set();\nfunction* main(): Coroutine<void> { tasks.add(createTask(work())); yield; }` },
    { code: `${coro}function* main(): Coroutine<void> { yield* taskGroup(function* (tg) { tg.createTask(work()); }); }` },
  ],
  invalid: [
    { code: `${coro}function* main(): Coroutine<void> { createTask(work()); yield; }`, errors: [{ messageId: "orphan" }] },
    { code: `${coro}function* main(): Coroutine<void> { getRunningLoop().createTask(work()); yield; }`, errors: [{ messageId: "orphan" }] },
    { code: `${coro}function* main(): Coroutine<void> { const t = createTask(work()); yield; }`, errors: [{ messageId: "orphan" }] },
  ],
});

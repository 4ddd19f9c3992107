import { noYieldWithoutStar } from "../src/rules/no-yield-without-star.js";
import { imports, typedTester } from "./rule-tester.js";

const coro = `${imports}function* fetchOne(): Coroutine<string> { yield; return "x"; }\n`;

typedTester().run("no-yield-without-star", noYieldWithoutStar, {
  valid: [
    { code: `${coro}function* main(): Coroutine<void> { yield* fetchOne(); }` },
    { code: `${coro}function* main(): Coroutine<void> { yield; }` },
    { code: `${coro}function* main(): Coroutine<void> { yield undefined; }` },
    // A plain iterator may yield numbers, and Promises (a lazy list of them).
    { code: `function* range(n: number) { for (let i = 0; i < n; i++) yield i; }` },
    { code: `function* promises(): Generator<Promise<number>> { yield Promise.resolve(1); }` },
    // An iterator of Tasks, declared as one.
    { code: `${coro}import type { Task } from "@loop/core";\ndeclare const tasks: Task<unknown>[];\nfunction* each(): Generator<Task<unknown>, void, undefined> { for (const t of tasks) yield t; }` },
    { code: `${coro}function* main(): Coroutine<number> { return yield* ensureFuture(Promise.resolve(1)); }` },
    // Inferred an iterator: it yields only Promises, nothing a coroutine yields.
    { code: `function* lazy() { yield Promise.resolve(1); yield Promise.resolve(2); }` },
    // An async generator is no coroutine (no-await-in-coroutine's business): its yields are values.
    { code: `${coro}async function* pages() { yield fetchOne(); yield fetch("http://127.0.0.1/"); }` },
    // Without type information the rule cannot tell a coroutine from a value, and stays silent.
    { code: `${coro}function* main(): Coroutine<void> { yield fetchOne(); }`, languageOptions: { parserOptions: { project: false } } },
  ],
  invalid: [
    {
      code: `${coro}function* main(): Coroutine<void> { yield fetchOne(); }`,
      output: `${coro}function* main(): Coroutine<void> { yield* fetchOne(); }`,
      errors: [{ messageId: "coroutine" }],
    },
    {
      code: `${coro}function* main(): Coroutine<void> { const t = createTask(fetchOne()); yield t; }`,
      output: `${coro}function* main(): Coroutine<void> { const t = createTask(fetchOne()); yield* t; }`,
      errors: [{ messageId: "future" }],
    },
    {
      code: `${coro}function* main(): Coroutine<void> { yield (fetchOne()); }`,
      output: `${coro}function* main(): Coroutine<void> { yield* (fetchOne()); }`,
      errors: [{ messageId: "coroutine" }],
    },
    {
      // ensureFuture is imported: a fix.
      code: `${coro}function* main(): Coroutine<void> { yield Promise.resolve(1); }`,
      output: `${coro}function* main(): Coroutine<void> { yield* ensureFuture(Promise.resolve(1)); }`,
      errors: [{ messageId: "promise" }],
    },
    {
      // ensureFuture is not imported: only a suggestion.
      code: `import type { Coroutine } from "@loop/core";\nfunction* main(): Coroutine<void> { yield fetch("http://127.0.0.1/"); }`,
      output: null,
      errors: [
        {
          messageId: "promise",
          suggestions: [
            {
              messageId: "wrapInEnsureFuture",
              output: `import type { Coroutine } from "@loop/core";\nfunction* main(): Coroutine<void> { yield* ensureFuture(fetch("http://127.0.0.1/")); }`,
            },
          ],
        },
      ],
    },
  ],
});

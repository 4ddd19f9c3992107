import { noAwaitInCoroutine } from "../src/rules/no-await-in-coroutine.js";
import { imports, typedTester } from "./rule-tester.js";

typedTester().run("no-await-in-coroutine", noAwaitInCoroutine, {
  valid: [
    { code: `${imports}function* main(): Coroutine<void> { yield; }\nawait run(main);` },
    // An async generator used as an async iterable is fine.
    { code: `async function* lines() { yield "a"; }\nfor await (const l of lines()) console.log(l);` },
    // ...also when it is handed to something that is not @loop's.
    { code: `async function* lines() { yield "a"; }\ndeclare function collect(items: AsyncIterable<string>): Promise<string[]>;\nawait collect(lines());` },
    // An async iterator that runs the coroutine it is given: passing its parameter to `run` is not passing itself.
    { code: `${imports}async function* pump(body: () => Coroutine<void>) { await run(body); yield 1; }\nfor await (const x of pump(function* () { yield; })) console.log(x);` },
    // A generator function is no constructor: `new` of it throws and gives no coroutine.
    { code: `${imports}async function* worker() { await 1; }\ncreateTask(new (worker as any)());` },
  ],
  invalid: [
    { code: `${imports}await run(async function* () { await Promise.resolve(1); } as never);`, errors: [{ messageId: "asyncCoroutine" }] },
    { code: `${imports}async function* worker() { await Promise.resolve(1); }\ncreateTask(worker() as never);`, errors: [{ messageId: "asyncCoroutine" }] },
    { code: `${imports}const f = async function* (): Coroutine<void> { await 1; };`, errors: [{ messageId: "asyncCoroutine" }] },
    // Each of @loop's coroutine takers, through each kind of type assertion.
    { code: `${imports}async function* worker() { await 1; }\nensureFuture(worker()!);`, errors: [{ messageId: "asyncCoroutine" }] },
    { code: `import { runVirtual } from "@loop/testing";\nrunVirtual((async function* () { await 1; }) satisfies unknown as never);`, errors: [{ messageId: "asyncCoroutine" }] },
    { code: `${imports}async function* worker() { await 1; }\ncreateTask(<never>worker());`, errors: [{ messageId: "asyncCoroutine" }] },
    // A named function expression that starts itself again by name is a coroutine too.
    { code: `${imports}const again = async function* retry(): AsyncGenerator<void> { await 1; createTask(retry() as never); };`, errors: [{ messageId: "asyncCoroutine" }] },
  ],
});

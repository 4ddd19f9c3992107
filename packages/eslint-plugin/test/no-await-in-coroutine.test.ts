import { noAwaitInCoroutine } from "../src/rules/no-await-in-coroutine.js";
import { imports, typedTester } from "./rule-tester.js";

typedTester().run("no-await-in-coroutine", noAwaitInCoroutine, {
  valid: [
    { code: `${imports}function* main(): Coroutine<void> { yield; }\nawait run(main);` },
    // An async generator used as an async iterable is fine.
    { code: `async function* lines() { yield "a"; }\nfor await (const l of lines()) console.log(l);` },
  ],
  invalid: [
    { code: `${imports}await run(async function* () { await Promise.resolve(1); } as never);`, errors: [{ messageId: "asyncCoroutine" }] },
    { code: `${imports}async function* worker() { await Promise.resolve(1); }\ncreateTask(worker() as never);`, errors: [{ messageId: "asyncCoroutine" }] },
    { code: `${imports}const f = async function* (): Coroutine<void> { await 1; };`, errors: [{ messageId: "asyncCoroutine" }] },
  ],
});

import { noSwallowedCancel } from "../src/rules/no-swallowed-cancel.js";
import { imports, typedTester } from "./rule-tester.js";

const body = `${imports}declare function step(): Coroutine<void>;\nclass MyError extends Error {}\n`;

typedTester().run("no-swallowed-cancel", noSwallowedCancel, {
  valid: [
    { code: `${body}function* main(): Coroutine<void> { try { yield* step(); } catch (e) { if (!(e instanceof MyError)) throw e; } }` },
    { code: `${body}function* main(): Coroutine<void> { try { yield* step(); } catch (e) { if (e instanceof CancelledError) throw e; console.log(e); } }` },
    { code: `${body}function* main(): Coroutine<void> { try { yield* step(); } finally { console.log("cleanup"); } }` },
    { code: `${body}function* main(): Coroutine<void> { try { yield* step(); } catch (e) { console.log(e); throw e; } }` },
    // Taking the cancellation back on purpose.
    { code: `${body}import { currentTask } from "@loop/core";\nfunction* main(): Coroutine<void> { try { yield* step(); } catch (e) { currentTask()?.uncancel(); } }` },
    // No suspension in the try: CancelledError cannot arrive there.
    { code: `${body}function* main(): Coroutine<void> { try { JSON.parse("x"); } catch { } yield; }` },
    // The suspension is in a nested function.
    { code: `${body}function* main(): Coroutine<void> { try { const f = function* () { yield; }; void f; } catch { } yield; }` },
    // A plain iterator.
    { code: `function* it() { try { yield 1; } catch { } }` },
    // Kept for later, as asyncio's TaskGroup keeps the body's error and raises it at exit.
    { code: `${body}function* main(): Coroutine<void> { let failure: unknown; try { yield* step(); } catch (e) { failure = e; } if (failure) throw failure; }` },
    { code: `${body}function* main(): Coroutine<unknown> { try { yield* step(); } catch (e) { return e; } return null; }` },
    { code: `${body}declare function report(e: unknown): void;\nfunction* main(): Coroutine<void> { try { yield* step(); } catch (e) { report(e); } }` },
    // A test that asserts on the cancellation it catches.
    { code: `${body}declare function expect(x: unknown): { toBeInstanceOf(c: unknown): void };\nfunction* main(): Coroutine<void> { try { yield* step(); } catch (e) { expect(e).toBeInstanceOf(CancelledError); } }` },
    { code: `${body}function* main(): Coroutine<string> { try { yield* step(); } catch (e) { return (e as Error).message; } return ""; }` },
    { code: `${body}function* main(): Coroutine<void> { const got: unknown[] = []; try { yield* step(); } catch (e) { got.push(e instanceof MyError ? "mine" : e); } }` },
    // Converted into another error: a decision (timeout() turns CancelledError into TimeoutError).
    { code: `${body}function* main(): Coroutine<void> { try { yield; } catch (e) { throw new MyError(String(e)); } }` },
    // A bare catch that converts, or takes the cancellation back.
    { code: `${body}function* main(): Coroutine<void> { try { yield; } catch { throw new MyError("step failed"); } }` },
    { code: `${body}import { currentTask } from "@loop/core";\nfunction* main(): Coroutine<void> { try { yield; } catch { currentTask()?.uncancel(); } }` },
    // Destructured: the author looked inside on purpose.
    { code: `${body}function* main(): Coroutine<void> { try { yield* step(); } catch ({ message }) { console.log(message); } }` },
    // Names CancelledError: it has been thought about.
    { code: `${body}function* main(): Coroutine<void> { try { yield* step(); } catch (e) { console.log(String(e), "is not a", CancelledError.name); } }` },
    // Kept through `!`, `??`, in an object, an array, a variable, a \`new\`, or checked for cancellation later.
    { code: `${body}function* main(): Coroutine<unknown> { try { yield* step(); } catch (e) { return e!; } return null; }` },
    { code: `${body}declare let failure: unknown;\nfunction* main(): Coroutine<void> { try { yield* step(); } catch (e) { failure = e ?? new MyError(); } }` },
    { code: `${body}declare const log: unknown[];\nfunction* main(): Coroutine<void> { try { yield* step(); } catch (e) { log.push({ error: e }); } }` },
    { code: `${body}declare const log: unknown[][];\nfunction* main(): Coroutine<void> { try { yield* step(); } catch (e) { log.push([e]); } }` },
    { code: `${body}declare function later(f: () => unknown): void;\nfunction* main(): Coroutine<void> { try { yield* step(); } catch (e) { const saved = e; later(() => saved); } }` },
    { code: `${body}declare class Failure { constructor(cause: unknown); }\ndeclare const failures: Failure[];\nfunction* main(): Coroutine<void> { try { yield* step(); } catch (e) { failures.push(new Failure(e)); } }` },
    { code: `${body}declare function later(f: () => boolean): void;\nfunction* main(): Coroutine<void> { try { yield* step(); } catch (e) { later(() => e instanceof CancelledError); } }` },
  ],
  invalid: [
    { code: `${body}function* main(): Coroutine<void> { try { yield* step(); } catch (e) { console.log(e); } }`, errors: [{ messageId: "swallowed", data: { name: "e" } }] },
    { code: `${body}function* main(): Coroutine<void> { try { yield* step(); } catch { } }`, errors: [{ messageId: "bareCatch" }] },
    { code: `${body}function* main(): Coroutine<void> { try { yield* step(); } catch (e) { console.error("failed", e); } }`, errors: [{ messageId: "swallowed" }] },
    { code: `${body}function* main(): Coroutine<string> { try { yield* step(); } catch (e) { const text = \`failed: \${String(e)}\`; console.log(text); } return ""; }`, errors: [{ messageId: "swallowed" }] },
    { code: `${body}function* main(): Coroutine<void> { try { yield* step(); } catch (e) { void e; } }`, errors: [{ messageId: "swallowed" }] },
    // Used, not kept: a test of it, a key, a method called on it, overwritten, checked for another class.
    { code: `${body}function* main(): Coroutine<string> { try { yield* step(); } catch (e) { return e ? "failed" : "ok"; } return ""; }`, errors: [{ messageId: "swallowed" }] },
    { code: `${body}declare const labels: Record<string, string>;\nfunction* main(): Coroutine<string> { try { yield* step(); } catch (e) { return labels[e as string]!; } return ""; }`, errors: [{ messageId: "swallowed" }] },
    { code: `${body}function* main(): Coroutine<void> { try { yield* step(); } catch (e) { console.log(e.toString()); } }`, errors: [{ messageId: "swallowed" }] },
    { code: `${body}function* main(): Coroutine<void> { try { yield* step(); } catch (e) { e = undefined; } }`, errors: [{ messageId: "swallowed" }] },
    { code: `${body}declare function later(f: () => boolean): void;\nfunction* main(): Coroutine<void> { try { yield* step(); } catch (e) { later(() => e instanceof MyError); } }`, errors: [{ messageId: "swallowed" }] },
  ],
});

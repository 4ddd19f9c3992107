import type { TSESLint, TSESTree } from "@typescript-eslint/utils";
import { createRule, declaresCoroutine, enclosingFunction, isCoroutineFunction, isFutureType, isGeneratorType, isPromiseType, typeOf, typeServices } from "../util.js";

type MessageId = "coroutine" | "future" | "promise" | "wrapInEnsureFuture";

/**
 * `yield x` hands `x` to the loop, which accepts only a Future or nothing: a yielded
 * coroutine, Task or Promise is a bad yield, thrown back into the coroutine as a TypeError
 * at run time. `yield*` is `await`.
 */
export const noYieldWithoutStar = createRule<[], MessageId>({
  name: "no-yield-without-star",
  meta: {
    type: "problem",
    docs: { description: "Require `yield*` (not `yield`) for coroutines, Futures and Tasks, and `yield* ensureFuture(…)` for Promises" },
    fixable: "code",
    hasSuggestions: true,
    messages: {
      coroutine: "`yield` of a coroutine hands the generator object to the loop, which throws a TypeError back: write `yield*` to run it and get its result.",
      future: "Write `yield*` to wait for this Future or Task: `yield` gives no result back, and a Task is a bad yield when it is not a plain Future.",
      promise: "`yield` of a Promise is a bad yield (a TypeError at run time): adopt it with `yield* ensureFuture(…)`, or better `yield* call((signal) => …)` so that cancellation reaches it.",
      wrapInEnsureFuture: "Replace with `yield* ensureFuture(…)`.",
    },
    schema: [],
  },
  create(context) {
    const services = typeServices(context);
    const sourceCode = context.sourceCode;

    function starFix(node: TSESTree.YieldExpression): TSESLint.ReportFixFunction {
      return (fixer) => {
        const keyword = sourceCode.getFirstToken(node);
        return fixer.insertTextAfter(keyword as TSESTree.Token, "*");
      };
    }

    return {
      YieldExpression(node) {
        if (node.delegate || services === null) return;
        // Stryker disable next-line ConditionalExpression: `yield;` has no value to type (the checker would give its error type, none of the three below)
        if (node.argument === null) return;
        const fn = enclosingFunction(node);
        // Stryker disable next-line ConditionalExpression: a yield is always inside its generator; the check is for the type
        if (fn === null) return;
        // An async generator's `yield` awaits a Promise itself, and is no coroutine.
        if (fn.async) return;
        // A generator declared as an iterator (`Generator<Task<unknown>>`) yields values on purpose.
        if (fn.returnType !== undefined && !declaresCoroutine(fn)) return;
        const type = typeOf(services, node.argument);
        if (isFutureType(type)) {
          context.report({ node, messageId: "future", fix: starFix(node) });
          return;
        }
        if (isGeneratorType(type)) {
          context.report({ node, messageId: "coroutine", fix: starFix(node) });
          return;
        }
        // A plain iterator may yield Promises on purpose (a lazy list of them); a coroutine may not.
        if (isPromiseType(services.program.getTypeChecker(), type) && isCoroutineFunction(fn, services)) {
          const argument = node.argument;
          const scope = sourceCode.getScope(node);
          let inScope = false;
          for (let s: typeof scope | null = scope; s !== null; s = s.upper) {
            if (s.set.has("ensureFuture")) {
              inScope = true;
              break;
            }
          }
          const replace: TSESLint.ReportFixFunction = (fixer) => fixer.replaceText(node, `yield* ensureFuture(${sourceCode.getText(argument)})`);
          context.report({
            node,
            messageId: "promise",
            // Only a fix when ensureFuture is already imported; otherwise a suggestion.
            ...(inScope ? { fix: replace } : { suggest: [{ messageId: "wrapInEnsureFuture", fix: replace }] }),
          });
        }
      },
    };
  },
});

import { AST_NODE_TYPES, ESLintUtils, type TSESTree } from "@typescript-eslint/utils";
import { callMayReturn, cannotBeThenable, createRule, declaredReturnMayBeThenable, enclosingCoroutine, enclosingGenerator, isPromiseType, typeOf, unwrap } from "../util.js";

type MessageId = "floating" | "returned";

/**
 * A Promise started inside a coroutine and not adopted runs unowned: the task does not
 * wait for it, cannot cancel it, and never hears of its failure. `call((signal) => …)`
 * waits for it and aborts it when the task is cancelled; `ensureFuture` at least waits.
 */
export const noPromiseInCoroutine = createRule<[], MessageId>({
  name: "no-promise-in-coroutine",
  meta: {
    type: "problem",
    docs: { description: "Disallow Promises in a coroutine that are neither adopted with `call`/`ensureFuture` nor kept" },
    messages: {
      floating:
        "This Promise runs unowned: the coroutine does not wait for it, cannot cancel it and never sees its error. Use `yield* call((signal) => …)` (cancellable) or `yield* ensureFuture(…)`.",
      returned: "A coroutine that returns a Promise hands its caller an unresolved Promise as the result: `return yield* call(() => …)` waits for it inside the task.",
    },
    schema: [],
  },
  create(context) {
    const services = ESLintUtils.getParserServices(context);
    const checker = services.program.getTypeChecker();

    function isPromise(node: TSESTree.Expression): boolean {
      return isPromiseType(checker, typeOf(services, node));
    }

    // Each check below is a conjunction, asked cheapest first: the syntax of the enclosing
    // function, then the type of the expression, and last whether that generator is a
    // coroutine (which, for one without a declared return type, infers it from its body).
    return {
      ExpressionStatement(node) {
        let expression = unwrap(node.expression);
        // `void p()`, `!p()`: an operator whose result is dropped drops the Promise with it.
        if (expression.type === AST_NODE_TYPES.UnaryExpression) expression = unwrap(expression.argument);
        if (expression.type !== AST_NODE_TYPES.CallExpression && expression.type !== AST_NODE_TYPES.NewExpression) return;
        // Stryker disable next-line ConditionalExpression: a shortcut; enclosingCoroutine below is null for every such function too
        if (enclosingGenerator(node) === null) return;
        // Stryker disable next-line ConditionalExpression,BooleanLiteral: a shortcut before typing the call; isPromise below decides alike
        if (!callMayReturn(services, expression, "promise")) return;
        if (!isPromise(expression)) return;
        if (enclosingCoroutine(node, services) !== null) context.report({ node, messageId: "floating" });
      },
      ReturnStatement(node: TSESTree.ReturnStatement) {
        if (node.argument === null) return;
        // Stryker disable next-line ConditionalExpression: a shortcut before typing the value; isPromise below decides alike
        if (cannotBeThenable(node.argument)) return;
        const generator = enclosingGenerator(node);
        if (generator === null) return;
        // Stryker disable next-line ConditionalExpression,BooleanLiteral: a shortcut before typing the value; isPromise below decides alike
        if (!declaredReturnMayBeThenable(generator, services)) return;
        if (!isPromise(node.argument)) return;
        if (enclosingCoroutine(node, services) !== null) context.report({ node, messageId: "returned" });
      },
    };
  },
});

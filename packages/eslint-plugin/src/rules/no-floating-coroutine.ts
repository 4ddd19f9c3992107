import { AST_NODE_TYPES, ESLintUtils, type TSESTree } from "@typescript-eslint/utils";
import { calleeName, createRule, isFutureType, isGeneratorType, typeOf, unwrap } from "../util.js";

type MessageId = "floating" | "awaited" | "neverUsed" | "floatingFuture";

/**
 * A coroutine that is called and then dropped does nothing and says nothing: a generator
 * object runs only when a task or a `yield*` drives it (asyncio at least warns "coroutine
 * was never awaited" at run time; JavaScript cannot). typescript-eslint's
 * `no-floating-promises` for generator coroutines.
 */
export const noFloatingCoroutine = createRule<[], MessageId>({
  name: "no-floating-coroutine",
  meta: {
    type: "problem",
    docs: { description: "Require every coroutine that is called to be driven: `yield*`-ed, returned, passed on, stored and used, or given to `createTask`/a task group" },
    messages: {
      floating: "This coroutine is called but never run: a generator does nothing until it is driven. `yield*` it, or start it with `createTask(…)`/`tg.createTask(…)`.",
      awaited: "`await` on a coroutine does not run it (a generator object is not a Promise). Run it on a loop: `await run(…)`, or `yield*` it inside a coroutine.",
      neverUsed: "This coroutine is stored in `{{name}}` and never used, so it never runs. `yield* {{name}}`, or start it with `createTask({{name}})`.",
      floatingFuture: "This Future is created and dropped: nothing can ever complete or await it. Keep it, or remove the call.",
    },
    schema: [],
  },
  defaultOptions: [],
  create(context) {
    const services = ESLintUtils.getParserServices(context);

    function isCoroutineValue(node: TSESTree.Expression): boolean {
      return isGeneratorType(typeOf(services, node));
    }

    function checkDiscarded(expression: TSESTree.Expression): void {
      const node = unwrap(expression);
      switch (node.type) {
        case AST_NODE_TYPES.ConditionalExpression:
          checkDiscarded(node.consequent);
          checkDiscarded(node.alternate);
          return;
        case AST_NODE_TYPES.LogicalExpression:
          checkDiscarded(node.right);
          return;
        case AST_NODE_TYPES.SequenceExpression:
          for (const e of node.expressions) checkDiscarded(e);
          return;
        case AST_NODE_TYPES.UnaryExpression:
          if (node.operator === "void") checkDiscarded(node.argument);
          return;
        case AST_NODE_TYPES.AwaitExpression:
          if (isCoroutineValue(node.argument)) context.report({ node, messageId: "awaited" });
          return;
        case AST_NODE_TYPES.CallExpression:
        case AST_NODE_TYPES.NewExpression:
          if (isCoroutineValue(node)) {
            context.report({ node, messageId: "floating" });
          } else if ((calleeName(node) === "createFuture" || calleeName(node) === "Future") && isFutureType(typeOf(services, node))) {
            context.report({ node, messageId: "floatingFuture" });
          }
          return;
        default:
          return;
      }
    }

    return {
      ExpressionStatement(node) {
        if (node.directive !== undefined) return;
        checkDiscarded(node.expression);
      },
      AwaitExpression(node) {
        // `x = await coro()` and friends; the statement form is reported above.
        if (node.parent.type === AST_NODE_TYPES.ExpressionStatement) return;
        if (isCoroutineValue(node.argument)) context.report({ node, messageId: "awaited" });
      },
      VariableDeclarator(node) {
        if (node.init === null || node.id.type !== AST_NODE_TYPES.Identifier) return;
        const init = unwrap(node.init);
        if (init.type !== AST_NODE_TYPES.CallExpression && init.type !== AST_NODE_TYPES.NewExpression) return;
        if (!isCoroutineValue(init)) return;
        const [variable] = context.sourceCode.getDeclaredVariables(node);
        if (variable === undefined) return;
        if (variable.references.some((ref) => ref.isRead())) return;
        context.report({ node, messageId: "neverUsed", data: { name: node.id.name } });
      },
    };
  },
});

import { AST_NODE_TYPES, type TSESTree } from "@typescript-eslint/utils";
import { createRule, typeOf, typeServices, unwrap } from "../util.js";

type MessageId = "orphan";

/**
 * A task started with `createTask` and then forgotten has no owner: nobody waits for it,
 * its error surfaces only when it is garbage-collected, and it can outlive the code that
 * started it. A task group owns its children: they finish (or are cancelled) before the
 * group's scope ends, and their errors reach the caller (trio's nurseries, asyncio's
 * TaskGroup, flake8-async's structured-concurrency advice).
 */
export const preferTaskGroup = createRule<[], MessageId>({
  name: "prefer-task-group",
  meta: {
    type: "suggestion",
    docs: { description: "Prefer a task group to a `createTask` whose task is never awaited, cancelled or kept" },
    messages: {
      orphan:
        "This task has no owner: nothing awaits it, cancels it or keeps it. Start it in a task group (`yield* taskGroup(function* (tg) { tg.createTask(…); })`) so that it ends with its scope and its error is not lost.",
    },
    schema: [],
  },
  create(context) {
    const services = typeServices(context);

    /** `createTask(…)` or `loop.createTask(…)`, but not `tg.createTask(…)` on a TaskGroup. */
    function isLooseCreateTask(node: TSESTree.Expression): node is TSESTree.CallExpression {
      if (node.type !== AST_NODE_TYPES.CallExpression) return false;
      const callee = node.callee;
      if (callee.type === AST_NODE_TYPES.Identifier) return callee.name === "createTask";
      if (callee.type !== AST_NODE_TYPES.MemberExpression || callee.property.type !== AST_NODE_TYPES.Identifier || callee.property.name !== "createTask") return false;
      if (services !== null) {
        const owner = typeOf(services, callee.object);
        return (owner.aliasSymbol ?? owner.getSymbol())?.getName() !== "TaskGroup";
      }
      // Without types: a group is usually the body's `tg` parameter; a loop is named so.
      return callee.object.type === AST_NODE_TYPES.Identifier ? /loop/i.test(callee.object.name) : callee.object.type === AST_NODE_TYPES.CallExpression;
    }

    return {
      ExpressionStatement(node) {
        const expression = unwrap(node.expression);
        if (isLooseCreateTask(expression)) context.report({ node: expression, messageId: "orphan" });
      },
      VariableDeclarator(node) {
        if (node.init === null || node.id.type !== AST_NODE_TYPES.Identifier) return;
        if (!isLooseCreateTask(unwrap(node.init))) return;
        // The one variable an identifier declares: kept when anything reads it.
        for (const variable of context.sourceCode.getDeclaredVariables(node)) {
          if (variable.references.every((ref) => !ref.isRead())) context.report({ node, messageId: "orphan" });
        }
      },
    };
  },
});

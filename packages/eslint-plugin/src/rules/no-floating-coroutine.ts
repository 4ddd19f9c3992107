import { AST_NODE_TYPES, ESLintUtils, type TSESTree } from "@typescript-eslint/utils";
import { callMayReturn, calleeName, createRule, isFutureType, isGeneratorType, typeOf, unwrap } from "../util.js";

type MessageId = "floating" | "awaited" | "neverUsed" | "floatingFuture";
type Options = [{ allowForKnownSafeCalls?: string[] }];

/**
 * Calls that never give a coroutine, skipped without asking the type checker: test
 * runners' assertion and registration chains (`expect(x).toBe(y)`, `describe(…)`) are
 * most of the statements in a test file and the costliest to type.
 */
const KNOWN_SAFE_CALLS = ["expect", "describe", "it", "test", "suite", "beforeEach", "afterEach", "beforeAll", "afterAll", "vi", "console"];

/** The identifier a call chain starts from: `a.b(c).d()` → `a`. */
function chainRoot(node: TSESTree.Node): string | null {
  let at = node;
  for (;;) {
    if (at.type === AST_NODE_TYPES.Identifier) return at.name;
    if (at.type === AST_NODE_TYPES.CallExpression || at.type === AST_NODE_TYPES.NewExpression) at = at.callee;
    else if (at.type === AST_NODE_TYPES.MemberExpression) at = at.object;
    else return null;
  }
}

/**
 * A coroutine that is called and then dropped does nothing and says nothing: a generator
 * object runs only when a task or a `yield*` drives it (asyncio at least warns "coroutine
 * was never awaited" at run time; JavaScript cannot). typescript-eslint's
 * `no-floating-promises` for generator coroutines.
 */
export const noFloatingCoroutine = createRule<Options, MessageId>({
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
    schema: [
      {
        type: "object",
        properties: {
          allowForKnownSafeCalls: {
            type: "array",
            items: { type: "string" },
            description: "Names of functions whose call chains never give a coroutine: their statements are not type-checked.",
          },
        },
        additionalProperties: false,
      },
    ],
  },
  defaultOptions: [{ allowForKnownSafeCalls: KNOWN_SAFE_CALLS }],
  create(context, [options]) {
    const services = ESLintUtils.getParserServices(context);
    // RuleCreator has merged the default list in when the option is not given.
    const safe = new Set<string | null>(options.allowForKnownSafeCalls);

    /**
     * Whether the value is a coroutine. For a call, the callee's declared signatures are
     * read first, which is cheap: only when one of them may return a generator (or a type
     * parameter) is the call itself typed, which infers its arguments — for
     * `await run(function* () { … })` that means checking the whole body.
     */
    function isCoroutineValue(node: TSESTree.Expression): boolean {
      if ((node.type === AST_NODE_TYPES.CallExpression || node.type === AST_NODE_TYPES.NewExpression) && !callMayReturn(services, node, "generator")) {
        return false;
      }
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
          // `void c()`, `!c()`: the operator's result is dropped, and the coroutine with it.
          checkDiscarded(node.argument);
          return;
        case AST_NODE_TYPES.AwaitExpression:
          if (isCoroutineValue(node.argument)) context.report({ node, messageId: "awaited" });
          return;
        case AST_NODE_TYPES.CallExpression:
        case AST_NODE_TYPES.NewExpression: {
          if (safe.has(chainRoot(node))) return;
          if (isCoroutineValue(node)) {
            context.report({ node, messageId: "floating" });
          } else if ((calleeName(node) === "createFuture" || calleeName(node) === "Future") && isFutureType(typeOf(services, node))) {
            context.report({ node, messageId: "floatingFuture" });
          }
          return;
        }
        default:
          return;
      }
    }

    return {
      ExpressionStatement(node) {
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
        // Whether the variable is ever read is known from scopes alone: ask it before the types.
        for (const variable of context.sourceCode.getDeclaredVariables(node)) {
          if (variable.references.some((ref) => ref.isRead())) return;
        }
        if (!isCoroutineValue(init)) return;
        context.report({ node, messageId: "neverUsed", data: { name: node.id.name } });
      },
    };
  },
});


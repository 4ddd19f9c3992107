import { AST_NODE_TYPES, type TSESTree } from "@typescript-eslint/utils";
import { calleeName, createRule, declaresCoroutine, type FunctionNode } from "../util.js";

type MessageId = "asyncCoroutine";

/** What takes a coroutine (or a function returning one) in @loop's API. */
const COROUTINE_TAKERS = new Set([
  "run",
  "runVirtual",
  "runUntilComplete",
  "createTask",
  "ensureFuture",
  "taskGroup",
  "timeout",
  "timeoutAt",
  "waitFor",
  "shield",
  "withLock",
  "consume",
]);

/**
 * An `async function*` looks like the best of both, but it is not a coroutine: the loop
 * cannot resume it, and each `await` inside it is a suspension the loop neither schedules
 * nor can cancel. A coroutine is a plain `function*` that `yield*`s, with Promise-based
 * work adopted through `call`/`ensureFuture`.
 */
export const noAwaitInCoroutine = createRule<[], MessageId>({
  name: "no-await-in-coroutine",
  meta: {
    type: "problem",
    docs: { description: "Disallow `async function*` used as a coroutine: its `await`s cannot be cancelled by the loop" },
    messages: {
      asyncCoroutine:
        "An async generator is not a coroutine: the loop cannot cancel it at an `await`, and gets a Promise where it expects a Future. Write `function*` and replace each `await p` with `yield* call((signal) => p)` or `yield* ensureFuture(p)`.",
    },
    schema: [],
  },
  defaultOptions: [],
  create(context) {
    function usedAsCoroutine(fn: FunctionNode): boolean {
      if (declaresCoroutine(fn)) return true;
      // Passed as a body (`taskGroup(async function* …)`), or called and passed (`createTask(gen())`).
      if (passedToLoop(fn)) return true;
      // A declaration: any call of it passed to @loop (`createTask(worker())`).
      if (fn.type === AST_NODE_TYPES.FunctionDeclaration) {
        for (const variable of context.sourceCode.getDeclaredVariables(fn)) {
          for (const ref of variable.references) {
            const id = ref.identifier;
            if (id.parent?.type === AST_NODE_TYPES.CallExpression && id.parent.callee === id && passedToLoop(id.parent)) return true;
            if (passedToLoop(id)) return true;
          }
        }
      }
      return false;
    }

    /** `node` (or the call of it) is an argument of one of @loop's coroutine-taking calls. */
    function passedToLoop(node: TSESTree.Node): boolean {
      let value: TSESTree.Node = outermost(node);
      const parent = value.parent;
      if (node.type !== AST_NODE_TYPES.CallExpression && parent?.type === AST_NODE_TYPES.CallExpression && parent.callee === value) value = outermost(parent);
      const holder = value.parent;
      if (holder?.type === AST_NODE_TYPES.CallExpression && holder.arguments.includes(value as TSESTree.CallExpressionArgument)) {
        const name = calleeName(holder);
        return name !== undefined && COROUTINE_TAKERS.has(name);
      }
      return false;
    }

    function check(fn: FunctionNode): void {
      if (fn.async && fn.generator && usedAsCoroutine(fn)) context.report({ node: fn, messageId: "asyncCoroutine" });
    }

    return {
      FunctionDeclaration: check,
      FunctionExpression: check,
    };
  },
});

/** `node`, or the type assertions around it (`x as never`, `x!`, `x satisfies T`). */
function outermost(node: TSESTree.Node): TSESTree.Node {
  let at = node;
  while (
    at.parent !== undefined &&
    (at.parent.type === AST_NODE_TYPES.TSAsExpression ||
      at.parent.type === AST_NODE_TYPES.TSNonNullExpression ||
      at.parent.type === AST_NODE_TYPES.TSSatisfiesExpression ||
      at.parent.type === AST_NODE_TYPES.TSTypeAssertion)
  ) {
    at = at.parent;
  }
  return at;
}

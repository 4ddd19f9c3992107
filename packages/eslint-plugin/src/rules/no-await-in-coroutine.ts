import { AST_NODE_TYPES, type TSESTree } from "@typescript-eslint/utils";
import { calleeName, createRule, declaresCoroutine, type FunctionNode } from "../util.js";

type MessageId = "asyncCoroutine";

/** What takes a coroutine (or a function returning one) in @loop's API; a callee without a name is none of them. */
const COROUTINE_TAKERS: ReadonlySet<string | undefined> = new Set([
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
  create(context) {
    function usedAsCoroutine(fn: FunctionNode): boolean {
      if (declaresCoroutine(fn)) return true;
      // Passed as a body (`taskGroup(async function* …)`), or called and passed (`createTask(gen())`).
      if (passedToLoop(fn)) return true;
      // A named function (a declaration, or an expression calling itself by name): any
      // use of its name, or call of it, passed to @loop (`createTask(worker())`). Its
      // parameters are declared with it, but passing one on says nothing about the function.
      for (const variable of context.sourceCode.getDeclaredVariables(fn)) {
        if (variable.identifiers[0] !== fn.id) continue;
        for (const ref of variable.references) {
          if (passedToLoop(ref.identifier)) return true;
        }
      }
      return false;
    }

    /** `node` (or the call of it) is an argument of one of @loop's coroutine-taking calls. */
    function passedToLoop(node: Child): boolean {
      let value = outermost(node);
      const parent = value.parent;
      if (parent.type === AST_NODE_TYPES.CallExpression && parent.callee === value) value = outermost(parent);
      // `value` is an argument of `holder`: were it the callee, it would be a call (or an
      // assertion around one), and a callee that is a call has no name.
      const holder = value.parent;
      return holder.type === AST_NODE_TYPES.CallExpression && COROUTINE_TAKERS.has(calleeName(holder));
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

/** Any node but the Program: every such node has a parent. */
type Child = Exclude<TSESTree.Node, TSESTree.Program>;

/** `node`, or the type assertions around it (`x as never`, `x!`, `x satisfies T`, `<T>x`). */
function outermost(node: Child): Child {
  let at = node;
  for (let up = at.parent; isAssertion(up); up = up.parent) at = up;
  return at;
}

function isAssertion(node: TSESTree.Node): node is TSESTree.TSAsExpression | TSESTree.TSNonNullExpression | TSESTree.TSSatisfiesExpression | TSESTree.TSTypeAssertion {
  return (
    node.type === AST_NODE_TYPES.TSAsExpression ||
    node.type === AST_NODE_TYPES.TSNonNullExpression ||
    node.type === AST_NODE_TYPES.TSSatisfiesExpression ||
    node.type === AST_NODE_TYPES.TSTypeAssertion
  );
}

import { AST_NODE_TYPES, type TSESTree } from "@typescript-eslint/utils";
import { createRule, enclosingCoroutine, typeServices } from "../util.js";

type MessageId = "swallowed" | "bareCatch";

/**
 * Cancellation arrives as a `CancelledError` thrown at the point where the task waits. A
 * `catch` around a `yield`/`yield*` that neither rethrows it nor calls `uncancel()` turns a
 * cancellation into a normal return: the task group, timeout or `run()` that asked for it
 * waits forever or reports the wrong outcome. asyncio's most common cancellation bug
 * (flake8-async ASYNC102–104, trio's "Cancelled must be re-raised").
 */
export const noSwallowedCancel = createRule<[], MessageId>({
  name: "no-swallowed-cancel",
  meta: {
    type: "problem",
    docs: { description: "Require a `catch` around a suspension point in a coroutine to rethrow what it does not handle (`CancelledError` above all)" },
    messages: {
      swallowed:
        "This catch can receive `CancelledError` (the `try` suspends) but never rethrows `{{name}}`: a cancellation would end quietly. Rethrow what you do not handle (`if (!(e instanceof MyError)) throw e;`), or use `finally` for cleanup.",
      bareCatch:
        "`catch {}` around a suspension point swallows `CancelledError`: bind the error and rethrow what you do not handle, or use `finally` for cleanup.",
    },
    schema: [],
  },
  create(context) {
    const services = typeServices(context);
    return {
      CatchClause(node) {
        const tryStatement = node.parent;
        if (!suspends(tryStatement.block)) return;
        if (enclosingCoroutine(tryStatement, services) === null) return;
        const param = node.param;
        if (param === null) {
          if (!contains(node.body, (n) => isUncancel(n) || n.type === AST_NODE_TYPES.ThrowStatement)) {
            context.report({ node, messageId: "bareCatch" });
          }
          return;
        }
        if (param.type !== AST_NODE_TYPES.Identifier) return; // destructuring: the author looked inside on purpose
        // Any throw (a rethrow, or a conversion such as timeout()'s TimeoutError), or taking
        // the cancellation back with uncancel(), is a decision about it.
        if (contains(node.body, (n) => isUncancel(n) || n.type === AST_NODE_TYPES.ThrowStatement)) return;
        // A body that names CancelledError has thought about it (a test asserting on it).
        if (contains(node.body, (n) => n.type === AST_NODE_TYPES.Identifier && n.name === "CancelledError")) return;
        // So is keeping the error for later: returned, stored, or handed to a function that is
        // not a console — asyncio's TaskGroup keeps the body's error and raises it at exit.
        for (const variable of context.sourceCode.getDeclaredVariables(node)) {
          if (variable.references.some((ref) => keeps(ref.identifier))) return;
        }
        context.report({ node, messageId: "swallowed", data: { name: param.name } });
      },
    };
  },
});

/**
 * Whether this use of the caught error keeps it: returned, assigned or stored in a
 * literal, passed to a function other than a console's (an assertion's `expect(e)` will
 * throw on a CancelledError it did not expect), or tested with `instanceof
 * CancelledError`. Printing it, or formatting it into a string, does not.
 */
function keeps(ref: TSESTree.Identifier | TSESTree.JSXIdentifier): boolean {
  // `(e as Error).message`, `ok ? x : e` and `e ?? x` keep what `e` would: look through
  // casts, property reads and the branches a value flows out of.
  let id: Exclude<TSESTree.Node, TSESTree.Program> = ref;
  for (let up = id.parent; carries(up, id); up = up.parent) id = up;
  const parent = id.parent;
  switch (parent.type) {
    case AST_NODE_TYPES.ReturnStatement:
    case AST_NODE_TYPES.Property:
    case AST_NODE_TYPES.ArrayExpression:
    case AST_NODE_TYPES.VariableDeclarator:
      return true;
    case AST_NODE_TYPES.AssignmentExpression:
      return parent.right === id;
    case AST_NODE_TYPES.BinaryExpression:
      return (
        parent.operator === "instanceof" &&
        parent.left === id &&
        parent.right.type === AST_NODE_TYPES.Identifier &&
        parent.right.name === "CancelledError"
      );
    case AST_NODE_TYPES.CallExpression:
    case AST_NODE_TYPES.NewExpression: {
      if (!parent.arguments.includes(id as TSESTree.CallExpressionArgument)) return false;
      const callee = parent.callee;
      const isConsole =
        callee.type === AST_NODE_TYPES.MemberExpression &&
        // Stryker disable next-line ConditionalExpression: narrows the type only; any other object's `.name` is undefined, never "console"
        callee.object.type === AST_NODE_TYPES.Identifier &&
        callee.object.name === "console";
      const isFormatting =
        // Stryker disable next-line ConditionalExpression: narrows the type only; any other callee's `.name` is undefined, never "String"
        callee.type === AST_NODE_TYPES.Identifier &&
        callee.name === "String";
      return !isConsole && !isFormatting;
    }
    default:
      return false;
  }
}

/** Whether `up` gives the value of its child `from` (or a part of it) on. */
function carries(
  up: TSESTree.Node,
  from: TSESTree.Node,
): up is TSESTree.TSAsExpression | TSESTree.TSNonNullExpression | TSESTree.MemberExpression | TSESTree.ConditionalExpression | TSESTree.LogicalExpression {
  return (
    up.type === AST_NODE_TYPES.TSAsExpression ||
    up.type === AST_NODE_TYPES.TSNonNullExpression ||
    (up.type === AST_NODE_TYPES.MemberExpression && up.object === from) ||
    (up.type === AST_NODE_TYPES.ConditionalExpression && up.test !== from) ||
    up.type === AST_NODE_TYPES.LogicalExpression
  );
}

/** `x.uncancel()`: the coroutine takes the cancellation back on purpose, as asyncio allows. */
function isUncancel(node: TSESTree.Node): boolean {
  return (
    node.type === AST_NODE_TYPES.CallExpression &&
    node.callee.type === AST_NODE_TYPES.MemberExpression &&
    node.callee.property.type === AST_NODE_TYPES.Identifier &&
    node.callee.property.name === "uncancel"
  );
}

/** Whether a `yield`/`yield*` of this function (not of a nested one) lies inside `node`. */
function suspends(node: TSESTree.Node): boolean {
  return contains(node, (n) => n.type === AST_NODE_TYPES.YieldExpression);
}

/** Depth-first search inside `node`, not entering nested functions or classes. */
export function contains(node: TSESTree.Node, test: (n: TSESTree.Node) => boolean): boolean {
  if (test(node)) return true;
  for (const key of Object.keys(node) as (keyof typeof node)[]) {
    if (key === "parent") continue;
    const value = node[key] as unknown;
    if (Array.isArray(value)) {
      for (const item of value) if (isNode(item) && !opensScope(item) && contains(item, test)) return true;
    } else if (isNode(value) && !opensScope(value) && contains(value, test)) {
      return true;
    }
  }
  return false;
}

function isNode(value: unknown): value is TSESTree.Node {
  return typeof value === "object" && value !== null && typeof (value as { type?: unknown }).type === "string";
}

function opensScope(node: TSESTree.Node): boolean {
  return (
    node.type === AST_NODE_TYPES.FunctionDeclaration ||
    node.type === AST_NODE_TYPES.FunctionExpression ||
    node.type === AST_NODE_TYPES.ArrowFunctionExpression ||
    node.type === AST_NODE_TYPES.ClassDeclaration ||
    node.type === AST_NODE_TYPES.ClassExpression
  );
}

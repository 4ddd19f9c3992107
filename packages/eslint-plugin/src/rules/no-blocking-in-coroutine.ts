import { AST_NODE_TYPES, type TSESTree } from "@typescript-eslint/utils";
import { createRule, enclosingCoroutine, typeServices } from "../util.js";
import { contains } from "./no-swallowed-cancel.js";

type MessageId = "syncCall" | "atomicsWait" | "busyWait";

/** Modules whose `…Sync` functions block the thread. */
const BLOCKING_MODULES = /^(node:)?(fs|child_process|zlib|crypto)$/;

/**
 * A coroutine runs on the loop's only thread: a blocking call inside it stops every other
 * task, timer and socket until it returns (flake8-async ASYNC2xx). Blocking work belongs on
 * a worker thread (`toThread`, `runInWorker` from @loop/workers) or in an asynchronous API
 * adopted with `call`.
 */
export const noBlockingInCoroutine = createRule<[], MessageId>({
  name: "no-blocking-in-coroutine",
  meta: {
    type: "problem",
    docs: { description: "Disallow blocking calls (`fs.*Sync`, `child_process.*Sync`, `Atomics.wait`, busy-wait loops) inside coroutines" },
    messages: {
      syncCall:
        "`{{name}}` blocks the loop's thread, and with it every other task: use the asynchronous API through `yield* call((signal) => …)`, or run it on a worker with `yield* toThread(…)` (@loop/workers).",
      atomicsWait: "`Atomics.wait` blocks the loop's thread: wait with `Atomics.waitAsync` adopted through `ensureFuture`, or on a worker (`toThread`).",
      busyWait: "This loop spins on the clock and blocks every other task: `yield* sleep(ms)` (@loop/timers) suspends instead.",
    },
    schema: [],
  },
  create(context) {
    const services = typeServices(context);
    // Names bound by imports of blocking modules: namespaces/defaults, and named `…Sync` functions.
    const namespaces = new Set<string>();
    const syncFunctions = new Set<string>();

    function inCoroutine(node: TSESTree.Node): boolean {
      return enclosingCoroutine(node, services) !== null;
    }

    function readsClock(node: TSESTree.Node): boolean {
      return contains(
        node,
        (n) =>
          n.type === AST_NODE_TYPES.CallExpression &&
          n.callee.type === AST_NODE_TYPES.MemberExpression &&
          // Stryker disable next-line ConditionalExpression: narrows the type only; any other object's `.name` is undefined, never "Date" or "performance"
          n.callee.object.type === AST_NODE_TYPES.Identifier &&
          (n.callee.object.name === "Date" || n.callee.object.name === "performance") &&
          n.callee.property.type === AST_NODE_TYPES.Identifier &&
          n.callee.property.name === "now",
      );
    }

    function checkLoop(node: TSESTree.WhileStatement | TSESTree.DoWhileStatement | TSESTree.ForStatement): void {
      if (node.test === null || !readsClock(node.test)) return;
      if (contains(node.body, (n) => n.type === AST_NODE_TYPES.YieldExpression)) return;
      if (inCoroutine(node)) context.report({ node, messageId: "busyWait" });
    }

    return {
      ImportDeclaration(node) {
        if (!BLOCKING_MODULES.test(node.source.value)) return;
        for (const spec of node.specifiers) {
          if (spec.type === AST_NODE_TYPES.ImportSpecifier) {
            // The module's name for it (`import { gunzipSync as gunzip }`, `import { "readFileSync" as read }`).
            const imported = spec.imported.type === AST_NODE_TYPES.Identifier ? spec.imported.name : spec.imported.value;
            if (imported.endsWith("Sync")) syncFunctions.add(spec.local.name);
          } else {
            namespaces.add(spec.local.name);
          }
        }
      },
      CallExpression(node) {
        const callee = node.callee;
        let name: string | null = null;
        if (callee.type === AST_NODE_TYPES.Identifier && syncFunctions.has(callee.name)) {
          name = callee.name;
        } else if (callee.type === AST_NODE_TYPES.MemberExpression && callee.object.type === AST_NODE_TYPES.Identifier && callee.property.type === AST_NODE_TYPES.Identifier) {
          if (callee.object.name === "Atomics" && callee.property.name === "wait") {
            if (inCoroutine(node)) context.report({ node, messageId: "atomicsWait" });
            return;
          }
          if (namespaces.has(callee.object.name) && callee.property.name.endsWith("Sync")) name = `${callee.object.name}.${callee.property.name}`;
        }
        if (name !== null && inCoroutine(node)) context.report({ node, messageId: "syncCall", data: { name } });
      },
      WhileStatement: checkLoop,
      DoWhileStatement: checkLoop,
      ForStatement: checkLoop,
    };
  },
});

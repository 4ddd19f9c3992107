import { AST_NODE_TYPES, ESLintUtils, type ParserServicesWithTypeInformation, type TSESLint, type TSESTree } from "@typescript-eslint/utils";
import ts from "typescript";
import { declarationsMayGive, type Result } from "./declarations.js";

/** The docs page of each rule, shipped in the package and kept in the repository. */
export const createRule = ESLintUtils.RuleCreator(
  (name) => `https://github.com/loop-dev/loop/blob/main/packages/eslint-plugin/docs/rules/${name}.md`,
);

export type FunctionNode = TSESTree.FunctionDeclaration | TSESTree.FunctionExpression | TSESTree.ArrowFunctionExpression;

/** The innermost function around `node` (not counting `node` itself), or null at module level. */
export function enclosingFunction(node: TSESTree.Node): FunctionNode | null {
  // ESLint 10 gives the Program a null parent, older versions undefined.
  let at: TSESTree.Node | null | undefined = node.parent;
  while (at !== undefined && at !== null) {
    if (
      at.type === AST_NODE_TYPES.FunctionDeclaration ||
      at.type === AST_NODE_TYPES.FunctionExpression ||
      at.type === AST_NODE_TYPES.ArrowFunctionExpression
    ) {
      return at;
    }
    at = at.parent;
  }
  return null;
}

/** Type information when the file is linted with it (parserOptions.projectService), else null. */
export function typeServices(context: Readonly<TSESLint.RuleContext<string, readonly unknown[]>>): ParserServicesWithTypeInformation | null {
  const services = context.sourceCode.parserServices;
  if (services === undefined || services.program === null || services.program === undefined) return null;
  return services as ParserServicesWithTypeInformation;
}

/** Every member of a union (or the type itself). */
function members(type: ts.Type): readonly ts.Type[] {
  return type.isUnion() ? type.types : [type];
}

function symbolName(type: ts.Type): string | undefined {
  return (type.aliasSymbol ?? type.getSymbol())?.getName();
}

/** A generator object: what calling a `function*` gives, which does nothing until driven. */
export function isGeneratorType(type: ts.Type): boolean {
  return members(type).some((t) => {
    const name = symbolName(t);
    return name === "Generator" || name === "Coroutine";
  });
}

/**
 * A @loop Future or Task (anything with Future's shape: `addDoneCallback`, `cancel`,
 * `result` and `Symbol.iterator`), so that user subclasses and other copies count too.
 */
export function isFutureType(type: ts.Type): boolean {
  return members(type).some((t) => {
    const name = symbolName(t);
    // Stryker disable next-line ConditionalExpression,LogicalOperator: a fast path; @loop's Future, Task and GatheringFuture have the shape below too
    if (name === "Future" || name === "Task" || name === "GatheringFuture") return true;
    return t.getProperty("addDoneCallback") !== undefined && t.getProperty("cancel") !== undefined && t.getProperty("result") !== undefined;
  });
}

/** A Promise or any other thenable that is not a Future (Futures are PromiseLike too). */
export function isPromiseType(checker: ts.TypeChecker, type: ts.Type): boolean {
  return members(type).some((t) => {
    if (isFutureType(t)) return false;
    const then = t.getProperty("then");
    if (then === undefined) return false;
    const thenType = checker.getTypeOfSymbol(then);
    return thenType.getCallSignatures().length > 0;
  });
}

/** The TypeScript type of an ESTree node. */
export function typeOf(services: ParserServicesWithTypeInformation, node: TSESTree.Node): ts.Type {
  return services.getTypeAtLocation(node);
}

/**
 * Whether a generator function is a coroutine rather than a plain iterator: declared to
 * return `Coroutine<…>`, or (with type information) a generator whose yield type is only
 * Futures and `undefined` — what `yield*` of `sleep`, `gather`, a Task… produces. Without
 * type information every non-async generator counts, which is the common case in code
 * that uses @loop.
 */
export function isCoroutineFunction(fn: FunctionNode, services: ParserServicesWithTypeInformation | null): boolean {
  if (!fn.generator || fn.async) return false;
  // Asked once per statement of the function by several rules: remember the answer.
  const known = coroutineFunctions.get(fn);
  // Stryker disable next-line ConditionalExpression: a cache; classifying again gives the same answer
  if (known !== undefined) return known;
  const answer = classify(fn, services);
  coroutineFunctions.set(fn, answer);
  return answer;
}

const coroutineFunctions = new WeakMap<FunctionNode, boolean>();

function classify(fn: FunctionNode, services: ParserServicesWithTypeInformation | null): boolean {
  if (declaresCoroutine(fn)) return true;
  // Declared as something else (`Generator<Task<unknown>>`, `Iterable<…>`): an iterator.
  if (fn.returnType !== undefined) return false;
  if (services === null) return true;
  const checker = services.program.getTypeChecker();
  const tsNode = services.esTreeNodeToTSNodeMap.get(fn);
  const signature = checker.getSignatureFromDeclaration(tsNode as ts.SignatureDeclaration);
  if (signature === undefined) return true;
  const returnType = checker.getReturnTypeOfSignature(signature);
  const args = checker.getTypeArguments(returnType as ts.TypeReference);
  const yieldType = args[0];
  if (yieldType === undefined) return true;
  return members(yieldType).every((t) => {
    if (t.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Void | ts.TypeFlags.Never | ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return true;
    return isFutureType(t);
  });
}

/**
 * The innermost function around `node`, when syntax alone leaves it possibly a coroutine:
 * a non-async generator declared to return `Coroutine<…>` or nothing. What the type-aware
 * rules ask first, before any type.
 */
export function enclosingGenerator(node: TSESTree.Node): FunctionNode | null {
  const fn = enclosingFunction(node);
  if (fn === null || !fn.generator || fn.async) return null;
  return fn.returnType === undefined || declaresCoroutine(fn) ? fn : null;
}

/** The innermost function around `node`, when it is a coroutine. */
export function enclosingCoroutine(node: TSESTree.Node, services: ParserServicesWithTypeInformation | null): FunctionNode | null {
  const fn = enclosingFunction(node);
  return fn !== null && isCoroutineFunction(fn, services) ? fn : null;
}

/**
 * Whether a `return` in this generator may give a thenable, from its declared return type
 * alone: a `Coroutine<T>` returns only what is assignable to `T`, and when `T` is made of
 * primitives (`void`, `number`, a string literal…) or Futures (a value assignable to a
 * Future has Future's members, and the rules never call a Future a Promise), no returned
 * expression needs typing. Any object type may be a thenable with more members; only the
 * checker knows. True (ask the checker) for a generator without `Coroutine<T>`.
 */
export function declaredReturnMayBeThenable(fn: FunctionNode, services: ParserServicesWithTypeInformation): boolean {
  const annotation = fn.returnType?.typeAnnotation;
  if (annotation === undefined || !declaresCoroutine(fn) || annotation.type !== AST_NODE_TYPES.TSTypeReference) return true;
  const returned = annotation.typeArguments?.params[0];
  if (returned === undefined) return true;
  const checker = services.program.getTypeChecker();
  return mayHoldThenable(checker.getTypeFromTypeNode(services.esTreeNodeToTSNodeMap.get(returned) as ts.TypeNode));
}

const NEVER_THENABLE = ts.TypeFlags.StringLike | ts.TypeFlags.NumberLike | ts.TypeFlags.BigIntLike | ts.TypeFlags.BooleanLike | ts.TypeFlags.ESSymbolLike | ts.TypeFlags.Void | ts.TypeFlags.Undefined | ts.TypeFlags.Null | ts.TypeFlags.Never;

function mayHoldThenable(type: ts.Type): boolean {
  if (type.isUnion()) return type.types.some(mayHoldThenable);
  if (type.flags & NEVER_THENABLE) return false;
  return !isFutureType(type);
}

/**
 * Whether an expression's syntax alone says its value is not a thenable, so that its type
 * need not be asked: a literal, an array (an array or tuple type has no `then`), an object
 * literal without a `then`, a spread or a computed key (its type has exactly its own
 * properties), a function, or an operator that gives a primitive. False when only the
 * checker can tell.
 */
export function cannotBeThenable(node: TSESTree.Expression): boolean {
  switch (node.type) {
    case AST_NODE_TYPES.Literal:
    case AST_NODE_TYPES.TemplateLiteral:
    case AST_NODE_TYPES.ArrayExpression:
    case AST_NODE_TYPES.ArrowFunctionExpression:
    case AST_NODE_TYPES.FunctionExpression:
    case AST_NODE_TYPES.BinaryExpression:
    case AST_NODE_TYPES.UnaryExpression:
    case AST_NODE_TYPES.UpdateExpression:
      return true;
    case AST_NODE_TYPES.ObjectExpression:
      return node.properties.every(
        (p) =>
          p.type === AST_NODE_TYPES.Property &&
          !p.computed &&
          !(p.key.type === AST_NODE_TYPES.Identifier && p.key.name === "then") &&
          !(p.key.type === AST_NODE_TYPES.Literal && p.key.value === "then"),
      );
    case AST_NODE_TYPES.ConditionalExpression:
      return cannotBeThenable(node.consequent) && cannotBeThenable(node.alternate);
    default:
      return false;
  }
}

/** The name a call's callee ends with: `f()` → "f", `a.b.f()` → "f". */
export function calleeName(node: TSESTree.CallExpression | TSESTree.NewExpression): string | undefined {
  const callee = node.callee;
  if (callee.type === AST_NODE_TYPES.Identifier) return callee.name;
  if (callee.type === AST_NODE_TYPES.MemberExpression && !callee.computed && callee.property.type === AST_NODE_TYPES.Identifier) {
    return callee.property.name;
  }
  return undefined;
}

/** Strips what does not change a value: parentheses are gone in ESTree; `!`, `as`, `satisfies` and `<T>x` remain. */
export function unwrap(node: TSESTree.Expression): TSESTree.Expression {
  let at = node;
  while (
    at.type === AST_NODE_TYPES.TSNonNullExpression ||
    at.type === AST_NODE_TYPES.TSAsExpression ||
    at.type === AST_NODE_TYPES.TSSatisfiesExpression ||
    at.type === AST_NODE_TYPES.TSTypeAssertion
  ) {
    at = at.expression;
  }
  return at;
}

/** Whether the function is declared to return `Coroutine<…>` (or `ns.Coroutine<…>`). */
export function declaresCoroutine(fn: FunctionNode): boolean {
  const annotation = fn.returnType?.typeAnnotation;
  if (annotation === undefined || annotation.type !== AST_NODE_TYPES.TSTypeReference) return false;
  const name = annotation.typeName;
  if (name.type === AST_NODE_TYPES.Identifier) return name.name === "Coroutine";
  return name.type === AST_NODE_TYPES.TSQualifiedName && name.right.name === "Coroutine";
}

/**
 * Whether a call may give a value of the `result` kind (a generator, or a Promise that is
 * not a Future), cheapest evidence first: the declarations its callee's name can reach
 * (no typing at all, see declarations.ts), then the callee's declared signatures — cheap
 * next to typing the call itself, which infers its arguments (a whole function body for
 * `run(function* () { … })`). A type parameter, `any` or `unknown` may be anything.
 */
export function callMayReturn(services: ParserServicesWithTypeInformation, node: TSESTree.CallExpression | TSESTree.NewExpression, result: Result): boolean {
  const checker = services.program.getTypeChecker();
  const interesting = result === "generator" ? isGeneratorType : (type: ts.Type) => isPromiseType(checker, type);
  if (!declarationsMayGive(services, node, result, interesting)) return false;
  const calleeType = services.getTypeAtLocation(node.callee);
  const signatures = node.type === AST_NODE_TYPES.NewExpression ? calleeType.getConstructSignatures() : calleeType.getCallSignatures();
  if (signatures.length === 0) return true;
  const may = (type: ts.Type): boolean => {
    if (type.flags & (ts.TypeFlags.TypeParameter | ts.TypeFlags.Any | ts.TypeFlags.Unknown | ts.TypeFlags.IndexedAccess | ts.TypeFlags.Conditional)) return true;
    if (type.isUnionOrIntersection()) return type.types.some(may);
    return interesting(type);
  };
  return signatures.some((signature) => may(checker.getReturnTypeOfSignature(signature)));
}

import { AST_NODE_TYPES, type ParserServicesWithTypeInformation, type TSESTree } from "@typescript-eslint/utils";
import ts from "typescript";

/**
 * What a call may give, read from the declarations it can reach, without the type
 * checker. Typing a call means typing its receiver first (`child.once(…)`: what `spawn(…)`
 * returned, `client.connect()`: a generic client type hundreds of commands wide), which is
 * most of what the type-aware rules cost; reading what every declaration of the name says
 * it returns costs a walk over the program's syntax, once per program.
 *
 * The answer errs on the side of "may": only a call whose every reachable declaration says
 * it returns something else is skipped, and everything else goes on to the type checker.
 */
export type Result = "generator" | "promise";

type Call = TSESTree.CallExpression | TSESTree.NewExpression;

/**
 * Whether the call may give a value of the `result` kind, from its callee's declarations:
 * for `f(…)` the declarations the name `f` resolves to (a scope lookup, no typing), for
 * `x.f(…)` every declaration of a member, property or export named `f` in the program.
 * `interesting` is asked of a declared type when its syntax cannot tell.
 */
export function declarationsMayGive(services: ParserServicesWithTypeInformation, node: Call, result: Result, interesting: (type: ts.Type) => boolean): boolean {
  const callee = node.callee;
  const checker = services.program.getTypeChecker();
  const ask: Question = { checker, result, isNew: node.type === AST_NODE_TYPES.NewExpression, interesting };
  if (callee.type === AST_NODE_TYPES.Identifier) {
    let symbol = checker.getSymbolAtLocation(services.esTreeNodeToTSNodeMap.get(callee));
    if (symbol === undefined) return true;
    if (symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
    const declarations = symbol.declarations;
    if (declarations === undefined || declarations.length === 0) return true;
    return declarations.some((d) => declarationMayGive(d, ask));
  }
  if (callee.type === AST_NODE_TYPES.MemberExpression && !callee.computed) {
    const property = callee.property;
    const name = property.type === AST_NODE_TYPES.PrivateIdentifier ? `#${property.name}` : property.name;
    return memberMayGive(services.program, name, ask);
  }
  return true;
}

interface Question {
  readonly checker: ts.TypeChecker;
  readonly result: Result;
  readonly isNew: boolean;
  /** Whether a type the call may give is of the kind asked for. */
  readonly interesting: (type: ts.Type) => boolean;
}

/** Per program: each member name's declarations, and the answers already worked out. */
interface Index {
  readonly members: Map<string, ts.Node[]>;
  readonly answers: Map<string, boolean>;
}

const indexes = new WeakMap<ts.Program, Index>();
/** Per file, so that a program rebuilt after an edit (in an editor) re-reads only what changed. */
const fileMembers = new WeakMap<ts.SourceFile, Map<string, ts.Node[]>>();

function memberMayGive(program: ts.Program, name: string, ask: Question): boolean {
  let index = indexes.get(program);
  if (index === undefined) {
    index = { members: new Map(), answers: new Map() };
    for (const file of program.getSourceFiles()) {
      for (const [member, nodes] of membersOf(file)) {
        const known = index.members.get(member);
        if (known === undefined) index.members.set(member, nodes.slice());
        else known.push(...nodes);
      }
    }
    indexes.set(program, index);
  }
  const key = `${ask.result}${ask.isNew ? " new " : " "}${name}`;
  let answer = index.answers.get(key);
  if (answer === undefined) {
    const declarations = index.members.get(name);
    // A name declared nowhere comes from an index signature, a mapped type or `any`: ask the checker.
    answer = declarations === undefined || declarations.some((d) => declarationMayGive(d, ask));
    index.answers.set(key, answer);
  }
  return answer;
}

function membersOf(file: ts.SourceFile): Map<string, ts.Node[]> {
  let members = fileMembers.get(file);
  if (members !== undefined) return members;
  const found = new Map<string, ts.Node[]>();
  const add = (name: string, node: ts.Node): void => {
    const known = found.get(name);
    if (known === undefined) found.set(name, [node]);
    else known.push(node);
  };
  // Parents are passed down (a program's nodes have `parent` only once it is bound), and
  // whether the node is a module's own declaration: a local variable is nobody's member.
  const visit = (node: ts.Node, parent: ts.Node, moduleLevel: boolean): void => {
    if (isMemberDeclaration(node, parent, moduleLevel)) {
      const name = memberName(node.name);
      if (name !== undefined) add(name, node);
    } else if (
      // `f.run = function* () {…}` (an expando member) and `this.run = …` in JavaScript.
      ts.isBinaryExpression(node) &&
      node.operatorToken.kind === ts.SyntaxKind.EqualsToken &&
      ts.isPropertyAccessExpression(node.left)
    ) {
      add(node.left.name.text, node);
    } else if (ts.isExportSpecifier(node)) {
      add(node.name.text, node);
    }
    const childrenAtModuleLevel = ts.isModuleBlock(node) || (moduleLevel && (ts.isVariableStatement(node) || ts.isVariableDeclarationList(node) || ts.isVariableDeclaration(node) || ts.isBindingElement(node) || ts.isObjectBindingPattern(node) || ts.isArrayBindingPattern(node) || ts.isModuleDeclaration(node)));
    ts.forEachChild(node, (child) => visit(child, node, childrenAtModuleLevel));
  };
  ts.forEachChild(file, (child) => visit(child, file, true));
  members = found;
  fileMembers.set(file, members);
  return members;
}

type MemberDeclaration =
  | ts.MethodDeclaration
  | ts.MethodSignature
  | ts.PropertyDeclaration
  | ts.PropertySignature
  | ts.PropertyAssignment
  | ts.ShorthandPropertyAssignment
  | ts.GetAccessorDeclaration
  | ts.FunctionDeclaration
  | ts.ClassDeclaration
  | ts.VariableDeclaration
  | ts.BindingElement
  | ts.ParameterDeclaration;

/**
 * The declarations `x.name` can reach: members of classes, interfaces, type and object
 * literals, parameter properties, and (for `ns.name` of a namespace import or `declare
 * module`) a module's own functions, classes and variables.
 */
function isMemberDeclaration(node: ts.Node, parent: ts.Node, moduleLevel: boolean): node is MemberDeclaration {
  switch (node.kind) {
    case ts.SyntaxKind.MethodDeclaration:
    case ts.SyntaxKind.MethodSignature:
    case ts.SyntaxKind.PropertyDeclaration:
    case ts.SyntaxKind.PropertySignature:
    case ts.SyntaxKind.PropertyAssignment:
    case ts.SyntaxKind.ShorthandPropertyAssignment:
    case ts.SyntaxKind.GetAccessor:
      return true;
    case ts.SyntaxKind.FunctionDeclaration:
    case ts.SyntaxKind.ClassDeclaration:
    case ts.SyntaxKind.VariableDeclaration:
    case ts.SyntaxKind.BindingElement:
      return moduleLevel;
    case ts.SyntaxKind.Parameter:
      return ts.isParameterPropertyDeclaration(node, parent);
    default:
      return false;
  }
}

function memberName(name: ts.Node | undefined): string | undefined {
  if (name === undefined) return undefined;
  if (ts.isIdentifier(name) || ts.isStringLiteral(name) || ts.isNumericLiteral(name) || ts.isNoSubstitutionTemplateLiteral(name)) return name.text;
  if (ts.isPrivateIdentifier(name)) return name.text;
  return undefined;
}

/**
 * Whether calling (or `new`-ing) what `node` declares may give a value of the kind asked
 * for: from its syntax when that tells (a `function*`, a declared `: void`), else from its
 * declared type, and for a function without a declared return type from the type the
 * checker infers for it — once per declaration, where typing the call would type its
 * receiver at every call.
 */
function declarationMayGive(node: ts.Node, ask: Question): boolean {
  if (ts.isInterfaceDeclaration(node) || ts.isTypeAliasDeclaration(node) || ts.isModuleDeclaration(node) || ts.isEnumDeclaration(node)) return false;
  // JavaScript declares its types in JSDoc, which only the checker reads.
  if (node.flags & ts.NodeFlags.JavaScriptFile) return declaredTypeMayGive(node, ask);
  if (ts.isClassDeclaration(node) || ts.isClassExpression(node)) return ask.isNew && classMayGive(node, ask.result);
  if (isFunctionLike(node)) {
    // `new f()` of a plain function or method gives `any`.
    if (ask.isNew) return false;
    return functionMayGive(node, ask);
  }
  let type: ts.TypeNode | undefined;
  let initializer: ts.Expression | undefined;
  if (ts.isGetAccessorDeclaration(node)) {
    type = node.type;
  } else if (ts.isPropertySignature(node)) {
    // Without a type it is `any`.
    if (node.type === undefined) return false;
    type = node.type;
  } else if (ts.isPropertyDeclaration(node) || ts.isVariableDeclaration(node) || ts.isParameter(node)) {
    type = node.type;
    initializer = node.initializer;
  } else if (ts.isPropertyAssignment(node)) {
    initializer = node.initializer;
  } else if (ts.isBinaryExpression(node)) {
    initializer = node.right;
  }
  if (type !== undefined) {
    const said = callableSaysMayGive(type, ask);
    return said !== undefined ? said : typeMayGive(ask.checker.getTypeFromTypeNode(type), ask);
  }
  if (initializer !== undefined) {
    const value = skipOuterExpressions(initializer);
    if (ts.isFunctionExpression(value) || ts.isArrowFunction(value)) return ask.isNew ? false : functionMayGive(value, ask);
  }
  return declaredTypeMayGive(node, ask);
}

/** What the checker says the declared thing's type gives when called. */
function declaredTypeMayGive(node: ts.Node, ask: Question): boolean {
  const at = ts.isBinaryExpression(node) ? node.left : ((node as ts.NamedDeclaration).name ?? node);
  return typeMayGive(ask.checker.getTypeAtLocation(at), ask);
}

/** Whether calling (or `new`-ing) a value of this type may give a value of the kind asked for. */
function typeMayGive(type: ts.Type, ask: Question): boolean {
  if (type.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown | ts.TypeFlags.TypeParameter)) return true;
  const signatures = ask.isNew ? type.getConstructSignatures() : type.getCallSignatures();
  if (signatures.length === 0) return type.isUnionOrIntersection() ? type.types.some((t) => typeMayGive(t, ask)) : false;
  return signatures.some((signature) => returnedMayBe(ask.checker.getReturnTypeOfSignature(signature), ask));
}

/** The rules' own test of a returned type; a type parameter, `any` or `unknown` may be anything. */
function returnedMayBe(type: ts.Type, ask: Question): boolean {
  if (type.flags & (ts.TypeFlags.TypeParameter | ts.TypeFlags.Any | ts.TypeFlags.Unknown | ts.TypeFlags.IndexedAccess | ts.TypeFlags.Conditional)) return true;
  if (type.isUnionOrIntersection()) return type.types.some((t) => returnedMayBe(t, ask));
  return ask.interesting(type);
}

function skipOuterExpressions(node: ts.Expression): ts.Expression {
  let at = node;
  while (ts.isParenthesizedExpression(at) || ts.isAsExpression(at) || ts.isSatisfiesExpression(at) || ts.isNonNullExpression(at)) at = at.expression;
  return at;
}

/** `new C()` gives a C: a generator only if C is named like one, a thenable if it has `then` or extends anything. */
function classMayGive(node: ts.ClassLikeDeclaration, result: Result): boolean {
  if (node.heritageClauses?.some((clause) => clause.token === ts.SyntaxKind.ExtendsKeyword)) return true;
  const name = node.name?.text;
  if (result === "generator") return name === "Generator" || name === "Coroutine";
  return node.members.some((member) => memberName(member.name) === "then");
}

type FunctionLike = ts.FunctionDeclaration | ts.MethodDeclaration | ts.MethodSignature | ts.FunctionExpression | ts.ArrowFunction;

function isFunctionLike(node: ts.Node): node is FunctionLike {
  return ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isMethodSignature(node) || ts.isFunctionExpression(node) || ts.isArrowFunction(node);
}

function functionMayGive(fn: FunctionLike, ask: Question): boolean {
  if (fn.type !== undefined) {
    const said = returnTypeSaysMayGive(fn.type, ask.result);
    return said !== undefined ? said : returnedMayBe(ask.checker.getTypeFromTypeNode(fn.type), ask);
  }
  // A method signature without a return type returns `any`, which is neither.
  // Stryker disable next-line ConditionalExpression: it has no body either, which gives the same answer below; the check narrows the type
  if (ts.isMethodSignature(fn)) return false;
  const isGenerator = fn.asteriskToken !== undefined;
  const isAsync = fn.modifiers?.some((m) => m.kind === ts.SyntaxKind.AsyncKeyword) ?? false;
  // A generator function gives a Generator (an AsyncGenerator when async), an async one a Promise.
  if (isGenerator) return ask.result === "generator" && !isAsync;
  if (isAsync) return ask.result === "promise";
  const body = fn.body;
  // Declared without a body or a return type: it returns `any`, which is neither.
  if (body === undefined) return false;
  if (ts.isBlock(body) ? !someReturned(body, (e) => !syntaxRulesOut(e, ask.result)) : syntaxRulesOut(body, ask.result)) return false;
  const signature = ask.checker.getSignatureFromDeclaration(fn);
  return signature === undefined || returnedMayBe(ask.checker.getReturnTypeOfSignature(signature), ask);
}

/**
 * Whether some `return <expression>` of a function body (not a nested function's) passes
 * `test`; false for a body that returns no value.
 */
function someReturned(node: ts.Node, test: (expression: ts.Expression) => boolean): boolean {
  return (
    ts.forEachChild(node, (child) => {
      if (ts.isReturnStatement(child)) return child.expression !== undefined && test(child.expression) ? true : undefined;
      if (ts.isFunctionLike(child) || ts.isClassLike(child)) return undefined;
      return someReturned(child, test) ? true : undefined;
    }) === true
  );
}

/**
 * Whether an expression's syntax alone says it gives neither a generator nor (for
 * "promise") a thenable, so that the function returning it need not be inferred: a
 * literal, an array, a function, an operator giving a primitive, an object literal (an
 * anonymous type, never named `Generator`; for "promise", without a `then`, a spread or a
 * computed key). The same test as the rules' `cannotBeThenable`, on TypeScript's nodes.
 */
function syntaxRulesOut(node: ts.Expression, result: Result): boolean {
  switch (node.kind) {
    case ts.SyntaxKind.NumericLiteral:
    case ts.SyntaxKind.BigIntLiteral:
    case ts.SyntaxKind.StringLiteral:
    case ts.SyntaxKind.NoSubstitutionTemplateLiteral:
    case ts.SyntaxKind.TemplateExpression:
    case ts.SyntaxKind.RegularExpressionLiteral:
    case ts.SyntaxKind.TrueKeyword:
    case ts.SyntaxKind.FalseKeyword:
    case ts.SyntaxKind.NullKeyword:
    case ts.SyntaxKind.ArrayLiteralExpression:
    case ts.SyntaxKind.ArrowFunction:
    case ts.SyntaxKind.FunctionExpression:
    case ts.SyntaxKind.PrefixUnaryExpression:
    case ts.SyntaxKind.PostfixUnaryExpression:
    case ts.SyntaxKind.TypeOfExpression:
    case ts.SyntaxKind.VoidExpression:
    case ts.SyntaxKind.DeleteExpression:
      return true;
    case ts.SyntaxKind.BinaryExpression: {
      // Arithmetic, comparisons, `instanceof`, `in` give primitives; `&&`, `??`, `,` and assignments give an operand.
      const operator = (node as ts.BinaryExpression).operatorToken.kind;
      return (operator >= ts.SyntaxKind.FirstBinaryOperator && operator <= ts.SyntaxKind.CaretToken) || operator === ts.SyntaxKind.InstanceOfKeyword || operator === ts.SyntaxKind.InKeyword;
    }
    case ts.SyntaxKind.ObjectLiteralExpression:
      return (
        result === "generator" ||
        (node as ts.ObjectLiteralExpression).properties.every((p) => (ts.isPropertyAssignment(p) || ts.isShorthandPropertyAssignment(p) || ts.isMethodDeclaration(p) || ts.isAccessor(p)) && !ts.isComputedPropertyName(p.name) && memberName(p.name) !== "then")
      );
    case ts.SyntaxKind.ParenthesizedExpression:
      return syntaxRulesOut((node as ts.ParenthesizedExpression).expression, result);
    case ts.SyntaxKind.ConditionalExpression:
      return syntaxRulesOut((node as ts.ConditionalExpression).whenTrue, result) && syntaxRulesOut((node as ts.ConditionalExpression).whenFalse, result);
    default:
      return false;
  }
}

/**
 * Names of the standard library's types that are neither generators nor thenables (the
 * rules ask for the symbol names `Generator`/`Coroutine`, and a callable `then` that is not
 * a Future's).
 */
const PLAIN_TYPES = new Set([
  "Array",
  "ReadonlyArray",
  "Map",
  "ReadonlyMap",
  "Set",
  "ReadonlySet",
  "WeakMap",
  "WeakSet",
  "WeakRef",
  "Date",
  "RegExp",
  "Error",
  "ArrayBuffer",
  "SharedArrayBuffer",
  "DataView",
  "Uint8Array",
  "Buffer",
  "URL",
  "AbortController",
  "AbortSignal",
]);
const PROMISE_TYPES = new Set(["Promise", "PromiseLike"]);
/** Iterators: never thenables, and generators only under the names the rules ask for. */
const ITERATOR_TYPES = new Set(["Iterator", "IterableIterator", "IteratorObject", "AsyncGenerator", "AsyncIterator", "AsyncIterableIterator"]);

/**
 * Whether a declared return type may be (or hold in a union) a value of the `result`
 * kind, when its syntax tells; undefined when only the checker can tell (a type alias, a
 * type parameter, `typeof x`…).
 */
function returnTypeSaysMayGive(type: ts.TypeNode, result: Result): boolean | undefined {
  switch (type.kind) {
    // `any` and `unknown` are neither: the rules never report them.
    case ts.SyntaxKind.AnyKeyword:
    case ts.SyntaxKind.UnknownKeyword:
    case ts.SyntaxKind.VoidKeyword:
    case ts.SyntaxKind.UndefinedKeyword:
    case ts.SyntaxKind.NeverKeyword:
    case ts.SyntaxKind.NumberKeyword:
    case ts.SyntaxKind.StringKeyword:
    case ts.SyntaxKind.BooleanKeyword:
    case ts.SyntaxKind.BigIntKeyword:
    case ts.SyntaxKind.SymbolKeyword:
    case ts.SyntaxKind.ObjectKeyword:
    case ts.SyntaxKind.LiteralType:
    case ts.SyntaxKind.TemplateLiteralType:
    case ts.SyntaxKind.ArrayType:
    case ts.SyntaxKind.TupleType:
    case ts.SyntaxKind.FunctionType:
    case ts.SyntaxKind.ConstructorType:
    case ts.SyntaxKind.TypePredicate:
      return false;
    case ts.SyntaxKind.ParenthesizedType:
      return returnTypeSaysMayGive((type as ts.ParenthesizedTypeNode).type, result);
    case ts.SyntaxKind.UnionType:
    case ts.SyntaxKind.IntersectionType:
      return anyMember((type as ts.UnionOrIntersectionTypeNode).types, (t) => returnTypeSaysMayGive(t, result));
    case ts.SyntaxKind.TypeOperator: {
      const operator = type as ts.TypeOperatorNode;
      if (operator.operator === ts.SyntaxKind.ReadonlyKeyword) return returnTypeSaysMayGive(operator.type, result);
      return operator.operator === ts.SyntaxKind.KeyOfKeyword ? false : undefined;
    }
    case ts.SyntaxKind.TypeLiteral:
      // An object type is anonymous (no Generator name), and a thenable only with a `then`.
      return result === "promise" && (type as ts.TypeLiteralNode).members.some((m) => memberName(m.name) === "then");
    case ts.SyntaxKind.ThisType:
      return thisMayGive(type, result);
    case ts.SyntaxKind.TypeReference: {
      const typeName = (type as ts.TypeReferenceNode).typeName;
      const name = ts.isIdentifier(typeName) ? typeName.text : typeName.right.text;
      if (PLAIN_TYPES.has(name) || ITERATOR_TYPES.has(name)) return false;
      if (result === "generator" && PROMISE_TYPES.has(name)) return false;
      if (result === "promise" && (name === "Generator" || name === "Coroutine")) return false;
      return undefined;
    }
    default:
      return undefined;
  }
}

/**
 * `this` in a fluent API (`emitter.once(…): this`) is the class or interface it is
 * declared in: a generator only under a generator's name, a thenable only with a `then`.
 */
function thisMayGive(type: ts.TypeNode, result: Result): boolean | undefined {
  let at: ts.Node | undefined = type.parent;
  while (at !== undefined && !ts.isClassLike(at) && !ts.isInterfaceDeclaration(at)) at = at.parent;
  if (at === undefined) return undefined;
  if (result === "generator") {
    const name = at.name?.text;
    return name === "Generator" || name === "Coroutine";
  }
  return (at.members as ts.NodeArray<ts.ClassElement | ts.TypeElement>).some((m) => memberName(m.name) === "then");
}

function anyMember(types: readonly ts.TypeNode[], says: (type: ts.TypeNode) => boolean | undefined): boolean | undefined {
  let unknown = false;
  for (const t of types) {
    const said = says(t);
    if (said === true) return true;
    if (said === undefined) unknown = true;
  }
  return unknown ? undefined : false;
}

/** Whether calling a value declared with this type may give a value of the kind asked for; undefined when only the checker can tell. */
function callableSaysMayGive(type: ts.TypeNode, ask: Question): boolean | undefined {
  switch (type.kind) {
    case ts.SyntaxKind.FunctionType:
      return ask.isNew ? false : returnTypeSaysMayGive((type as ts.FunctionTypeNode).type, ask.result);
    case ts.SyntaxKind.ConstructorType:
      return ask.isNew ? returnTypeSaysMayGive((type as ts.ConstructorTypeNode).type, ask.result) : false;
    case ts.SyntaxKind.ParenthesizedType:
      return callableSaysMayGive((type as ts.ParenthesizedTypeNode).type, ask);
    case ts.SyntaxKind.UnionType:
      return anyMember((type as ts.UnionTypeNode).types, (t) => callableSaysMayGive(t, ask));
    // Values that can never be called, not even after narrowing.
    case ts.SyntaxKind.VoidKeyword:
    case ts.SyntaxKind.UndefinedKeyword:
    case ts.SyntaxKind.NeverKeyword:
    case ts.SyntaxKind.NumberKeyword:
    case ts.SyntaxKind.StringKeyword:
    case ts.SyntaxKind.BooleanKeyword:
    case ts.SyntaxKind.BigIntKeyword:
    case ts.SyntaxKind.SymbolKeyword:
    case ts.SyntaxKind.LiteralType:
    case ts.SyntaxKind.ArrayType:
    case ts.SyntaxKind.TupleType:
      return false;
    // `any` and `unknown` can be narrowed to anything by a type guard.
    case ts.SyntaxKind.AnyKeyword:
    case ts.SyntaxKind.UnknownKeyword:
      return true;
    default:
      return undefined;
  }
}

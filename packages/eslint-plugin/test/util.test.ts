import { parseForESLint } from "@typescript-eslint/parser";
import { AST_NODE_TYPES, type TSESTree } from "@typescript-eslint/utils";
import { describe, expect, test } from "vitest";
import { calleeName, cannotBeThenable, declaresCoroutine, enclosingFunction, enclosingGenerator, unwrap, type FunctionNode } from "../src/util.js";

/**
 * The syntactic helpers the rules share, on parsed snippets (no type information). Several
 * are shortcuts taken before asking the type checker: what they answer decides which code
 * is typed at all, so each form they know is pinned here.
 */
function parse(code: string): TSESTree.Program {
  const { ast } = parseForESLint(code, { range: true, loc: true });
  setParents(ast, undefined);
  return ast;
}

function setParents(node: TSESTree.Node, parent: TSESTree.Node | undefined): void {
  (node as { parent?: TSESTree.Node }).parent = parent;
  for (const [key, value] of Object.entries(node)) {
    if (key === "parent") continue;
    for (const child of Array.isArray(value) ? (value as unknown[]) : [value]) {
      if (typeof child === "object" && child !== null && typeof (child as { type?: unknown }).type === "string") setParents(child as TSESTree.Node, node);
    }
  }
}

/** The expression of the last statement. */
function expression(code: string): TSESTree.Expression {
  const statement = parse(code).body.at(-1);
  if (statement?.type !== AST_NODE_TYPES.ExpressionStatement) throw new Error(`not an expression statement: ${code}`);
  return statement.expression;
}

/** The first function declared in `code`. */
function fn(code: string): FunctionNode {
  const statement = parse(code).body[0];
  if (statement?.type !== AST_NODE_TYPES.FunctionDeclaration) throw new Error(`not a function declaration: ${code}`);
  return statement;
}

describe("cannotBeThenable", () => {
  test.each([
    "1",
    "`x${1}`",
    "[p]",
    "() => p",
    "(function () { return p; })",
    "a + b",
    "!p",
    "i++",
    "({ a: 1, b: p, 'c': 2 })",
    "ok ? 1 : 'x'",
  ])("%s is never a thenable", (code) => {
    expect(cannotBeThenable(expression(code))).toBe(true);
  });

  test.each([
    "p",
    "f()",
    "({ then() {} })",
    "({ 'then': 1 })",
    "({ [key]: 1 })",
    "({ ...other })",
    "ok ? 1 : p",
    "ok ? p : 1",
    "p as never",
  ])("%s may be one: only the checker can tell", (code) => {
    expect(cannotBeThenable(expression(code))).toBe(false);
  });
});

describe("calleeName", () => {
  test.each([
    ["f()", "f"],
    ["a.b.f()", "f"],
    ["new F()", "F"],
    ["a[f]()", undefined],
    ["f()()", undefined],
    ["(0, f)()", undefined],
  ])("%s → %s", (code, name) => {
    expect(calleeName(expression(code) as TSESTree.CallExpression)).toBe(name);
  });
});

test("unwrap strips `!`, `as`, `satisfies` and `<T>x`, however nested", () => {
  const inner = unwrap(expression("(<any>((x satisfies unknown) as never))!"));
  expect(inner).toMatchObject({ type: AST_NODE_TYPES.Identifier, name: "x" });
});

describe("declaresCoroutine", () => {
  test.each([
    ["function* f(): Coroutine<void> {}", true],
    ["function* f(): core.Coroutine<void> {}", true],
    ["function* f(): Generator<number> {}", false],
    ["function* f(): core.Generator<number> {}", false],
    ["function* f(): Coroutine[] {}", false],
    ["function* f() {}", false],
  ])("%s: %s", (code, declares) => {
    expect(declaresCoroutine(fn(code))).toBe(declares);
  });
});

test("enclosingFunction: the innermost function, not counting the node itself; null at module level", () => {
  const program = parse("function outer() { const f = () => { g(); }; return f; }\nh();");
  const outer = program.body[0] as TSESTree.FunctionDeclaration;
  const declaration = outer.body.body[0] as TSESTree.VariableDeclaration;
  const arrow = declaration.declarations[0]?.init as TSESTree.ArrowFunctionExpression;
  const call = ((arrow.body as TSESTree.BlockStatement).body[0] as TSESTree.ExpressionStatement).expression;
  expect(enclosingFunction(call)).toBe(arrow);
  expect(enclosingFunction(arrow)).toBe(outer);
  expect(enclosingFunction(outer)).toBeNull();
  expect(enclosingFunction((program.body[1] as TSESTree.ExpressionStatement).expression)).toBeNull();
});

describe("enclosingGenerator", () => {
  test.each([
    ["function* f() { x; }", true],
    ["function* f(): Coroutine<void> { x; }", true],
    ["function* f(): Generator<number> { x; }", false],
    ["async function* f() { x; }", false],
    ["function f() { x; }", false],
  ])("%s: %s", (code, found) => {
    const f = fn(code);
    const statement = (f.body as TSESTree.BlockStatement).body[0] as TSESTree.ExpressionStatement;
    expect(enclosingGenerator(statement.expression)).toBe(found ? f : null);
  });
});

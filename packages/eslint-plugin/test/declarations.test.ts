import { join } from "node:path";
import { parseForESLint } from "@typescript-eslint/parser";
import { AST_NODE_TYPES, type ParserServicesWithTypeInformation, type TSESTree } from "@typescript-eslint/utils";
import type ts from "typescript";
import { expect, test } from "vitest";
import { declarationsMayGive } from "../src/declarations.js";
import { calleeName, isGeneratorType, isPromiseType } from "../src/util.js";
import { fixtures } from "./rule-tester.js";

/**
 * declarationsMayGive is the shortcut that keeps the type-aware rules cheap: a call whose
 * every declaration says, in its syntax, that it gives neither a generator nor a Promise is
 * skipped before anything is typed. The checker would give the same answers, only slower,
 * so the rule tests cannot see a form the shortcut forgets: this test counts what it asks
 * the checker to type (as scheduling tests count loop turns), beside each answer.
 */
const TYPING = new Set(["getTypeFromTypeNode", "getTypeAtLocation", "getSignatureFromDeclaration", "getReturnTypeOfSignature", "getTypeOfSymbol"]);

const declarations = `
import type { Coroutine } from "@loop/core";
function* gen() { yield; }
async function later() {}
async function* pages() { yield 1; }
function num(): number { return 1; }
declare function untyped();
function literals(n: number) { if (n) return 1; if (n > 1) return 1n; if (n > 2) return "s"; if (n > 3) return \`t\`; if (n > 4) return \`t\${n}\`; if (n > 5) return /r/; if (n > 6) return true; if (n > 7) return false; return null; }
function shapes(n: number) { if (n) return [n]; if (n > 1) return () => n; if (n > 2) return function () { return n; }; return { a: n, b() { return n; }, get c() { return n; } }; }
function operators(n: number, o: object) { if (n) return -n; if (n > 1) return n++; if (n > 2) return typeof n; if (n > 3) return void n; if (n > 4) return delete (o as { x?: number }).x; if (n > 5) return n * 2; if (n > 6) return o instanceof Map; if (n > 7) return "x" in o; return (n ? 1 : 2); }
function thenable() { return { then() {} }; }
function silent() { console.log(1); }
const arrow = () => 1;
const wrapped = ((() => 1) as () => number);
declare const typedPromise: () => Promise<void>;
declare const typedCoroutine: () => Coroutine<void>;
declare const anything: any;
declare const count: number;
declare const eitherFn: (() => number) | (() => string);
class Box { size = 1; }
class Thenable { then(): void {} }
class Derived extends Box {}
interface Api {
  qMap(): Map<string, number>; qList(): readonly string[]; qKeys(): keyof Api; qSelf(): this; qTuple(): [number];
  qCallback(): (n: number) => void; qCtor(): new () => Box; qPred(x: unknown): x is number; qText(): \`a\${string}\`;
  qLit(): 1 | "a"; qObj(): object; qShape(): { n: number }; qThenShape(): { then(): void }; qSym(): symbol; qBig(): bigint;
  qBool(): boolean; qNever(): never; qUndef(): undefined; qVd(): void; qUnk(): unknown; qStr(): string; qIter(): IterableIterator<number>;
  qPromise(): Promise<number>; qCoroutine(): Coroutine<void>; qMaybe(): number | Promise<number>; qParen(): (number); qBoth(): number & { n: 1 };
  qUntypedMethod();
  qProp: number;
  qLoose;
}
declare const api: Api;
`;

const calls = `
gen(); later(); pages(); num(); untyped(); literals(1); shapes(1); operators(1, {}); thenable(); silent();
arrow(); wrapped(); typedPromise(); typedCoroutine(); anything(); count(); eitherFn();
new Box(); new Thenable(); new Derived(); Box();
api.qMap(); api.qList(); api.qKeys(); api.qSelf(); api.qTuple(); api.qCallback(); api.qCtor(); api.qPred(1); api.qText(); api.qLit(); api.qObj(); api.qShape();
api.qThenShape(); api.qSym(); api.qBig(); api.qBool(); api.qNever(); api.qUndef(); api.qVd(); api.qUnk(); api.qStr(); api.qIter();
api.qPromise(); api.qCoroutine(); api.qMaybe(); api.qParen(); api.qBoth(); api.qUntypedMethod(); api.qProp(); api.qLoose(); new gen();
`;

function answers(): Record<string, string> {
  const parsed = parseForESLint(declarations + calls, {
    project: "./tsconfig.json",
    tsconfigRootDir: fixtures,
    filePath: join(fixtures, "file.ts"),
    range: true,
    loc: true,
  });
  const services = parsed.services as ParserServicesWithTypeInformation;
  const checker = services.program.getTypeChecker();
  let typed = 0;
  const counting = new Proxy(checker, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (typeof key === "string" && TYPING.has(key)) typed++;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  // A program of its own (a fresh object): the member index is built for it, once.
  const program = new Proxy(services.program, {
    get(target, key) {
      if (key === "getTypeChecker") return () => counting;
      const value = Reflect.get(target, key) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  const counted = { ...services, program } as ParserServicesWithTypeInformation;
  const out: Record<string, string> = {};
  for (const statement of parsed.ast.body) {
    if (statement.type !== AST_NODE_TYPES.ExpressionStatement) continue;
    const call = statement.expression;
    if (call.type !== AST_NODE_TYPES.CallExpression && call.type !== AST_NODE_TYPES.NewExpression) continue;
    const label = `${call.type === AST_NODE_TYPES.NewExpression ? "new " : ""}${calleeName(call as TSESTree.CallExpression) ?? "?"}`;
    typed = 0;
    const generator = declarationsMayGive(counted, call, "generator", isGeneratorType);
    const promise = declarationsMayGive(counted, call, "promise", (type: ts.Type) => isPromiseType(checker, type));
    out[label] = `${generator ? "G" : "-"}${promise ? "P" : "-"}${typed === 0 ? " untyped" : ""}`;
  }
  return out;
}

test("each form of declaration is answered, and those whose syntax tells without typing anything", () => {
  // "G": may give a generator, "P": may give a Promise (so the call is typed); "untyped": decided without typing anything.
  expect(answers()).toEqual({
    "gen": "G- untyped",
    "later": "-P untyped",
    "pages": "-- untyped",
    "num": "-- untyped",
    "untyped": "-- untyped",
    "literals": "-- untyped",
    "shapes": "-- untyped",
    "operators": "-- untyped",
    "thenable": "-P",
    "silent": "-- untyped",
    "arrow": "-- untyped",
    "wrapped": "-- untyped",
    "typedPromise": "-P",
    "typedCoroutine": "G-",
    "anything": "GP untyped",
    "count": "-- untyped",
    "eitherFn": "-- untyped",
    "new Box": "-- untyped",
    "new Thenable": "-P untyped",
    "new Derived": "GP untyped",
    "Box": "-- untyped",
    "qMap": "-- untyped",
    "qList": "-- untyped",
    "qKeys": "-- untyped",
    "qSelf": "-- untyped",
    "qTuple": "-- untyped",
    "qCallback": "-- untyped",
    "qCtor": "-- untyped",
    "qPred": "-- untyped",
    "qText": "-- untyped",
    "qLit": "-- untyped",
    "qObj": "-- untyped",
    "qShape": "-- untyped",
    "qThenShape": "-P untyped",
    "qSym": "-- untyped",
    "qBig": "-- untyped",
    "qBool": "-- untyped",
    "qNever": "-- untyped",
    "qUndef": "-- untyped",
    "qVd": "-- untyped",
    "qUnk": "-- untyped",
    "qStr": "-- untyped",
    "qIter": "-- untyped",
    "qPromise": "-P",
    "qCoroutine": "G-",
    "qMaybe": "-P",
    "qParen": "-- untyped",
    "qBoth": "-- untyped",
    "qUntypedMethod": "-- untyped",
    "qProp": "-- untyped",
    "qLoose": "-- untyped",
    "new gen": "-- untyped",
  });
});

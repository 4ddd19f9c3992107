import { join } from "node:path";
import { parseForESLint } from "@typescript-eslint/parser";
import { AST_NODE_TYPES, type ParserServicesWithTypeInformation } from "@typescript-eslint/utils";
import type ts from "typescript";
import { expect, test } from "vitest";
import { declarationsMayGive } from "../src/declarations.js";
import { declaredReturnMayBeThenable, isCoroutineFunction, isGeneratorType, isPromiseType } from "../src/util.js";
import { fixtures, PROGRAM_TIMEOUT } from "./rule-tester.js";

/**
 * The helpers that read types, on one program each (the fixture project). declarationsMayGive is the shortcut that keeps the type-aware rules cheap: a call whose
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
class Service {
  constructor(private readonly qHelper: () => number) {}
  #qSecret(): number { return 1; }
  qUse(): number { return this.#qSecret(); }
  get qValue(): number { return 1; }
}
declare const svc: Service;
namespace Tools { export function qTool(): number { return 1; } export const qVar = (): number => 1; }
const { qPicked } = { qPicked: (): number => 1 };
function owner() { const qLocal = () => 1; return qLocal; }
const table = { "qQuoted": (): number => 1, qShort: arrow };
const qSatisfied = (() => 1) satisfies () => number;
const qAsserted = (() => 1)!;
declare const qMaker: new () => Box;
declare const qMakerParen: (() => number);
declare const qEither: (() => number) | (() => Coroutine<void>);
declare const qMaybeFn: (() => number) | undefined;
declare const loose: Record<string, () => number>;
declare const any2: any;
class Generator2 {}
interface Fluent { qChain(): this; }
declare const fluent: Fluent;
`;

/**
 * With CI=true typescript-estree infers a single lint run and builds the program from the
 * files on disk, so the code given here would be replaced by fixtures/file.ts (RuleTester
 * turns this inference off for its cases in the same way).
 */
const parseCodeNotFile = { disallowAutomaticSingleRunInference: true };

const calls = `
gen(); later(); pages(); num(); untyped(); literals(1); shapes(1); operators(1, {}); thenable(); silent();
arrow(); wrapped(); typedPromise(); typedCoroutine(); anything(); count(); eitherFn();
new Box(); new Thenable(); new Derived(); Box();
api.qMap(); api.qList(); api.qKeys(); api.qSelf(); api.qTuple(); api.qCallback(); api.qCtor(); api.qPred(1); api.qText(); api.qLit(); api.qObj(); api.qShape();
api.qThenShape(); api.qSym(); api.qBig(); api.qBool(); api.qNever(); api.qUndef(); api.qVd(); api.qUnk(); api.qStr(); api.qIter();
api.qPromise(); api.qCoroutine(); api.qMaybe(); api.qParen(); api.qBoth(); api.qUntypedMethod(); api.qProp(); api.qLoose(); new gen();
svc.qHelper(); svc.qUse(); svc.qValue(); Tools.qTool(); Tools.qVar(); qPicked(); any2.qLocal(); table.qQuoted(); table.qShort(); any2.qPicked();
qSatisfied(); qAsserted(); new qMaker(); qMaker(); qMakerParen(); qEither(); qMaybeFn!(); loose.qNowhere(); loose[String(1)](); missing(); owner(); fluent.qChain(); new Generator2();
`;

function answers(): Record<string, string> {
  const source = declarations + calls;
  const parsed = parseForESLint(source, {
    project: "./tsconfig.json",
    tsconfigRootDir: fixtures,
    filePath: join(fixtures, "file.ts"),
    range: true,
    loc: true,
    ...parseCodeNotFile,
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
    const label = `${call.type === AST_NODE_TYPES.NewExpression ? "new " : ""}${source.slice(...call.callee.range)}`;
    typed = 0;
    const generator = declarationsMayGive(counted, call, "generator", isGeneratorType);
    const promise = declarationsMayGive(counted, call, "promise", (type: ts.Type) => isPromiseType(checker, type));
    out[label] = `${generator ? "G" : "-"}${promise ? "P" : "-"}${typed === 0 ? " untyped" : ""}`;
  }
  return out;
}

test("each form of declaration is answered, and those whose syntax tells without typing anything", () => {
  // "G": may give a generator, "P": may give a Promise (so the call is typed); "untyped": decided without typing anything.
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
    "api.qMap": "-- untyped",
    "api.qList": "-- untyped",
    "api.qKeys": "-- untyped",
    "api.qSelf": "-- untyped",
    "api.qTuple": "-- untyped",
    "api.qCallback": "-- untyped",
    "api.qCtor": "-- untyped",
    "api.qPred": "-- untyped",
    "api.qText": "-- untyped",
    "api.qLit": "-- untyped",
    "api.qObj": "-- untyped",
    "api.qShape": "-- untyped",
    "api.qThenShape": "-P untyped",
    "api.qSym": "-- untyped",
    "api.qBig": "-- untyped",
    "api.qBool": "-- untyped",
    "api.qNever": "-- untyped",
    "api.qUndef": "-- untyped",
    "api.qVd": "-- untyped",
    "api.qUnk": "-- untyped",
    "api.qStr": "-- untyped",
    "api.qIter": "-- untyped",
    "api.qPromise": "-P",
    "api.qCoroutine": "G-",
    "api.qMaybe": "-P",
    "api.qParen": "-- untyped",
    "api.qBoth": "-- untyped",
    "api.qUntypedMethod": "-- untyped",
    "api.qProp": "-- untyped",
    "api.qLoose": "-- untyped",
    "new gen": "-- untyped",
    "svc.qHelper": "-- untyped",
    "svc.qUse": "-- untyped",
    "svc.qValue": "-- untyped",
    "Tools.qTool": "-- untyped",
    "Tools.qVar": "-- untyped",
    "qPicked": "--",
    "any2.qLocal": "GP untyped",
    "table.qQuoted": "-- untyped",
    "table.qShort": "--",
    "any2.qPicked": "--",
    "qSatisfied": "-- untyped",
    "qAsserted": "-- untyped",
    "new qMaker": "--",
    "qMaker": "-- untyped",
    "qMakerParen": "-- untyped",
    "qEither": "G-",
    "qMaybeFn!": "GP untyped",
    "loose.qNowhere": "GP untyped",
    "loose[String(1)]": "GP untyped",
    "missing": "GP untyped",
    "owner": "--",
    "fluent.qChain": "-- untyped",
    "new Generator2": "-- untyped",
  });
}, PROGRAM_TIMEOUT);

test("declaredReturnMayBeThenable: only primitives and Futures in `Coroutine<T>` rule a returned Promise out", () => {
  const cases = {
    primitives: 'Coroutine<number | string | boolean | bigint | symbol | null | undefined | 1 | "a">',
    nothing: "Coroutine<void>",
    never: "Coroutine<never>",
    future: "Coroutine<Future<number>>",
    task: "Coroutine<Task<void> | undefined>",
    promise: "Coroutine<Promise<number>>",
    object: "Coroutine<{ a: number }>",
    unknown: "Coroutine<unknown>",
    bare: "Coroutine",
    generator: "Generator<undefined, number>",
    inferred: "",
  };
  const code = [
    'import type { Coroutine, Future, Task } from "@loop/core";',
    ...Object.entries(cases).map(([name, type]) => `function* ${name}()${type === "" ? "" : `: ${type}`} { yield; }`),
  ].join("\n");
  const parsed = parseForESLint(code, { project: "./tsconfig.json", tsconfigRootDir: fixtures, filePath: join(fixtures, "file.ts"), range: true, loc: true, ...parseCodeNotFile });
  const services = parsed.services as ParserServicesWithTypeInformation;
  const answers: Record<string, boolean> = {};
  for (const statement of parsed.ast.body) {
    if (statement.type === AST_NODE_TYPES.FunctionDeclaration && statement.id !== null) answers[statement.id.name] = declaredReturnMayBeThenable(statement, services);
  }
  expect(answers).toEqual({
    primitives: false,
    nothing: false,
    never: false,
    future: false,
    task: false,
    promise: true,
    object: true,
    unknown: true,
    bare: true,
    generator: true,
    inferred: true,
  });
}, PROGRAM_TIMEOUT);

test("isCoroutineFunction: a generator without a declared type is a coroutine when it yields only Futures and nothing", () => {
  const code = `import { gather, type Coroutine, type Future, type Task } from "@loop/core";
declare function step(): Coroutine<void>;
function* bare() { yield; }
function* none() { return 1; }
function* future(f: Future<number>) { yield f; }
function* task(t: Task<void>) { yield t; yield undefined; }
function* gathered() { yield gather(step()); }
function* delegating() { yield* step(); }
function* shaped(x: { addDoneCallback(): void; cancel(): void; result(): number }) { yield x; }
function* halfShaped(x: { addDoneCallback(): void; cancel(): void }) { yield x; }
function* withoutCancel(x: { addDoneCallback(): void; result(): number }) { yield x; }
function* withoutCallback(x: { cancel(): void; result(): number }) { yield x; }
function* anything(x: any) { yield x; }
function* unknowing(x: unknown) { yield x; }
function* numbers() { yield 1; }
function* mixed(f: Future<number>) { yield f; yield "x"; }
function* declared(): Coroutine<void> { yield 1 as never; }
function* iterator(): Generator<number> { yield 1; }
async function* pages() { yield 1; }
function plain() { return 1; }`;
  // Parsed twice: the answer is remembered per function node.
  const classify = (withTypes: boolean): Record<string, boolean> => {
    const parsed = parseForESLint(code, { project: "./tsconfig.json", tsconfigRootDir: fixtures, filePath: join(fixtures, "file.ts"), range: true, loc: true, ...parseCodeNotFile });
    const services = withTypes ? (parsed.services as ParserServicesWithTypeInformation) : null;
    const answers: Record<string, boolean> = {};
    for (const statement of parsed.ast.body) {
      if (statement.type === AST_NODE_TYPES.FunctionDeclaration && statement.id !== null) answers[statement.id.name] = isCoroutineFunction(statement, services);
    }
    return answers;
  };
  const typed = classify(true);
  const untyped = classify(false);
  expect(typed).toEqual({
    bare: true,
    none: true,
    future: true,
    task: true,
    gathered: true,
    delegating: true,
    shaped: true,
    halfShaped: false,
    withoutCancel: false,
    withoutCallback: false,
    anything: true,
    unknowing: true,
    numbers: false,
    mixed: false,
    declared: true,
    iterator: false,
    pages: false,
    plain: false,
  });
  // Without types every non-async generator not declared as something else counts.
  expect(untyped).toEqual({ ...Object.fromEntries(Object.keys(typed).map((name) => [name, true])), iterator: false, pages: false, plain: false });
}, PROGRAM_TIMEOUT);

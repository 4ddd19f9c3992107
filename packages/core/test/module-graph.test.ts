import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, test } from "vitest";

// The layering rule of docs/design.md ("Module layering"): the modules of core's src/ form
// a graph without cycles, counting type-only imports, because the contracts and the
// interfaces of the classes live in the leaf types.ts. This test reads every import and
// fails with the cycle spelled out when one comes back.

const srcDir = resolve(dirname(fileURLToPath(import.meta.url)), "../src");

type Graph = Map<string, string[]>;

/** Every `.ts` file under `dir`, as a path relative to it. */
function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) files.push(relative(dir, path));
    }
  };
  walk(dir);
  return files.sort();
}

/**
 * The files `file` imports from `src/`: import and export declarations (`import type`
 * included), `import("…")` types and dynamic `import()` calls.
 */
function importsOf(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found = new Set<string>();
  const add = (specifier: string): void => {
    if (!specifier.startsWith(".")) return;
    found.add(join(dirname(file), specifier).replace(/\.js$/, ".ts"));
  };
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier !== undefined && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier.text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      add(node.argument.literal.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [specifier] = node.arguments;
      if (specifier !== undefined && ts.isStringLiteralLike(specifier)) add(specifier.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return [...found].sort();
}

function moduleGraph(dir: string): Graph {
  const graph: Graph = new Map();
  for (const file of sourceFiles(dir)) graph.set(file, importsOf(file, readFileSync(join(dir, file), "utf8")));
  return graph;
}

/** The strongly connected components with more than one module (or a module importing itself): Tarjan's algorithm. */
function cycles(graph: Graph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const connect = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || graph.get(v)!.includes(v)) found.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) connect(v);
  return found;
}

/** One cycle of each component, as `a.ts -> b.ts -> a.ts`, for the failure message. */
function describeCycles(graph: Graph, components: string[][]): string[] {
  return components.map((component) => {
    const members = new Set(component);
    const start = component[0]!;
    const path: string[] = [];
    const seen = new Set<string>([start]);
    // In a strongly connected component every module lies on a cycle through `start`.
    const search = (v: string): boolean => {
      path.push(v);
      for (const w of graph.get(v)!) {
        if (!members.has(w)) continue;
        if (w === start) {
          path.push(start);
          return true;
        }
        if (!seen.has(w)) {
          seen.add(w);
          if (search(w)) return true;
        }
      }
      path.pop();
      return false;
    };
    search(start);
    return `${component.length} modules: ${path.join(" -> ")}`;
  });
}

describe("core's module graph", () => {
  const graph = moduleGraph(srcDir);

  test("reads the imports: the graph knows every source file and loop.ts's imports", () => {
    expect(graph.size).toBeGreaterThan(30);
    expect(graph.get("loop.ts")).toEqual(expect.arrayContaining(["task.ts", "future.ts", "types.ts"]));
  });

  test("has no import cycle, type-only imports included", () => {
    expect(describeCycles(graph, cycles(graph))).toEqual([]);
  });

  test("types.ts names types only from leaves: modules that import nothing", () => {
    for (const dependency of graph.get("types.ts")!) {
      expect({ dependency, imports: graph.get(dependency) }).toEqual({ dependency, imports: [] });
    }
  });

  test("the check itself finds a type-only cycle and names it", () => {
    const files: Graph = new Map([
      ["future.ts", importsOf("future.ts", 'import type { EventLoop } from "./loop.js";')],
      ["loop.ts", importsOf("loop.ts", 'import { Future } from "./future.js";\nexport type { Task } from "./task.js";')],
      ["task.ts", importsOf("task.ts", 'let t: import("./future.js").Future<number>;')],
      ["leaf.ts", importsOf("leaf.ts", "export const x = 1;")],
    ]);
    expect(files.get("task.ts")).toEqual(["future.ts"]);
    const found = cycles(files);
    expect(found).toEqual([["future.ts", "loop.ts", "task.ts"]]);
    expect(describeCycles(files, found)).toEqual(["3 modules: future.ts -> loop.ts -> future.ts"]);
  });
});

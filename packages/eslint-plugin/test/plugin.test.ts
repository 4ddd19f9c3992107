import { existsSync, readFileSync } from "node:fs";
import tsParser from "@typescript-eslint/parser";
import { Linter } from "eslint";
import { describe, expect, test } from "vitest";

/**
 * What editors and documentation tools read from each rule, beside its reports. The plugin
 * is imported inside the tests: a rule module that throws while it loads then fails a test
 * here, where a static import would leave the file without tests (which passes).
 */
async function load() {
  return (await import("../src/index.js")).default;
}

describe("the plugin", () => {
  test("is named after its package, at the package's version (ESLint's cache keys on both)", async () => {
    const plugin = await load();
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { name: string; version: string };
    expect(plugin.meta).toEqual({ name: pkg.name, version: pkg.version });
  });

  test("`recommended` turns on every rule but prefer-task-group, which `strict` adds", async () => {
    const plugin = await load();
    const names = Object.keys(plugin.rules);
    const on = Object.fromEntries(names.map((name) => [`@loop/${name}`, "error"]));
    expect(plugin.configs.recommended).toEqual({
      name: "@loop/recommended",
      plugins: { "@loop": plugin },
      rules: { ...on, "@loop/prefer-task-group": "off" },
    });
    expect(plugin.configs.strict).toEqual({ name: "@loop/strict", plugins: { "@loop": plugin }, rules: on });
  });

  test("`typeAwareRules` are the rules that refuse to run without type information", async () => {
    const { default: plugin, typeAwareRules } = await import("../src/index.js");
    const linter = new Linter();
    const needsTypes = Object.keys(plugin.rules).filter((name) => {
      const config: Linter.Config = {
        files: ["**/*.ts"],
        languageOptions: { parser: tsParser },
        plugins: { "@loop": plugin as never },
        rules: { [`@loop/${name}`]: "error" },
      };
      try {
        linter.verify("function* main() { yield 1; }\n", [config], "file.ts");
        return false;
      } catch (error) {
        expect(String(error)).toContain("requires type information");
        return true;
      }
    });
    expect([...typeAwareRules].sort()).toEqual(needsTypes.sort());
  });
});

describe("every rule's metadata", () => {
  test("links to the rule's page in docs/rules, which the package ships", async () => {
    const plugin = await load();
    for (const [name, rule] of Object.entries(plugin.rules)) {
      expect(rule.meta.docs?.url).toBe(`https://github.com/loop-dev/loop/blob/main/packages/eslint-plugin/docs/rules/${name}.md`);
      expect(existsSync(new URL(`../docs/rules/${name}.md`, import.meta.url)), name).toBe(true);
    }
  });

  test("describes the rule in one line that says what it asks for", async () => {
    const plugin = await load();
    for (const [name, rule] of Object.entries(plugin.rules)) {
      expect(rule.meta.docs?.description, name).toMatch(/^(Disallow|Require|Prefer) \S.*[^.]$/);
    }
  });

  test("is a suggestion exactly when `recommended` leaves the rule off, else a problem", async () => {
    const plugin = await load();
    const levels = plugin.configs.recommended.rules ?? {};
    for (const [name, rule] of Object.entries(plugin.rules)) {
      expect(rule.meta.type, name).toBe(levels[`@loop/${name}`] === "off" ? "suggestion" : "problem");
    }
  });

  test("has messages that are each whole sentences", async () => {
    const plugin = await load();
    for (const [name, rule] of Object.entries(plugin.rules)) {
      const messages: Record<string, string> = rule.meta.messages;
      for (const [id, message] of Object.entries(messages)) expect(message, `${name}: ${id}`).toMatch(/^[A-Z`].* .*\.$/);
    }
  });
});

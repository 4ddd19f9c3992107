import { existsSync } from "node:fs";
import { describe, expect, test } from "vitest";

/**
 * What editors and documentation tools read from each rule, beside its reports. The plugin
 * is imported inside the tests: a rule module that throws while it loads then fails a test
 * here, where a static import would leave the file without tests (which passes).
 */
async function load() {
  return (await import("../src/index.js")).default;
}

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

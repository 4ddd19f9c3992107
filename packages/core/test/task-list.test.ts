import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { Task } from "../src/index.js";
import { TaskList } from "../src/task-list.js";
import { propertyRuns } from "./property-runs.js";

// TaskList only touches the two link fields, so plain objects stand in for tasks.
function fakeTask(): Task<unknown> {
  return { _prevTask: null, _nextTask: null } as unknown as Task<unknown>;
}

describe("TaskList", () => {
  test("behaves as an insertion-ordered Set under random add/delete sequences", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.nat({ max: 15 })), { maxLength: 200 }), (ops) => {
        const tasks = Array.from({ length: 16 }, fakeTask);
        const list = new TaskList();
        const model = new Set<Task<unknown>>();
        for (const [add, i] of ops) {
          const task = tasks[i]!;
          if (add) {
            list.add(task);
            model.add(task);
          } else {
            expect(list.delete(task)).toBe(model.delete(task));
          }
          expect(list.size).toBe(model.size);
          expect(list.has(task)).toBe(model.has(task));
        }
        expect([...list]).toEqual([...model]);
      }),
      { numRuns: propertyRuns(300) },
    );
  });
});

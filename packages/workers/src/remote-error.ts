/**
 * Errors that come back from a worker thread. The worker describes each thrown value as
 * a plain record (worker/entry.mjs), because the structured clone of an Error keeps only
 * the built-in classes and drops own fields such as `code`; here the record becomes an
 * error again, with the worker's stack.
 */

/** How the worker describes a thrown value. */
export type ThrownRecord =
  | { kind: "value"; value: unknown }
  | {
      kind: "error";
      className: string;
      /** The class is one of JavaScript's own (TypeError, RangeError…), not a user class that shares a name. */
      builtin: boolean;
      name: string;
      message: string;
      stack: string | undefined;
      fields: Record<string, unknown>;
      cause?: ThrownRecord;
      errors?: ThrownRecord[];
    };

type ErrorClass = new (message?: string) => Error;

const BUILTIN: Record<string, ErrorClass> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/** Stand-in classes for the worker's own error classes, one per class name. */
const standIns = new Map<string, ErrorClass>();

/**
 * The error a worker threw, rebuilt: an instance of the same built-in class, or of a
 * stand-in subclass of `Error` named like the worker's class (so `err.constructor.name`
 * and `err.name` read "ValidationError"), with its message, the worker's stack, its own
 * fields and its `cause`.
 */
export function rebuildThrown(record: ThrownRecord): unknown {
  if (record.kind === "value") return record.value;
  let error: Error;
  if (record.builtin && record.className === "AggregateError") {
    error = new AggregateError((record.errors ?? []).map(rebuildThrown), record.message);
  } else {
    const ErrorClass = record.builtin ? (BUILTIN[record.className] ?? Error) : standIn(record.className);
    error = new ErrorClass(record.message);
  }
  // A user class that left `name` alone reads "Error" in the worker; its class name says more.
  const name = record.builtin || record.name !== "Error" ? record.name : record.className;
  if (error.name !== name) Object.defineProperty(error, "name", { value: name, writable: true, configurable: true, enumerable: false });
  if (record.stack !== undefined) {
    // The stack's first line was written with the worker's name for the error; keep it in step.
    const stack = name !== record.name && record.stack.startsWith(`${record.name}:`) ? name + record.stack.slice(record.name.length) : record.stack;
    Object.defineProperty(error, "stack", { value: stack, writable: true, configurable: true, enumerable: false });
  }
  Object.assign(error, record.fields);
  if (record.cause !== undefined) {
    Object.defineProperty(error, "cause", { value: rebuildThrown(record.cause), writable: true, configurable: true, enumerable: false });
  }
  return error;
}

function standIn(className: string): ErrorClass {
  let ErrorClass = standIns.get(className);
  if (ErrorClass === undefined) {
    ErrorClass = class extends Error {};
    Object.defineProperty(ErrorClass, "name", { value: className });
    standIns.set(className, ErrorClass);
  }
  return ErrorClass;
}

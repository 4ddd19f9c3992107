/**
 * `Token.MISSING`: what a `ContextVar`'s token holds when the variable had no value before
 * the `set`. A leaf of its own, so that `types.ts` can name its type without importing the
 * context classes.
 */
export const MISSING: unique symbol = Symbol("missing");

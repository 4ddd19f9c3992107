/**
 * This package's version, as in its package.json. `pnpm version-packages` rewrites it after
 * `changeset version` (scripts/sync-versions.mjs) and `test/single-copy.test.ts` checks that
 * the two agree, so the duplicate-core error below always names the right versions.
 */
export const VERSION = "0.1.0";

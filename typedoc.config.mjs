// The API reference site: one site for every published package (found through the
// workspace list), with the guides in docs/. `pnpm docs:build` writes it to docs-site/
// (git-ignored); tests/docs-site.test.ts opens it in headless Chromium.
import { relative } from "node:path";
import { publishablePackages, root } from "./scripts/publishable.mjs";

/** @type {Partial<import("typedoc").TypeDocOptions>} */
const config = {
  name: "@loop",
  entryPointStrategy: "packages",
  entryPoints: publishablePackages().map((p) => relative(root, p.dir)),
  packageOptions: {
    entryPoints: ["src/index.ts"],
    tsconfig: "tsconfig.json",
    excludeInternal: true,
    excludePrivate: true,
    readme: "README.md",
  },
  out: "docs-site",
  // Where the site is published; the package READMEs link here (tests/readmes.test.ts).
  hostedBaseUrl: "https://loop-dev.github.io/loop/",
  readme: "README.md",
  // The guides, in reading order.
  projectDocuments: ["docs/tour.md", "docs/design.md", "docs/asyncio-differences.md", "docs/writing-a-poller.md"],
  excludeInternal: true,
  excludePrivate: true,
  searchInComments: false,
  validation: { notExported: false, invalidLink: true, notDocumented: false },
  treatWarningsAsErrors: false,
};
export default config;

// Bundles the CLI into dist/bundle/: Node spends most of a short run
// resolving and compiling ~150 separate ES modules, which one bundle (with
// a chunk per lazily loaded command) avoids. `tsc` still builds dist/src
// for the tests and benches that import modules one by one.
import { rmSync } from "node:fs";
import { build } from "esbuild";

// Chunk names carry a hash: clear out the last build's.
rmSync("dist/bundle", { recursive: true, force: true });

await build({
  entryPoints: ["src/cli/main.ts"],
  outdir: "dist/bundle",
  entryNames: "xepcheck",
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  // Chunks keep `--version` and the report renderers loading only what they use.
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // The CommonJS dependencies (ws, ajv, commander) call require(), which an ES module lacks.
  banner: { js: "import { createRequire as __xepcheckRequire } from 'node:module'; const require = __xepcheckRequire(import.meta.url);" },
  logLevel: "warning",
});

// Bundle the gallery (JS + CSS, PhotoSwipe included) into the Python package's static folder.
import { build } from "esbuild";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const outdir = join(here, "..", "src", "image_assistant", "web", "static", "dist");

rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
await build({
  entryPoints: { main: join(here, "src", "main.js") },
  bundle: true,
  format: "esm",
  target: ["chrome100", "firefox100", "safari15"],
  minify: true,
  sourcemap: true,
  legalComments: "linked",
  outdir,
  logLevel: "warning",
});
// The stamp tells scripts/install the build is newer than the sources.
writeFileSync(join(outdir, ".built"), new Date().toISOString() + "\n");

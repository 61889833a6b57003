/** The installed xepcheck's own folder (holds package.json, suites/, reports/), from src/ or dist/src/. */
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

let root: string | undefined;

export function projectRoot(): string {
  if (root) return root;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, "package.json")) || !existsSync(path.join(dir, "suites"))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error("cannot find xepcheck's own folder (package.json with suites/)");
    dir = up;
  }
  root = dir;
  return dir;
}

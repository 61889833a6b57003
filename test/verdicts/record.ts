/**
 * Records test/verdicts/reference.json from full runs against the four
 * reference targets (see reference-runs.ts), keeping its "changes":
 *
 *   npm run build && node dist/test/verdicts/record.js
 *
 * XEPCHECK_CLI=/path/to/other/dist/bundle/xepcheck.js records another build's
 * verdicts (to compare before and after a change). With --check it writes
 * nothing and prints the differences from the recorded reference.
 */
import { writeFileSync } from "node:fs";
import { startServer, type StartedServer } from "../servers/harness.js";
import { REFERENCE_FILE, differences, fullRunVerdicts, readReference, type VerdictMap } from "./reference-runs.js";
import { REFERENCE_TARGETS } from "./targets.js";

const check = process.argv.includes("--check");
const servers: StartedServer[] = [];
try {
  const targets: Record<string, VerdictMap> = {};
  for (const t of REFERENCE_TARGETS) {
    const server = await startServer(t.kind, { basePort: t.basePort, variant: t.variant });
    servers.push(server);
    targets[t.name] = await fullRunVerdicts(server);
    process.stderr.write(`${t.name}: ${Object.keys(targets[t.name]!).length} checks\n`);
  }
  const reference = readReferenceOrEmpty();
  if (check) {
    const lines = Object.entries(targets).flatMap(([name, verdicts]) => differences(name, reference.targets[name] ?? {}, verdicts));
    process.stdout.write(lines.length ? `${lines.join("\n")}\n` : "no differences\n");
  } else {
    writeFileSync(REFERENCE_FILE, `${JSON.stringify({ targets, changes: reference.changes }, null, 2)}\n`);
    process.stdout.write(`wrote ${REFERENCE_FILE}\n`);
  }
} finally {
  await Promise.all(servers.map((s) => s.stop()));
}

function readReferenceOrEmpty() {
  try {
    return readReference();
  } catch {
    return { targets: {}, changes: [] };
  }
}

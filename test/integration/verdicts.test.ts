/**
 * Verdicts are the product: a full run against each reference target must
 * give every check the verdict recorded in test/verdicts/reference.json.
 * A difference is either a fix, recorded there with its reason under
 * "changes" (node dist/test/verdicts/record.js rewrites the verdicts), or a bug.
 */
import { inject, afterAll, describe, expect, it } from "vitest";
import { startServer, type ServerInfo, type StartedServer } from "../servers/harness.js";
import { REFERENCE_TARGETS } from "../verdicts/targets.js";
import { differences, fullRunVerdicts, readReference } from "../verdicts/reference-runs.js";

const reference = readReference();
const provided = inject("servers");
const variants: StartedServer[] = [];
afterAll(async () => {
  await Promise.all(variants.map((s) => s.stop()));
});

describe("verdicts against the recorded reference", () => {
  it("every change in the reference says what changed and why", () => {
    for (const change of reference.changes) {
      expect(change.reason.length, `${change.target} ${change.check}`).toBeGreaterThan(20);
      expect(reference.targets[change.target]?.[change.check] ?? "absent", `${change.target} ${change.check}`).toBe(change.to);
    }
  });

  for (const target of REFERENCE_TARGETS) {
    it(`${target.name}: every check as recorded`, { timeout: 180_000 }, async (ctx) => {
      let server: ServerInfo | undefined;
      if (target.variant === "full") {
        server = provided[target.kind];
        if (!server) return ctx.skip(); // XEPCHECK_SERVERS left it out
      } else {
        const started = await startServer(target.kind, { basePort: target.basePort, variant: target.variant });
        variants.push(started);
        server = started;
      }
      const actual = await fullRunVerdicts(server);
      expect(differences(target.name, reference.targets[target.name] ?? {}, actual)).toEqual([]);
    });
  }
});

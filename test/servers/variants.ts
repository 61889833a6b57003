/**
 * Prosody variants for judging xepcheck itself: servers that lack features
 * ("minimal") or claim features they lack ("liar"). The harness builds them
 * (startServer("prosody", { basePort, variant })); this module says what a
 * correct xepcheck must report against each, and starts one by hand:
 *
 *   node dist/test/servers/variants.js start <minimal|liar|full> [--base-port N] [--dir D]
 *
 * prints the ServerInfo as one JSON line and runs until SIGINT/SIGTERM, like
 * test/servers/cli.js. Ports used by test/integration/variants.test.ts:
 * XEPCHECK_MINIMAL_BASE_PORT (default 25600) and XEPCHECK_LIAR_BASE_PORT (default 25700).
 *
 * minimal: test/servers/harness.ts MINIMAL_REMOVED_MODULES are not loaded; PEP, disco,
 *   roster, ping, time, version, register, offline and MUC (without MAM) remain.
 * liar: minimal + test/servers/prosody-modules/mod_xepcheck_liar.lua, which advertises
 *   on the domain urn:xmpp:carbons:2, urn:xmpp:blocking, vcard-temp, jabber:iq:private,
 *   urn:xmpp:extdisco:2; on the account urn:xmpp:mam:2 (+#extended); and after auth the
 *   stream features <csi xmlns='urn:xmpp:csi:0'/> and <sm xmlns='urn:xmpp:sm:3'/> —
 *   implementing none of them.
 */
import { fileURLToPath } from "node:url";
import type { Verdict } from "../../src/checks/types.js";
import { serverInfo, startServer, type ProsodyVariant, type StartedServer } from "./harness.js";

export interface SpecExpectation {
  verdict: Verdict;
  advertised?: boolean | null;
  works?: boolean | null;
}

/** Not offered at all: no advertisement, and the live scenario finds nothing. */
const NOT_OFFERED: SpecExpectation = { verdict: "na", advertised: false };
/** Advertised, but the live scenario shows it does not work. */
const BROKEN: SpecExpectation = { verdict: "fail", advertised: true, works: false };

/** What xepcheck must report per spec on the minimal variant (the contract). */
export const MINIMAL_EXPECTED: Record<string, SpecExpectation> = {
  // Its depth checks fail where Prosody's do (the README's RFC 6120 table); the suite scores RFC 6120 by its support checks.
  "RFC 6120": { verdict: "fail" },
  "XEP-0045": { verdict: "pass" },
  "XEP-0163": { verdict: "pass" },
  "XEP-0280": NOT_OFFERED,
  "XEP-0191": NOT_OFFERED,
  "XEP-0054": NOT_OFFERED,
  "XEP-0049": NOT_OFFERED,
  "XEP-0313": NOT_OFFERED,
  "XEP-0198": NOT_OFFERED,
  "XEP-0352": NOT_OFFERED,
  "XEP-0357": NOT_OFFERED,
  "XEP-0363": NOT_OFFERED,
  "XEP-0215": NOT_OFFERED,
};

/** The liar variant: the advertised-but-missing features fail, the rest as on minimal. */
export const LIAR_EXPECTED: Record<string, SpecExpectation> = {
  ...MINIMAL_EXPECTED,
  "XEP-0280": BROKEN,
  "XEP-0191": BROKEN,
  "XEP-0054": BROKEN,
  "XEP-0049": BROKEN,
  // Their checks are of level SHOULD or INFO: not met, they warn.
  "XEP-0215": { ...BROKEN, verdict: "warn" },
  "XEP-0313": BROKEN,
  "XEP-0198": BROKEN,
  "XEP-0352": { ...BROKEN, verdict: "warn" },
};

export const VARIANT_EXPECTED: Record<"minimal" | "liar", Record<string, SpecExpectation>> = {
  minimal: MINIMAL_EXPECTED,
  liar: LIAR_EXPECTED,
};

export const DEFAULT_VARIANT_BASE: Record<"minimal" | "liar", number> = { minimal: 25600, liar: 25700 };

// ---------------------------------------------------------------------------
// manual entry point

async function main(argv: string[]): Promise<void> {
  const [command, variant, ...rest] = argv;
  if (command !== "start" || !["minimal", "liar", "full"].includes(variant ?? "")) {
    process.stderr.write("usage: variants.js start <minimal|liar|full> [--base-port N] [--dir DIR]\n");
    process.exit(2);
  }
  let basePort = variant === "full" ? undefined : DEFAULT_VARIANT_BASE[variant as "minimal" | "liar"];
  let dir: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === "--base-port" && rest[i + 1]) basePort = Number(rest[++i]);
    else if (rest[i] === "--dir" && rest[i + 1]) dir = rest[++i];
    else {
      process.stderr.write(`unknown argument ${rest[i]}\n`);
      process.exit(2);
    }
  }
  let server: StartedServer | undefined;
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    await server?.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown());
  process.on("SIGTERM", () => void shutdown());
  server = await startServer("prosody", { basePort, dir, variant: variant as ProsodyVariant });
  if (stopping) {
    await server.stop();
    process.exit(0);
  }
  process.stdout.write(JSON.stringify(serverInfo(server)) + "\n");
  process.stderr.write(`prosody (${variant}) ready on 127.0.0.1:${server.ports.c2s} (pid ${server.pid}); Ctrl-C to stop\n`);
  setInterval(() => {}, 1 << 30);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}

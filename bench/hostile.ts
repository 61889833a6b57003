/**
 * bench/hostile: what a hostile server can cost us.
 *
 *  1. Peak RSS of a whole run (the built CLI, --only the probe's and four
 *     scenarios' checks) against a fake server that answers every session's
 *     disco#info with a stanza just under --max-stanza-size (1 MiB).
 *  2. The parse time of a 1 MiB stanza nested as deep as --max-xml-depth
 *     allows (100 levels, each element prefixed and declaring its prefix),
 *     fed in 64 KiB reads: median of 9.
 *
 *   npm run build && node dist/bench/hostile.js
 */
import { spawn } from "node:child_process";
import { StreamReader } from "../src/session/xml-reader.js";
import { DEFAULT_MAX_STANZA_BYTES } from "../src/session/transport.js";
import { DEFAULT_MAX_XML_DEPTH } from "../src/session/xml-reader.js";
import { startFakeXmpp } from "../test/fakes/fake-xmpp.js";
import { CLI } from "../test/cli.js";

async function peakRss(): Promise<{ rssMb: number; code: number | null; sessions: number }> {
  const fake = await startFakeXmpp({ discoInfoBytes: DEFAULT_MAX_STANZA_BYTES - 2048, upload: { maxFileSize: 1000, http: "store" } });
  try {
    // /usr/bin/time is not everywhere: the child reports its own peak RSS (process.resourceUsage) on exit.
    const child = spawn(
      process.execPath,
      ["--import", "data:text/javascript,process.on('exit',()=>process.stderr.write('\\nMAXRSS '+process.resourceUsage().maxRSS+'\\n'))", CLI,
        "run", "alice@fake.test", "--host", "127.0.0.1", "--port", String(fake.port), "--insecure", "--timeout", "5",
        "--only", "xep0030.*,xep0049.advertised,xep0092.*,xep0199.*,xep0363.*", "--json", "/dev/null", "--quiet"],
      { env: { ...process.env, XEPCHECK_PASSWORD: "secret" } },
    );
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    const kb = Number(/MAXRSS (\d+)/.exec(stderr)?.[1] ?? NaN);
    return { rssMb: kb / 1024, code, sessions: fake.connections };
  } finally {
    await fake.close();
  }
}

function deepParseMs(): { ms: number; bytes: number } {
  const header = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";
  const levels = DEFAULT_MAX_XML_DEPTH - 2; // below <message/>, above the <b/> filling the innermost
  const open = Array.from({ length: levels }, (_, i) => `<p${i}:x xmlns:p${i}='urn:deep:${i}' p${i}:a='v'>`).join("");
  const close = Array.from({ length: levels }, (_, i) => `</p${levels - 1 - i}:x>`).join("");
  const fill = "<b>text &amp; more</b>";
  const room = DEFAULT_MAX_STANZA_BYTES - 200 - Buffer.byteLength(open + close);
  const stanza = `<message>${open}${fill.repeat(Math.floor(room / fill.length))}${close}</message>`;
  const bytes = Buffer.from(header + stanza);
  const times: number[] = [];
  for (let run = 0; run < 9; run++) {
    let got = 0;
    const reader = new StreamReader(
      { maxStanzaBytes: DEFAULT_MAX_STANZA_BYTES, maxDepth: DEFAULT_MAX_XML_DEPTH },
      { header() {}, element: () => got++, end() {}, error: (e) => { throw e; } },
    );
    const t0 = performance.now();
    for (let i = 0; i < bytes.length; i += 65536) reader.write(bytes.subarray(i, i + 65536));
    times.push(performance.now() - t0);
    if (got !== 1) throw new Error("the stanza was not read");
  }
  times.sort((a, b) => a - b);
  return { ms: times[4]!, bytes: Buffer.byteLength(stanza) };
}

const parse = deepParseMs();
const rss = await peakRss();
process.stdout.write(
  [
    "| measurement | result | bound |",
    "|---|---:|---:|",
    `| peak RSS of a run whose ${rss.sessions} sessions each get a ${DEFAULT_MAX_STANZA_BYTES - 2048}-byte disco#info (exit ${rss.code}) | ${rss.rssMb.toFixed(0)} MB | 200 MB |`,
    `| parse of a ${parse.bytes}-byte stanza nested ${DEFAULT_MAX_XML_DEPTH} deep, prefixed, 64 KiB reads (median of 9) | ${parse.ms.toFixed(1)} ms | 500 ms |`,
    "",
  ].join("\n"),
);

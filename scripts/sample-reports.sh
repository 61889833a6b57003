#!/usr/bin/env bash
# Regenerates reports/samples/ from real runs: starts the test harness's
# Prosody 13 and ejabberd 24.12 (throw-away configs on loopback, as the tests
# do), runs xepcheck against both (full runs, live scenarios, a second
# account), and writes every rendering of the result:
#
#   report.json          the JSON report of both servers
#   report.html          the single-file HTML report (opens on the matrix)
#   junit.xml            JUnit XML
#   summary.md           the Markdown summary
#   badge-<server>.svg   the SVG badge sheet of each server
#   report-*.png         screenshots of the HTML in Debian's Chromium (phone and desktop, light and dark)
#
# Needs the servers (bash scripts/setup.sh) and, for the screenshots,
# /usr/bin/chromium (apt-get install chromium); without it they are left out.
# Usage: bash scripts/sample-reports.sh [BASE_PORT]   (default 27000: Prosody there, ejabberd at +100)
set -euo pipefail
cd "$(dirname "$0")/.."

base="${1:-27000}"
out=reports/samples
work="$(mktemp -d "${TMPDIR:-/tmp}/xepcheck-samples-XXXXXX")"
xepcheck() { node dist/bundle/xepcheck.js "$@"; }
declare -A pids=()

stop_servers() {
  for kind in "${!pids[@]}"; do
    # cli.js stops its server (the whole process group) on SIGTERM, then exits.
    kill -TERM "${pids[$kind]}" 2>/dev/null || true
    wait "${pids[$kind]}" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap stop_servers EXIT

npm run build --silent

# Starts a test server in the background; its ServerInfo (ports, accounts, CA) arrives as one JSON line.
start() {
  local kind="$1" port="$2"
  node dist/test/servers/cli.js start "$kind" --base-port "$port" >"$work/$kind.info" 2>"$work/$kind.log" &
  pids[$kind]=$!
}

wait_ready() {
  local kind="$1"
  for _ in $(seq 1 180); do
    if [ -s "$work/$kind.info" ]; then return 0; fi
    if ! kill -0 "${pids[$kind]}" 2>/dev/null; then
      echo "sample-reports: $kind did not start:" >&2
      cat "$work/$kind.log" >&2
      exit 1
    fi
    sleep 1
  done
  echo "sample-reports: $kind not ready after 180 s (log: $work/$kind.log)" >&2
  exit 1
}

# One field of a server's ServerInfo (a dotted path such as ports.c2s or accounts.0.jid).
info() {
  node -e 'const v = process.argv[2].split(".").reduce((o, k) => o[k], JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))); process.stdout.write(String(v));' "$work/$1.info" "$2"
}

start prosody "$base"
start ejabberd "$((base + 100))"
wait_ready prosody
wait_ready ejabberd

# Both servers in one targets file; passwords only in the environment.
node -e '
  const fs = require("fs");
  const [work] = process.argv.slice(1);
  const targets = ["prosody", "ejabberd"].map((kind) => {
    const s = JSON.parse(fs.readFileSync(`${work}/${kind}.info`, "utf8"));
    return { name: s.domain, jid: s.accounts[0].jid, passwordEnv: `PW_${kind.toUpperCase()}_0`,
             peer: { jid: s.accounts[1].jid, passwordEnv: `PW_${kind.toUpperCase()}_1` },
             host: "127.0.0.1", port: s.ports.c2s, ca: s.caFile, directTlsPort: s.ports.directTls,
             component: { domain: s.component.domain, port: s.ports.component, secretEnv: `COMPONENT_${kind.toUpperCase()}` } };
  });
  fs.writeFileSync(`${work}/servers.json`, JSON.stringify({ parallel: 2, targets }, null, 2));
' "$work"
export PW_PROSODY_0="$(info prosody accounts.0.password)" PW_PROSODY_1="$(info prosody accounts.1.password)"
export PW_EJABBERD_0="$(info ejabberd accounts.0.password)" PW_EJABBERD_1="$(info ejabberd accounts.1.password)"
export COMPONENT_PROSODY="$(info prosody component.secret)" COMPONENT_EJABBERD="$(info ejabberd component.secret)"

mkdir -p "$out"
rm -f "$out"/report.json "$out"/report.html "$out"/junit.xml "$out"/summary.md "$out"/badge-*.svg "$out"/report-*.png

xepcheck run --targets "$work/servers.json" --json "$out/report.json" --quiet >"$work/run.out"
xepcheck report "$out/report.json" --html "$out/report.html" --junit "$out/junit.xml" --markdown "$out/summary.md" --badge "$out/badge-{target}.svg"

# Screenshots of the HTML as a reader sees it, JavaScript off (the verdicts need none).
if [ -x /usr/bin/chromium ]; then
  node --input-type=module -e '
    import { chromium } from "playwright-core";
    import path from "node:path";
    import { readReportFile } from "./dist/src/report/read.js";
    import { anchor, targetIds } from "./dist/src/report/html/markup.js";
    const [json, html, dir] = process.argv.slice(1);
    // The phone screenshot opens on the first failing check.
    const report = readReportFile(json);
    const ids = targetIds(report.targets.map((t) => t.name));
    const failing = report.targets.flatMap((t, i) => t.checks.filter((c) => c.verdict === "fail").map((c) => anchor(ids[i], c.id)))[0] ?? "xc-matrix";
    const browser = await chromium.launch({ executablePath: "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"] });
    const shots = [
      ["report-desktop.png", { width: 1280, height: 900 }, "light", "xc-matrix"],
      ["report-phone.png", { width: 375, height: 812 }, "light", "xc-matrix"],
      ["report-phone-dark-failure.png", { width: 375, height: 812 }, "dark", failing],
    ];
    for (const [name, viewport, colorScheme, hash] of shots) {
      const context = await browser.newContext({ viewport, colorScheme, javaScriptEnabled: false });
      const page = await context.newPage();
      await page.goto(`file://${path.resolve(html)}#${hash}`);
      await page.screenshot({ path: path.join(dir, name) });
      await context.close();
    }
    await browser.close();
  ' "$out/report.json" "$out/report.html" "$out"
else
  echo "sample-reports: /usr/bin/chromium not found: no screenshots" >&2
fi

ls -l "$out"

#!/usr/bin/env bash
# Quick start, line 2: install everything and run the whole test suite
# (unit tests, fake-server failure modes, integration tests against real
# Prosody 13 and ejabberd 24.12 started on loopback).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

servers() { { pgrep -f 'prosody --config /tmp/xepcheck|beam.smp.*xepcheck' || true; } | sort; }
before=$(servers)
results=$(mktemp)
status=0
npx vitest run --reporter=default --reporter=json --outputFile="$results" || status=$?
# A plain closing line that any CI reader understands.
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
  if (r.numTotalTests === 0) { console.error("no test ran"); process.exit(1); }
' "$results" || status=1
rm -f "$results"
# Servers this run started and did not stop (ones running before are not ours).
left=$(comm -13 <(echo "$before") <(servers))
if [ -n "$left" ]; then
  echo "test: server processes were left behind:" >&2
  for pid in $left; do ps -o pid=,args= -p "$pid" >&2 || true; done
  status=1
fi
exit $status

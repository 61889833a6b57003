#!/usr/bin/env bash
# Installs what xepcheck and its tests need on Debian bookworm, as root:
# the real XMPP servers (from bookworm-backports) and the npm dependencies,
# then builds. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null || ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)'; then
  echo "setup: xepcheck needs Node.js 20 or newer on PATH (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 2
fi

bash test/servers/install.sh
# npm ci rejects this lockfile (npm 11 records only this platform's optional
# packages); npm install keeps the locked versions all the same.
npm install --no-audit --no-fund
npm run build

#!/usr/bin/env bash
# Quick start, line 1: install everything, start a local Prosody, run xepcheck against it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
node dist/scripts/demo.js "${1:-prosody}"

#!/usr/bin/env bash
# Installs the real XMPP servers the integration tests run against:
# Prosody 13 (+ prosody-modules) and ejabberd 24.12 from bookworm-backports.
# Idempotent; run as root on Debian bookworm.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: must run as root (it uses apt-get)" >&2
  exit 2
fi

src=/etc/apt/sources.list.d/debian.sources
bp=/etc/apt/sources.list.d/xepcheck-backports.sources
if [ ! -f "$bp" ]; then
  if [ ! -f "$src" ]; then
    echo "install.sh: $src not found; cannot derive the backports source" >&2
    exit 2
  fi
  # Keep the first stanza of the machine's own source (its mirror and key),
  # only switching the suite, so no host name is written here.
  awk 'BEGIN{RS=""; ORS="\n\n"} NR==1{print; exit}' "$src" \
    | sed -E 's/^Suites:.*/Suites: bookworm-backports/' > "$bp"
fi

# dnsmasq-base: the dnsmasq binary alone, for the DNS tests (test/servers/dns.ts
# runs its own instance on a loopback port). Unlike the `dnsmasq` package it
# brings no system service, so nothing is started that would need stopping.
# chromium: Debian's browser, driven headless by playwright-core to render the
# HTML report in a test (playwright never downloads a browser of its own here).
packages=(prosody prosody-modules lua-unbound lua-sec lua-event lua-dbi-sqlite3 ejabberd erlang-p1-pam openssl ca-certificates dnsmasq-base chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q -t bookworm-backports --no-install-recommends "${packages[@]}"
fi

# The packages start system services; the tests run their own instances.
for s in prosody ejabberd; do
  systemctl stop "$s" >/dev/null 2>&1 || true
  service "$s" stop >/dev/null 2>&1 || true
done
# Any system instance left (no systemd here) goes too; our own test servers
# (configs under a xepcheck- directory) are left alone.
for pid in $(pgrep -f 'bin/prosody|beam.smp.*ejabberd' || true); do
  grep -qa 'xepcheck' "/proc/$pid/cmdline" 2>/dev/null || kill "$pid" 2>/dev/null || true
done
# The ejabberd package's postinst leaves an epmd daemon behind; the test
# servers run without epmd (ERL_DIST_PORT), so nothing needs it.
pkill -x epmd >/dev/null 2>&1 || true

prosody --version 2>/dev/null | head -1 || true
dpkg-query -W -f='ejabberd ${Version}\n' ejabberd
/usr/sbin/dnsmasq --version 2>/dev/null | head -1 || true

#!/usr/bin/env bash
# Debian packages the project needs beyond Python. Installs only what is missing, so
# `make install` stays quick; without root or apt it says what to install instead of failing.
#
#   (no argument)  for the tests: PostgreSQL (the ledger tests run on a real server) and
#                  GDAL's command-line tools (clients read assets through /vsicurl/)
#   conformance    also Chromium and a font (stac-browser is checked in it, headless), and when
#                  there is no Node.js, Debian's nodejs and npm (to build stac-browser)
set -euo pipefail

missing=()
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing+=(postgresql)
command -v gdalinfo >/dev/null 2>&1 || missing+=(gdal-bin)
if [ "${1:-}" = "conformance" ]; then
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  # Text in the screenshots needs a font; fonts-liberation is only a recommendation.
  fc-list 2>/dev/null | grep -qi liberation || missing+=(fonts-liberation)
  command -v node >/dev/null 2>&1 || missing+=(nodejs)
  command -v npm >/dev/null 2>&1 || missing+=(npm)
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  if [ "${1:-}" = "conformance" ]; then
    echo "error: the conformance run needs these Debian packages: ${missing[*]}" >&2
    exit 1
  fi
  echo "note: install these Debian packages for the full test suite: ${missing[*]}" >&2
  exit 0
fi
echo "installing Debian packages: ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

#!/usr/bin/env bash
# Debian packages the project needs beyond Python: PostgreSQL (the ledger tests run on a
# real server) and GDAL's command-line tools (clients read assets through /vsicurl/). Installs only what is missing, so `make install` stays quick; without
# root or apt it says what to install instead of failing.
set -euo pipefail

missing=()
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing+=(postgresql)
command -v gdalinfo >/dev/null 2>&1 || missing+=(gdal-bin)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "note: install these Debian packages for the full test suite: ${missing[*]}" >&2
  exit 0
fi
echo "installing Debian packages: ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

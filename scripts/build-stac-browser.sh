#!/usr/bin/env bash
# Builds stac-browser into browser/dist, which the bridge serves at /browser/.
#
# Versions are pinned by browser/package.json and browser/package-lock.json (npm ci); the
# ol-stac override is what makes stac-browser 4.0.1 build at all. As stac-browser's own
# Docker build does, index.html is made to load a runtime config.js, which the bridge writes
# per request (its own root URL, the API-key header).
#
# Without Node.js the bridge still runs and /browser/ says how to enable it, so this exits 0
# with a note, unless BROWSER_REQUIRED=1 (the conformance run needs the browser).
set -euo pipefail
cd "$(dirname "$0")/../browser"

missing() {
  if [ "${BROWSER_REQUIRED:-0}" = "1" ]; then
    echo "error: $1; stac-browser cannot be built" >&2
    exit 1
  fi
  echo "note: $1; skipping the stac-browser build (/browser/ will say how to enable it)" >&2
  exit 0
}

command -v node >/dev/null 2>&1 || missing "Node.js is not installed"
command -v npm >/dev/null 2>&1 || missing "npm is not installed"
major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$major" -ge 18 ] || missing "Node.js $(node --version) is too old (18 or newer needed)"

echo "building stac-browser (npm ci + vue-cli build, about 2 minutes) ..."
# One retry: a registry hiccup should not fail `make install`.
npm ci --no-audit --no-fund --loglevel=error || {
  echo "npm ci failed; retrying once in 10 s" >&2
  sleep 10
  npm ci --no-audit --no-fund --loglevel=error
}

# stac-browser's sources refer to ../node_modules of their own project root: build a copy
# whose node_modules is this folder's.
rm -rf build dist.tmp
cp -r node_modules/@radiantearth/stac-browser build
ln -s ../node_modules build/node_modules
placeholder='<!-- <script defer="defer" src="/config.js"></script> -->'
tag='<script defer="defer" src="/browser/config.js"></script>'
grep -qF "$placeholder" build/public/index.html || {
  echo "error: stac-browser's index.html has no config.js placeholder" >&2
  exit 1
}
sed -i "s|$placeholder|$tag|" build/public/index.html
(
  cd build
  SB_historyMode=hash SB_pathPrefix=/browser/ \
    node_modules/.bin/vue-cli-service build --noSourceMaps --dest ../dist.tmp >../build.log 2>&1
) || {
  tail -40 build.log >&2
  echo "error: the stac-browser build failed (full log: browser/build.log)" >&2
  exit 1
}
rm -rf dist build
mv dist.tmp dist
echo "stac-browser built into browser/dist ($(du -sh dist | cut -f1))"

#!/usr/bin/env bash
# Builds the abuse desk's static files: `npm ci` (only when package-lock.json changed since the last
# install) and a copy of web/src plus uPlot's dist files into the output directory (default
# web/dist), which `portwarden serve` serves under /desk/. No bundler: the pages are plain ES modules.
# After one `npm ci` everything works offline; nothing is loaded from a CDN (the CSP is 'self').
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/dist}
cd "$here"

stamp=node_modules/.portwarden-lock
if [[ ! -f $stamp ]] || ! cmp -s package-lock.json "$stamp"; then
  # --ignore-scripts: no install hooks run; uPlot has none, and none are needed to copy dist files.
  npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
  cp package-lock.json "$stamp"
fi

tmp="$out.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp/vendor"
cp -R src/. "$tmp/"
cp node_modules/uplot/dist/uPlot.esm.js node_modules/uplot/dist/uPlot.min.css "$tmp/vendor/"
cp node_modules/uplot/LICENSE "$tmp/vendor/uPlot.LICENSE.txt"
rm -rf "$out"
mv "$tmp" "$out"
echo "web: built $(find "$out" -type f | wc -l) files into $out"

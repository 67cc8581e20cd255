#!/usr/bin/env bash
# End-to-end tests of the console: builds the binary, installs
# playwright-core (npm ci; no browser download) and runs the flows in
# Debian's Chromium. SCREENSHOTS=1 bash e2e/run.sh rewrites docs/screenshots/.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "e2e: Chromium missing: apt-get install -y chromium" >&2
  exit 1
fi
mkdir -p .bin
(cd .. && CGO_ENABLED=0 go build -o e2e/.bin/aftersale ./cmd/aftersale)
[ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund
if [ "${SCREENSHOTS:-}" = 1 ]; then npm run -s screenshots; else npm test -s; fi

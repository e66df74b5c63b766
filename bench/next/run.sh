#!/usr/bin/env bash
# Installs the pinned @logto/next (package-lock.json) into bench/next/node_modules
# and measures it on bench/testdata/reference-session.json. Extra arguments go to
# bench.mjs (--iterations=N --warmup=N --session=PATH).
# stdout: one JSON line {"cookieBytes":..,"nsPerOp":..,"allocs":null,...}
set -euo pipefail
cd "$(dirname "$0")"
command -v node >/dev/null || { echo "run.sh: node (>= 20) is required" >&2; exit 1; }
# npm ci is skipped when node_modules matches the lock file already.
if ! cmp -s package-lock.json node_modules/.package-lock.json.ci 2>/dev/null; then
  npm ci --no-audit --no-fund >&2
  cp package-lock.json node_modules/.package-lock.json.ci
fi
exec node bench.mjs "$@"

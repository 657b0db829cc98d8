#!/bin/sh
# ensure-installed.sh: the package's dependencies and its addon, as the
# tests need them: `npm ci` (from the lockfile, the npm registry only)
# when node_modules is missing or older than package-lock.json, and the
# addon built against the installed Node's headers (--nodedir=/usr, in
# .npmrc: nothing downloaded). Quick when nothing changed.
set -eu
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
    touch node_modules/.package-lock.json
fi
if [ ! -f build/Release/corral_handoff.node ] || [ src/handoff.c -nt build/Release/corral_handoff.node ] \
   || [ ../../proto/handoff_wire.h -nt build/Release/corral_handoff.node ]; then
    npm run --silent build:addon
fi
node scripts/gen-proto.js --check

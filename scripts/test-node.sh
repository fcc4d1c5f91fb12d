#!/usr/bin/env bash
# Builds the npm package (native addon + TypeScript facade), packs it, installs the tarball into a
# fresh temporary project and runs the package's suites there: `node --test` smoke tests under
# Node, and the store scenarios under Bun. Called by scripts/test.sh. Each step has a deadline
# (minutes, below); Bun has 30 s per test.
set -euo pipefail
cd "$(dirname "$0")/.."

# deadline NAME MINUTES COMMAND…: the step fails, naming itself, past its limit (scripts/deadline.sh).
source scripts/deadline.sh

deadline "npm: build the package" 35 npm run build >/dev/null
# The shared-directory scenario starts the server binary too.
if [ -z "${MESSAGEDB_BIN:-}" ]; then
    deadline "npm: build the server" 15 cargo build -p messagedb-server --locked
    export MESSAGEDB_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/messagedb"
fi
work=$(mktemp -d /tmp/messagedb-npm.XXXXXX)
trap 'rm -rf "$work"' EXIT
tarball=$(deadline "npm pack" 5 npm pack --silent --pack-destination "$work" | tail -n 1)
echo "packed $tarball ($(du -h "$work/$tarball" | cut -f1))"

# The project stays for the docs step when scripts/test.sh gives a place for it (MESSAGEDB_ENV_DIR).
project="${MESSAGEDB_ENV_DIR:+$MESSAGEDB_ENV_DIR/js}"
project="${project:-$work/project}"
rm -rf "$project"
mkdir -p "$project"
cp bindings-node/test/*.test.* "$project/"
if [ -d test/store ]; then cp -r test/store "$project/store"; cp test/harness.ts "$project/"; fi
bun_version=$(node -p "require('./package.json').devDependencies.bun")
(
    cd "$project"
    npm init -y >/dev/null
    deadline "npm: install the packed package" 10 \
        npm install --silent --no-audit --no-fund "$work/$tarball" "bun@$bun_version"
)
echo "== node --test (installed package, Node $(node --version))"
(cd "$project" && deadline "npm: node --test" 10 node --test ./*.test.mjs ./*.test.cjs)
if [ -d "$project/store" ]; then
    echo "== bun test (installed package, Bun $("$project/node_modules/.bin/bun" --version))"
    (cd "$project" && deadline "npm: bun test" 15 ./node_modules/.bin/bun test --timeout 30000 ./store)
fi

#!/usr/bin/env bash
# Builds the npm package (native addon + TypeScript facade), packs it, installs the tarball into a
# fresh temporary project and runs the package's suites there: `node --test` smoke tests under
# Node, and the store scenarios under Bun. Called by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

npm run build >/dev/null
# The shared-directory scenario starts the server binary too.
if [ -z "${MESSAGEDB_BIN:-}" ]; then
    cargo build -p messagedb-server --locked
    export MESSAGEDB_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/messagedb"
fi
work=$(mktemp -d /tmp/messagedb-npm.XXXXXX)
trap 'rm -rf "$work"' EXIT
tarball=$(npm pack --silent --pack-destination "$work" | tail -n 1)
echo "packed $tarball ($(du -h "$work/$tarball" | cut -f1))"

project="$work/project"
mkdir -p "$project"
cp bindings-node/test/*.test.* "$project/"
if [ -d test/store ]; then cp -r test/store "$project/store"; cp test/harness.ts "$project/"; fi
bun_version=$(node -p "require('./package.json').devDependencies.bun")
(
    cd "$project"
    npm init -y >/dev/null
    npm install --silent --no-audit --no-fund "$work/$tarball" "bun@$bun_version"
)
echo "== node --test (installed package, Node $(node --version))"
(cd "$project" && node --test ./*.test.mjs ./*.test.cjs)
if [ -d "$project/store" ]; then
    echo "== bun test (installed package, Bun $("$project/node_modules/.bin/bun" --version))"
    (cd "$project" && ./node_modules/.bin/bun test --timeout 30000 ./store)
fi

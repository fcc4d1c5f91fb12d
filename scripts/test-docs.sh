#!/usr/bin/env bash
# Checks the documentation and runs the examples (docs/checking.md): `cargo doc` with warnings
# denied, the Rust examples built, then scripts/check-docs.py — links and anchors, every runnable
# block of README.md and docs/ against its output block, included code against its file, the JS,
# Python and HTTP references against what the packages export and the server dispatches, and every
# example in Rust, Bun and Python against its expected.txt. Called by scripts/test.sh.
#
#   scripts/test-docs.sh [check-docs.py args…]
#
# It needs the packed npm package installed in a project and the wheel installed in a venv, in
# $MESSAGEDB_ENV_DIR/js and $MESSAGEDB_ENV_DIR/venv: scripts/test.sh passes the ones its npm and
# Python steps made. Run alone, it makes them first by running those steps (their suites too).
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/messagedb/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

# deadline NAME MINUTES COMMAND…: the step fails, naming itself, past its limit (scripts/deadline.sh).
source scripts/deadline.sh

if [ -z "${MESSAGEDB_ENV_DIR:-}" ]; then
    export MESSAGEDB_ENV_DIR=$HOME/.cache/messagedb/docs-env
    mkdir -p "$MESSAGEDB_ENV_DIR"
    [ -x "$MESSAGEDB_ENV_DIR/js/node_modules/.bin/bun" ] || bash scripts/test-node.sh
    [ -x "$MESSAGEDB_ENV_DIR/venv/bin/python" ] || bash scripts/test-python.sh
fi
export MESSAGEDB_JS_PROJECT="$MESSAGEDB_ENV_DIR/js" MESSAGEDB_PYTHON="$MESSAGEDB_ENV_DIR/venv/bin/python"

# Pages that deploy on PostgreSQL get a fresh database on this server ($DATABASE_URL).
if [ -z "${MESSAGEDB_TEST_PG_URL:-}" ]; then
    pg_env=$(deadline "docs: throwaway PostgreSQL" 10 scripts/pg.sh start)
    eval "$pg_env"
    trap 'timeout 2m scripts/pg.sh stop "$MESSAGEDB_TEST_PG_DIR"' EXIT
fi

echo "== cargo doc (warnings denied)"
deadline "docs: cargo doc" 15 env RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked

echo "== the Rust examples and the server"
deadline "docs: build the examples" 15 cargo build -p messagedb-examples -p messagedb-server --examples --bins --locked
export MESSAGEDB_BIN="$CARGO_TARGET_DIR/debug/messagedb"

echo "== docs: links, runnable blocks, included code, API references, examples"
deadline "docs: check-docs.py" 20 python3 scripts/check-docs.py "$@"

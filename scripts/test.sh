#!/usr/bin/env bash
# Runs every test suite of the project, installing what it needs first. Used by CI (.ci/run).
#
#   scripts/test.sh          format check, clippy, and every test
#
# The cargo target directory lives outside the clone (reused between runs and clones) unless
# CARGO_TARGET_DIR is set.
#
# No step can hang: each runs under a deadline (minutes, below) and fails past it, naming itself.
# Within the suites, Bun has 30 s per test and pytest 120 s per test (pyproject.toml).
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/messagedb/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

step() { printf '\n== %s\n' "$*"; }

# deadline NAME MINUTES COMMAND…: the step fails, naming itself, past its limit (scripts/deadline.sh).
source scripts/deadline.sh

# Every suite's output goes through this log too, so the closing line can add up all of them.
log=$(mktemp)
# The npm and Python steps leave their installed package here for the docs step.
export MESSAGEDB_ENV_DIR=$(mktemp -d)
trap 'rm -f "$log"; rm -rf "$MESSAGEDB_ENV_DIR"' EXIT

command -v cargo >/dev/null || { echo "cargo is required (install Rust with rustup)" >&2; exit 1; }
rustup component list --installed 2>/dev/null | grep -q '^clippy' \
    || deadline "rustup: clippy and rustfmt" 10 rustup component add clippy rustfmt

step "format"
deadline "format" 5 cargo fmt --all -- --check

step "clippy"
deadline "clippy" 30 cargo clippy --workspace --all-targets --locked -- -D warnings

# PostgreSQL: the given server, or a throwaway cluster for this run (never skipped).
if [ -z "${MESSAGEDB_TEST_PG_URL:-}" ]; then
    step "throwaway PostgreSQL"
    pg_env=$(deadline "throwaway PostgreSQL" 10 scripts/pg.sh start)
    eval "$pg_env"
    trap 'timeout 2m scripts/pg.sh stop "$MESSAGEDB_TEST_PG_DIR"; rm -f "$log"; rm -rf "$MESSAGEDB_ENV_DIR"' EXIT
fi
echo "PostgreSQL for the tests: $MESSAGEDB_TEST_PG_URL"

step "rust tests (conformance suite on SQLite in memory, SQLite on disk and PostgreSQL)"
deadline "rust tests" 40 cargo test --workspace --locked 2>&1 | tee -a "$log"

step "JavaScript tooling (Bun, @napi-rs/cli, TypeScript from npm)"
command -v node >/dev/null \
    || deadline "apt-get: Node.js" 15 sh -c 'apt-get update -qq && apt-get install -y -qq nodejs npm'
deadline "npm ci" 10 npm ci --no-audit --no-fund --loglevel=error

step "server black-box suite (Bun, real HTTP against the messagedb binary)"
deadline "build the server" 15 cargo build -p messagedb-server --locked
export MESSAGEDB_BIN="$CARGO_TARGET_DIR/debug/messagedb"
(cd test && deadline "server black-box suite" 15 ../node_modules/.bin/bun test --timeout 30000 ./*.test.ts) 2>&1 \
    | tee -a "$log"

step "npm package: build, pack, install into a fresh project, test under Node and Bun"
deadline "npm package" 50 bash scripts/test-node.sh 2>&1 | tee -a "$log"

step "Python package: build the wheel, install it into a fresh venv, mypy, pytest"
deadline "Python package" 60 bash scripts/test-python.sh 2>&1 | tee -a "$log"

step "docs and examples: cargo doc, links, runnable blocks, API references, examples in Rust, Bun, Python"
deadline "docs and examples" 40 bash scripts/test-docs.sh 2>&1 | tee -a "$log"

# One closing line for the whole run.
# cargo: "test result: ok. N passed; M failed"; bun: " N pass" / " M fail"; node --test: "# pass N" / "# fail M";
# pytest: "=== N passed, M failed … ===".
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     /^ *[0-9]+ pass$/ { p += $1 } /^ *[0-9]+ fail$/ { f += $1 }
     /^# pass [0-9]+$/ { p += $3 } /^# fail [0-9]+$/ { f += $3 }
     /^=+ .*(passed|failed).* in [0-9.]+s/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^(failed|errors?)/) f += $i } }
     END { printf "\nall suites: %d passed, %d failed\n", p, f }' "$log"

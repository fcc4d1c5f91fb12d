#!/usr/bin/env bash
# Builds the package in release mode into a benchmark venv (with message-db-py) and runs bench.py
# against MESSAGEDB_TEST_PG_URL, or a throwaway PostgreSQL cluster when it is not set.
#
#   bindings-python/bench/run.sh [bench.py args…]
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/messagedb/target}"
python=${PYTHON:-python3}
venv=${MESSAGEDB_BENCH_VENV:-$HOME/.cache/messagedb/bench-venv}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

[ -x "$venv/bin/maturin" ] || { "$python" -m venv "$venv"; "$venv/bin/python" -m pip install -q "maturin>=1.9.4,<2"; }
"$venv/bin/maturin" build --release --strip --interpreter "$venv/bin/python" --out "$work"
"$venv/bin/python" -m pip install -q --force-reinstall "$work"/messagedb-*.whl
# message-db-py asks for psycopg2 (built from source); the binary wheel provides the same module.
"$venv/bin/python" -m pip install -q psycopg2-binary
"$venv/bin/python" -m pip install -q --no-deps message-db-py

if [ -z "${MESSAGEDB_TEST_PG_URL:-}" ]; then
    eval "$(scripts/pg.sh start)"
    trap 'scripts/pg.sh stop "$MESSAGEDB_TEST_PG_DIR"; rm -rf "$work"' EXIT
fi
"$venv/bin/python" bindings-python/bench/bench.py --pg-url "$MESSAGEDB_TEST_PG_URL" "$@"

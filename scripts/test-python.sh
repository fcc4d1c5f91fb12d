#!/usr/bin/env bash
# Tests the Python package `messagedb` the way a user gets it: builds the wheel with maturin (in the
# repo's .venv), installs it into a fresh venv, type-checks the package's stubs and the tests with
# mypy (and the stubs against the built module with stubtest), checks that the sdist builds and
# installs, and runs pytest there on SQLite and PostgreSQL. Installs everything it needs from PyPI;
# needs Python >= 3.9 (PYTHON, default python3).
#
#   scripts/test-python.sh [pytest args…]
#
# PostgreSQL: MESSAGEDB_TEST_PG_URL names the server. When it is not set, a throwaway cluster is
# started (scripts/pg.sh), except under CI=true, where the PostgreSQL tests then fail.
#
# No step can hang: each runs under a deadline (minutes, below) and fails past it, naming itself;
# pytest has 120 s per test besides (pytest-timeout, pyproject.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/messagedb/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
python=${PYTHON:-python3}

step() { printf '\n== %s\n' "$*"; }

# deadline NAME MINUTES COMMAND…: the step fails, naming itself, past its limit (scripts/deadline.sh).
source scripts/deadline.sh

work=$(mktemp -d)
cleanup() { rm -rf "$work"; }
trap cleanup EXIT

step "python: build the wheel (maturin, debug profile)"
if [ ! -x .venv/bin/maturin ]; then
    "$python" -m venv .venv
    deadline "python: pip" 10 .venv/bin/python -m pip install -q --upgrade pip
    deadline "python: install maturin" 10 .venv/bin/python -m pip install -q "maturin>=1.9.4,<2"
fi
deadline "python: build the wheel" 30 \
    .venv/bin/maturin build --profile dev --strip --interpreter "$root/.venv/bin/python" --out "$work/dist"
wheel=$(ls "$work"/dist/messagedb-*.whl)

step "python: the server binary for the interop tests"
deadline "python: build the server" 15 cargo build -p messagedb-server --locked
export MESSAGEDB_BIN="$CARGO_TARGET_DIR/debug/messagedb"

step "python: a fresh venv with the wheel"
# The venv stays for the docs step when scripts/test.sh gives a place for it (MESSAGEDB_ENV_DIR).
venv="${MESSAGEDB_ENV_DIR:+$MESSAGEDB_ENV_DIR/venv}"
venv="${venv:-$work/venv}"
rm -rf "$venv"
"$python" -m venv "$venv"
deadline "python: pip" 10 "$venv/bin/python" -m pip install -q --upgrade pip
deadline "python: install the wheel" 10 "$venv/bin/python" -m pip install -q "$wheel[test]"

step "python: mypy (stubs, package, tests) and stubtest (stubs against the built module)"
deadline "python: mypy" 10 "$venv/bin/python" -m mypy --config-file pyproject.toml
(cd "$work" && deadline "python: stubtest" 10 \
    "$venv/bin/python" -m mypy.stubtest messagedb --mypy-config-file "$root/pyproject.toml")

if [ -z "${MESSAGEDB_TEST_PG_URL:-}" ] && [ "${CI:-}" != "true" ]; then
    step "python: throwaway PostgreSQL"
    pg_env=$(deadline "python: throwaway PostgreSQL" 10 scripts/pg.sh start)
    eval "$pg_env"
    trap 'timeout 2m scripts/pg.sh stop "$MESSAGEDB_TEST_PG_DIR"; cleanup' EXIT
fi
echo "PostgreSQL for the tests: ${MESSAGEDB_TEST_PG_URL:-none}"

step "python: the sdist builds and installs (with the SQL migrations inside)"
deadline "python: sdist" 5 .venv/bin/maturin sdist --out "$work/sdist"
"$python" -m venv "$work/sdist-venv"
deadline "python: install the sdist (builds it)" 30 env MATURIN_PEP517_ARGS="--profile dev" \
    "$work/sdist-venv/bin/python" -m pip install -q "$work"/sdist/messagedb-*.tar.gz
deadline "python: the sdist works" 5 "$work/sdist-venv/bin/python" -c '
import messagedb, tempfile
with messagedb.Store.open(tempfile.mkdtemp()) as store:
    assert store.namespace("default").write("account-1", "Opened", {}).global_position == 1
print("sdist: installed and working")'

step "python: pytest (installed wheel; SQLite in memory, SQLite files, PostgreSQL)"
deadline "python: pytest" 20 "$venv/bin/python" -m pytest -p no:cacheprovider "$@"

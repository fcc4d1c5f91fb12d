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
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/messagedb/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
python=${PYTHON:-python3}

step() { printf '\n== %s\n' "$*"; }

work=$(mktemp -d)
cleanup() { rm -rf "$work"; }
trap cleanup EXIT

step "python: build the wheel (maturin, debug profile)"
if [ ! -x .venv/bin/maturin ]; then
    "$python" -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q "maturin>=1.9.4,<2"
fi
.venv/bin/maturin build --profile dev --strip --interpreter "$root/.venv/bin/python" --out "$work/dist"
wheel=$(ls "$work"/dist/messagedb-*.whl)

step "python: the server binary for the interop tests"
cargo build -p messagedb-server --locked
export MESSAGEDB_BIN="$CARGO_TARGET_DIR/debug/messagedb"

step "python: a fresh venv with the wheel"
"$python" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q --upgrade pip
"$work/venv/bin/python" -m pip install -q "$wheel[test]"

step "python: mypy (stubs, package, tests) and stubtest (stubs against the built module)"
"$work/venv/bin/python" -m mypy --config-file pyproject.toml
(cd "$work" && "$work/venv/bin/python" -m mypy.stubtest messagedb --mypy-config-file "$root/pyproject.toml")

if [ -z "${MESSAGEDB_TEST_PG_URL:-}" ] && [ "${CI:-}" != "true" ]; then
    step "python: throwaway PostgreSQL"
    eval "$(scripts/pg.sh start)"
    trap 'scripts/pg.sh stop "$MESSAGEDB_TEST_PG_DIR"; cleanup' EXIT
fi
echo "PostgreSQL for the tests: ${MESSAGEDB_TEST_PG_URL:-none}"

step "python: the sdist builds and installs (with the SQL migrations inside)"
.venv/bin/maturin sdist --out "$work/sdist"
"$python" -m venv "$work/sdist-venv"
MATURIN_PEP517_ARGS="--profile dev" "$work/sdist-venv/bin/python" -m pip install -q "$work"/sdist/messagedb-*.tar.gz
"$work/sdist-venv/bin/python" -c '
import messagedb, tempfile
with messagedb.Store.open(tempfile.mkdtemp()) as store:
    assert store.namespace("default").write("account-1", "Opened", {}).global_position == 1
print("sdist: installed and working")'

step "python: pytest (installed wheel; SQLite in memory, SQLite files, PostgreSQL)"
"$work/venv/bin/python" -m pytest -p no:cacheprovider "$@"
